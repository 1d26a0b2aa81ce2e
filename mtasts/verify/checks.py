"""The judgement: DNS answers and HTTP responses in, findings out. No network here.

Each function takes what was seen (plain values from `dns` and `https`) and says, per the
rules of RFC 8461 and RFC 8460, whether a strict sender would accept it and
what to do if not. The rules themselves live in the core (`mtasts.rules`); this module
applies them to what was seen and phrases their findings for the command line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from mtasts.desired import DesiredState
from mtasts.policy import MAX_POLICY_BYTES, Policy, policy_id
from mtasts.records import DnsRecord
from mtasts.rules import discovery as rules_discovery
from mtasts.rules import mx_coverage as rules_mx_coverage
from mtasts.rules import policy_file, policy_host, tlsrpt
from mtasts.rules.findings import Finding as RuleFinding
from mtasts.rules.findings import Severity
from mtasts.verify.dns import DnsResult
from mtasts.verify.https import FetchResult
from mtasts.verify.model import (
    DANE,
    DISCOVERY,
    DNSSEC,
    MX_COVERAGE,
    POLICY_FETCH,
    POLICY_HOST_CNAME,
    POLICY_HOST_NULL_MX,
    POLICY_HOST_SPF,
    POLICY_SYNTAX,
    STACK_DRIFT,
    TLS_RPT,
    Finding,
    Status,
)

_FAIL, _WARN, _PASS, _INFO = Status.FAIL, Status.WARN, Status.PASS, Status.INFO
_STATUS = {Severity.FAIL: _FAIL, Severity.WARN: _WARN, Severity.INFO: _INFO}


def _phrase(check: str, findings: Iterable[RuleFinding], prefix: str = "") -> list[Finding]:
    """A rule's findings as verify reports them: what was seen with its RFC section, and the fix."""
    return [Finding(check, _STATUS[f.severity], prefix + f.text(), f.fix) for f in findings]


def _mx_pair(record: str) -> tuple[int | None, str]:
    """`"10 mail.example.com."` as (10, "mail.example.com.")."""
    preference, _, exchange = record.partition(" ")
    return (int(preference) if preference.isdigit() else None), exchange


def discovery(domain: str, answer: DnsResult) -> tuple[list[Finding], str | None]:
    """`_mta-sts.<domain>` TXT, judged by `mtasts.rules.discovery` (RFC 8461 §3.1)."""
    name = f"_mta-sts.{domain}"
    publish = f'publish one TXT record at {name}: "v=STSv1; id=<1–32 letters and digits>"'
    if not answer.ok:
        return [Finding(DISCOVERY, _FAIL, f"could not look up {name} TXT: {answer.error}", publish)], None
    if not answer.records:
        seen = "does not exist" if answer.nxdomain else "has no TXT records"
        return [Finding(DISCOVERY, _FAIL, f"{name} {seen}: senders see no MTA-STS policy", publish)], None
    verdict = rules_discovery.judge(list(answer.records), name)
    findings = _phrase(DISCOVERY, verdict.findings)
    if verdict.id is None:
        return findings, None
    findings.append(Finding(DISCOVERY, _PASS, f"{name} publishes {verdict.record!r} (id {verdict.id})"))
    return findings, verdict.id


