"""The policy file as senders fetch it: every address's HTTPS response, then its syntax.

`fetch` judges the responses: connection and certificate here, each answer's status,
redirect, media type, size and ASCII by `mtasts.rules.policy_fetch`, then one policy across
addresses (RFC 8461 §3.2, §3.3); `syntax` applies `mtasts.rules.policy_file` to the text
served. Fetching is `mtasts.verify.https`'s; whether the text is the stack's, `stack_drift`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from mtasts.constants import policy_url_at
from mtasts.policy import Policy, policy_id
from mtasts.rules import policy_fetch as rules_policy_fetch
from mtasts.rules import policy_file as rules_policy_file
from mtasts.verify.checks.phrasing import phrase
from mtasts.verify.dns import DnsResult
from mtasts.verify.https import FetchResult
from mtasts.verify.model import POLICY_FETCH, POLICY_SYNTAX, Finding, Status
from mtasts.visible import NAMES_LISTED, listing, visible


def fetch(
    host: str, addresses: DnsResult | Sequence[DnsResult], attempts: list[FetchResult]
) -> tuple[list[Finding], str | None]:
    """The HTTPS responses for the policy, one per address of the host (RFC 8461 §3.2, §3.3).

    A sender connects to whichever A or AAAA address it picks, so every address must serve
    the same valid policy: each one that does not is a failure naming the address. Returns
    the text served by the first address that served one.
    """
    url = policy_url_at(host)
    answers = [addresses] if isinstance(addresses, DnsResult) else list(addresses)
    if not attempts:
        broken = [answer for answer in answers if answer.error or answer.nxdomain]
        seen = broken[0].describe() if broken else f"no A or AAAA records at {host}"
        return [
            Finding(
                POLICY_FETCH,
                Status.FAIL,
                f"{host} has no address ({seen}): senders cannot fetch the policy",
                f"publish A records for {host} pointing at the host that serves {url}",
            )
        ], None
    judged = [_response(host, attempt) for attempt in attempts]
    texts = {
        attempt.address: text for attempt, (_, text) in zip(attempts, judged, strict=True) if text is not None
    }
    text = next(iter(texts.values()), None)
    failures = [finding for findings, _ in judged for finding in findings if finding.status is Status.FAIL]
    if failures:
        return failures, text
    if len(set(texts.values())) > 1:
        by_id: dict[str, list[str]] = {}
        for address, served in texts.items():
            by_id.setdefault(policy_id(served), []).append(address)
        groups = [
            f"{listing(where, NAMES_LISTED, show=str)} serve(s) a policy with id {id_}"
            for id_, where in by_id.items()
        ]
        shown = listing(groups, NAMES_LISTED, show=str, separator="; ")
        return [
            Finding(
                POLICY_FETCH,
                Status.FAIL,
                f"the addresses of {host} serve different policies ({shown}): each sender sees the one "
                "at the address it picks (RFC 8461 §3.3)",
                "wait until the host's deploy reaches every address, or remove the A/AAAA records that "
                "point at a host serving another file",
            )
        ], text
    if len(attempts) == 1:
        return judged[0][0], text
    every = listing([attempt.address for attempt in attempts], NAMES_LISTED, show=str)
    return [
        Finding(finding.check, finding.status, f"{finding.message}; the same from every address ({every})")
        for finding in judged[0][0]
    ], text


def _response(host: str, result: FetchResult) -> tuple[list[Finding], str | None]:
    """One address's answer for the policy (RFC 8461 §3.2, §3.3)."""
    url = policy_url_at(host)
    if result.error is not None:
        tried = f"{result.address}: {result.error}"
        fixes = {
            "certificate": (
                f"serve a certificate valid for {host} that chains to a trusted root "
                "(Netlify and GitHub Pages issue one once the custom domain is set and DNS points at them)"
            ),
            "tls": f"serve {host} over TLS 1.2 or newer with a valid certificate",
        }
        what = {
            "certificate": "the certificate was rejected",
            "tls": "the TLS handshake failed",
            "timeout": "timed out",
        }.get(result.error_kind or "", "could not connect")
        return [
            Finding(
                POLICY_FETCH,
                Status.FAIL,
                f"{url}: {what} ({tried}): senders cannot fetch the policy",
                fixes.get(result.error_kind or "", f"make {host} answer HTTPS on port 443"),
            )
        ], None
    where = f"{url} (from {result.address}, {result.tls_version or 'TLS'})"
    answer = rules_policy_fetch.Response(
        result.status, result.location, result.content_type, result.body, result.too_large
    )
    judged = rules_policy_fetch.response(host, answer, where)
    findings = phrase(POLICY_FETCH, judged)
    if result.body is None or any(finding.code in rules_policy_fetch.NO_BODY for finding in judged):
        return findings, None
    if not findings:
        findings.append(
            Finding(
                POLICY_FETCH,
                Status.PASS,
                f"{where}: HTTP 200, {visible(result.content_type or '')}, {len(result.body)} bytes",
            )
        )
    return findings, result.body.decode("utf-8", "replace")


def syntax(text: str | None) -> tuple[list[Finding], Policy | None]:
    """RFC 8461 §3.2 syntax, judged by `mtasts.rules.policy_file`."""
    if text is None:
        # Not a second failure: policy-fetch already says why there is no text.
        return [Finding(POLICY_SYNTAX, Status.INFO, "not judged: no policy text was fetched")], None
    parsed = rules_policy_file.parse(text)
    findings = phrase(POLICY_SYNTAX, parsed.findings, prefix="the served policy: ")
    if not parsed.valid or parsed.mode is None or parsed.max_age is None:
        return findings, None
    policy = Policy(mode=parsed.mode, max_age=parsed.max_age, mx=parsed.mx)
    patterns = listing(policy.mx, NAMES_LISTED, show=str) or "(none)"
    summary = f"mode {policy.mode.value}, max_age {policy.max_age}, mx {patterns}"
    short = rules_policy_file.short_max_age(policy.mode, policy.max_age)
    weak = phrase(POLICY_SYNTAX, [short] if short else [], prefix="the served policy: ")
    if any(finding.failed for finding in parsed.findings):
        # A repeated field (RFC 8461 §3.2): the first value counts for senders that follow the RFC.
        applied = f"senders following RFC 8461 §3.2 apply the first of each repeated field: {summary}"
        return [*findings, Finding(POLICY_SYNTAX, Status.INFO, applied), *weak], policy
    return [*findings, Finding(POLICY_SYNTAX, Status.PASS, f"the policy is valid: {summary}"), *weak], policy