def policy_fetch(
    host: str, addresses: DnsResult | Sequence[DnsResult], attempts: list[FetchResult]
) -> tuple[list[Finding], str | None]:
    """The HTTPS responses for the policy, one per address of the host (RFC 8461 §3.2, §3.3).

    A sender connects to whichever A or AAAA address it picks, so every address must serve
    the same valid policy: each one that does not is a failure naming the address. Returns
    the text served by the first address that served one.
    """
    url = f"https://{host}/.well-known/mta-sts.txt"
    answers = [addresses] if isinstance(addresses, DnsResult) else list(addresses)
    if not attempts:
        broken = [answer for answer in answers if answer.error or answer.nxdomain]
        seen = broken[0].describe() if broken else f"no A or AAAA records at {host}"
        return [
            Finding(
                POLICY_FETCH,
                _FAIL,
                f"{host} has no address ({seen}): senders cannot fetch the policy",
                f"publish A records for {host} pointing at the host that serves {url}",
            )
        ], None
    judged = [_policy_response(host, attempt) for attempt in attempts]
    texts = {
        attempt.address: text for attempt, (_, text) in zip(attempts, judged, strict=True) if text is not None
    }
    text = next(iter(texts.values()), None)
    failures = [finding for findings, _ in judged for finding in findings if finding.status is _FAIL]
    if failures:
        return failures, text
    if len(set(texts.values())) > 1:
        by_id: dict[str, list[str]] = {}
        for address, served in texts.items():
            by_id.setdefault(policy_id(served), []).append(address)
        listing = "; ".join(
            f"{', '.join(where)} serve(s) a policy with id {id_}" for id_, where in by_id.items()
        )
        return [
            Finding(
                POLICY_FETCH,
                _FAIL,
                f"the addresses of {host} serve different policies ({listing}): each sender sees the one "
                "at the address it picks (RFC 8461 §3.3)",
                "wait until the host's deploy reaches every address, or remove the A/AAAA records that "
                "point at a host serving another file",
            )
        ], text
    if len(attempts) == 1:
        return judged[0][0], text
    every = ", ".join(attempt.address for attempt in attempts)
    return [
        Finding(finding.check, finding.status, f"{finding.message}; the same from every address ({every})")
        for finding in judged[0][0]
    ], text


def _policy_response(host: str, result: FetchResult) -> tuple[list[Finding], str | None]:
    """One address's answer for the policy (RFC 8461 §3.2, §3.3)."""
    url = f"https://{host}/.well-known/mta-sts.txt"
    if result.error is not None:
        tried = f"{result.address}: {result.error}"
        fixes = {
            "certificate": (
                f"serve a certificate valid for {host} that chains to a trusted root "
                "(Netlify and GitHub Pages issue one once the custom domain is set and DNS points at them)"
            ),
            "tls": f"serve {host} over TLS 1.2 or newer with a valid certificate",
        }
        what = {"certificate": "the certificate was rejected", "tls": "the TLS handshake failed"}.get(
            result.error_kind or "", "could not connect"
        )
        return [
            Finding(
                POLICY_FETCH,
                _FAIL,
                f"{url}: {what} ({tried}): senders cannot fetch the policy",
                fixes.get(result.error_kind or "", f"make {host} answer HTTPS on port 443"),
            )
        ], None
    where = f"{url} (from {result.address}, {result.tls_version or 'TLS'})"
    if result.status is not None and 300 <= result.status < 400:
        return [
            Finding(
                POLICY_FETCH,
                _FAIL,
                f"{where} answers HTTP {result.status} redirecting to {result.location or '(no Location)'}; "
                "senders do not follow redirects (RFC 8461 §3.3)",
                f"serve the file directly at {url}; on Netlify, {host} must be the site's own custom domain, "
                "not an alias that redirects",
            )
        ], None
    if result.status != 200:
        return [
            Finding(
                POLICY_FETCH,
                _FAIL,
                f"{where} answers HTTP {result.status}, not 200: senders see no policy",
                f"serve the policy file at {url} (RFC 8461 §3.2)",
            )
        ], None
    if result.too_large or result.body is None:
        return [
            Finding(
                POLICY_FETCH,
                _FAIL,
                f"{where} is larger than {MAX_POLICY_BYTES} bytes; senders refuse it (stopped reading there)",
                "serve the policy file only: a few lines of 'key: value'",
            )
        ], None
    findings: list[Finding] = []
    media_type = (result.content_type or "").split(";")[0].strip().lower()
    if media_type != "text/plain":
        findings.append(
            Finding(
                POLICY_FETCH,
                _FAIL,
                f"{where} is served as {result.content_type or 'no Content-Type'!r}, not text/plain; "
                "strict senders refuse it (RFC 8461 §3.2)",
                "serve /.well-known/mta-sts.txt with 'Content-Type: text/plain' (Netlify: a _headers file)",
            )
        )
    if not result.body.isascii():
        findings.append(
            Finding(
                POLICY_FETCH,
                _FAIL,
                f"{where} contains non-ASCII bytes",
                "write the policy in plain ASCII (RFC 8461 §3.2)",
            )
        )
    if not findings:
        findings.append(
            Finding(
                POLICY_FETCH, _PASS, f"{where}: HTTP 200, {result.content_type}, {len(result.body)} bytes"
            )
        )
    return findings, result.body.decode("utf-8", "replace")


def policy_syntax(text: str | None) -> tuple[list[Finding], Policy | None]:
    """RFC 8461 §3.2 syntax, judged by `mtasts.rules.policy_file`."""
    if text is None:
        # Not a second failure: policy-fetch already says why there is no text.
        return [Finding(POLICY_SYNTAX, _INFO, "not judged: no policy text was fetched")], None
    parsed = policy_file.parse(text)
    findings = _phrase(POLICY_SYNTAX, parsed.findings, prefix="the served policy: ")
    if not parsed.valid or parsed.mode is None or parsed.max_age is None:
        return findings, None
    policy = Policy(mode=parsed.mode, max_age=parsed.max_age, mx=parsed.mx)
    summary = f"mode {policy.mode.value}, max_age {policy.max_age}, mx {', '.join(policy.mx) or '(none)'}"
    return [*findings, Finding(POLICY_SYNTAX, _PASS, f"the policy is valid: {summary}")], policy


def mx_hosts(domain: str, answer: DnsResult) -> tuple[list[str], list[Finding]]:
    """The hosts senders deliver to: the MX hosts, or the domain itself without MX (RFC 5321 §5)."""
    if not answer.ok:
        return [], [
            Finding(MX_COVERAGE, _FAIL, f"could not look up the MX records of {domain}: {answer.error}")
        ]
    if answer.nxdomain:
        return [], [
            Finding(MX_COVERAGE, _FAIL, f"{domain} does not exist (NXDOMAIN)", "check the domain name")
        ]
    by_preference = sorted(
        (int(preference), host)
        for preference, _, host in (record.partition(" ") for record in answer.records)
        if preference.isdigit()
    )
    hosts = list(dict.fromkeys(host for _, host in by_preference))
    if hosts == ["."]:
        return [], [
            Finding(MX_COVERAGE, _INFO, f"{domain} publishes a null MX (RFC 7505): it accepts no mail")
        ]
    if not hosts:
        return [domain], [
            Finding(
                MX_COVERAGE,
                _INFO,
                f"{domain} has no MX records: senders deliver to the domain itself "
                "(implicit MX, RFC 5321 §5)",
            )
        ]
    return [host for host in hosts if host != "."], []


def mx_coverage(domain: str, hosts: list[str], policy: Policy | None) -> list[Finding]:
    """Every MX host must match an `mx` pattern (`mtasts.rules.mx_coverage`, RFC 8461 §4.1)."""
    if not hosts:
        return []
    if policy is None:
        return [Finding(MX_COVERAGE, _INFO, "not judged: there is no valid policy to match MX hosts against")]
    findings = rules_mx_coverage.judge(policy.mode.value, policy.mx, hosts, domain=domain)
    if not findings:
        return [Finding(MX_COVERAGE, _PASS, f"every MX host is covered by the policy: {', '.join(hosts)}")]
    return _phrase(MX_COVERAGE, findings)


def policy_host_null_mx(host: str, answer: DnsResult) -> list[Finding]:
    """RFC 7505: the policy host has an address, so without a null MX it would receive mail."""
    if not answer.ok:
        fix = f"publish 'MX 0 .' at {host}"
        return [Finding(POLICY_HOST_NULL_MX, _WARN, f"could not look up MX at {host}: {answer.error}", fix)]
    pairs = [_mx_pair(record) for record in answer.records]
    findings = policy_host.null_mx(host, pairs)
    if not findings:
        return [Finding(POLICY_HOST_NULL_MX, _PASS, f"{host} publishes the null MX '0 .'")]
    return _phrase(POLICY_HOST_NULL_MX, findings)


def policy_host_spf(host: str, answer: DnsResult) -> list[Finding]:
    """RFC 7208: say that the policy host sends no mail (`mtasts.rules.policy_host`)."""
    if not answer.ok:
        fix = f'publish TXT "v=spf1 -all" at {host}'
        return [Finding(POLICY_HOST_SPF, _WARN, f"could not look up TXT at {host}: {answer.error}", fix)]
    findings = policy_host.spf(host, list(answer.records))
    if not findings:
        return [Finding(POLICY_HOST_SPF, _PASS, f"{host} publishes 'v=spf1 -all'")]
    return _phrase(POLICY_HOST_SPF, findings)


def policy_host_cname(host: str, answer: DnsResult) -> list[Finding]:
    """A CNAME cannot share its name with the null MX and SPF records (RFC 1034 §3.6.2)."""
    if not answer.ok:
        return [Finding(POLICY_HOST_CNAME, _WARN, f"could not look up CNAME at {host}: {answer.error}")]
    findings = policy_host.cname(host, list(answer.records))
    if not findings:
        return [Finding(POLICY_HOST_CNAME, _PASS, f"{host} is not a CNAME")]
    return _phrase(POLICY_HOST_CNAME, findings)


def tls_rpt(domain: str, answer: DnsResult) -> list[Finding]:
    """`_smtp._tls.<domain>`, judged by `mtasts.rules.tlsrpt` (RFC 8460 §3)."""
    name = f"_smtp._tls.{domain}"
    if not answer.ok:
        publish = f'publish TXT "v=TLSRPTv1; rua=mailto:tls-reports@{domain}" at {name}'
        return [Finding(TLS_RPT, _WARN, f"could not look up {name} TXT: {answer.error}", publish)]
    verdict = tlsrpt.judge(list(answer.records), name, domain)
    findings = _phrase(TLS_RPT, verdict.findings)
    if verdict.uris:
        findings.append(Finding(TLS_RPT, _PASS, f"{name} sends reports to {', '.join(verdict.uris)}"))
    return findings


def dnssec(domain: str, answers: list[DnsResult]) -> list[Finding]:
    """Information only: the AD bit a validating resolver sets on the domain's answers."""
    usable = [answer for answer in answers if answer.ok]
    if usable and all(answer.authenticated for answer in usable):
        return [Finding(DNSSEC, _INFO, f"the resolver validated {domain}'s answers with DNSSEC (AD bit set)")]
    return [
        Finding(
            DNSSEC,
            _INFO,
            f"{domain}'s answers are not DNSSEC-validated by the resolver (no AD bit); "
            "DANE for its MX hosts cannot take effect",
        )
    ]


def dane(hosts: list[str], answers: Mapping[str, DnsResult]) -> list[Finding]:
    """Information only: whether MX hosts publish TLSA records at `_25._tcp.<host>`."""
    if not hosts:
        return []
    with_tlsa = [host for host in hosts if answers.get(host) and answers[host].records]
    without = [host for host in hosts if host not in with_tlsa]
    parts = []
    if with_tlsa:
        parts.append(f"TLSA records at _25._tcp of {', '.join(with_tlsa)}")
    if without:
        parts.append(f"no TLSA records at _25._tcp of {', '.join(without)}")
    return [Finding(DANE, _INFO, "DANE: " + "; ".join(parts))]


def _matches(record: DnsRecord, live: str) -> bool:
    if record.type == "MX":
        return live == f"{record.priority} {record.value}"
    if record.type in ("A", "AAAA"):
        return live == record.value
    return live == record.value


def stack_drift(
    expected: DesiredState,
    live_id: str | None,
    served_text: str | None,
    records: Mapping[tuple[str, str], DnsResult],
) -> list[Finding]:
    """Live state against the stack's desired state, naming a half-finished rollout (RFC 8461 §8)."""
    findings: list[Finding] = []
    want_id, want_text = expected.policy_id, expected.policy_text
    served_matches = served_text == want_text
    if live_id == want_id and served_text is not None and not served_matches:
        served_id = policy_id(served_text)
        findings.append(
            Finding(
                STACK_DRIFT,
                _FAIL,
                f"DNS publishes the stack's new id {want_id} but the served policy is not the stack's "
                f"(its text would have id {served_id}): senders would cache the old policy under the new id "
                "(RFC 8461 §8)",
                "serve the new policy file first (check the repository and the host's deploy), then keep "
                "the id; if senders already cached it, publish a new id once the right file is served",
            )
        )
    elif live_id != want_id and served_matches:
        findings.append(
            Finding(
                STACK_DRIFT,
                _FAIL,
                f"the stack's policy is served but DNS publishes id {live_id!r}, not {want_id}: senders keep "
                "their cached policy until the id changes",
                "finish the rollout: run `pulumi up` so the discovery record carries the new id",
            )
        )
    elif live_id != want_id or not served_matches:
        findings.append(
            Finding(
                STACK_DRIFT,
                _FAIL,
                f"live id {live_id!r} and served policy differ from the stack (id {want_id}; "
                f"served policy {'matches' if served_matches else 'differs'})",
                "run `pulumi up` for this stack, or `pulumi refresh` to see what changed",
            )
        )
    for (name, rdtype), answer in sorted(records.items()):
        declared = [r for r in expected.records if r.name == name and r.type == rdtype]
        if not answer.ok:
            findings.append(Finding(STACK_DRIFT, _FAIL, f"could not look up {name} {rdtype}: {answer.error}"))
            continue
        for record in declared:
            if not any(_matches(record, live) for live in answer.records):
                findings.append(
                    Finding(
                        STACK_DRIFT,
                        _FAIL,
                        f"the stack declares {record.name} {record.type} {record.rdata} but DNS has "
                        f"{answer.describe()}",
                        "run `pulumi up` for this stack (or `pulumi refresh` if it was changed by hand)",
                    )
                )
        extra = [live for live in answer.records if not any(_matches(r, live) for r in declared)]
        if extra and (rdtype in ("A", "AAAA", "MX") or name.startswith("_")):
            findings.append(
                Finding(
                    STACK_DRIFT,
                    _WARN,
                    f"{name} {rdtype} also holds records the stack does not declare: "
                    + ", ".join(repr(text) for text in extra),
                    "remove them unless they are managed elsewhere on purpose",
                )
            )
    findings += _stack_mx_coverage(expected, records)
    if not any(finding.status in (_FAIL, _WARN) for finding in findings):
        findings.append(
            Finding(
                STACK_DRIFT,
                _PASS,
                f"live state matches the stack: id {want_id}, the policy text and "
                f"{len(expected.records)} records",
            )
        )
    return findings


def _stack_mx_coverage(expected: DesiredState, records: Mapping[tuple[str, str], DnsResult]) -> list[Finding]:
    """The stack's own policy against the live apex MX hosts (`mtasts.rules.mx_coverage`), when
    the apex MX answer is among `records`: the gap `pulumi up` refuses (enforce) or warns about."""
    domain = expected.settings.domain
    answer = records.get((domain, "MX"))
    if answer is None or not answer.ok:
        return []
    hosts = [exchange for _, exchange in map(_mx_pair, answer.records)]
    policy = expected.policy
    gaps = rules_mx_coverage.judge(policy.mode.value, policy.mx, hosts, domain=domain)
    return _phrase(
        STACK_DRIFT, [gap for gap in gaps if gap.severity is not Severity.INFO], prefix="the stack's policy: "
    )
