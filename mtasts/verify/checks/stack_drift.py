"""Live state against a stack's desired state: the id, the served text, every declared record.

Names a half-finished rollout (a new id over the old file, or the reverse; RFC 8461 §8),
records that differ from or sit beside the declared ones, and live apex MX hosts the
stack's own policy does not cover (`mtasts.rules.mx_coverage`, RFC 8461 §4.1), whether
or not the stack publishes them. Records are compared only at the (name, type) pairs the
stack declares; which to look up is the verifier's choice.
"""

from __future__ import annotations

from collections.abc import Mapping

from mtasts.desired import DesiredState
from mtasts.policy import policy_id
from mtasts.records import DnsRecord
from mtasts.rules import mx_coverage as rules_mx_coverage
from mtasts.rules.findings import Severity
from mtasts.verify.checks.phrasing import mx_pair, phrase
from mtasts.verify.dns import DnsResult
from mtasts.verify.model import STACK_DRIFT, Finding, Status
from mtasts.visible import listing, quoted


def judge(
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
                Status.FAIL,
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
                Status.FAIL,
                f"the stack's policy is served but DNS publishes id {live_id!r}, not {want_id}: senders keep "
                "their cached policy until the id changes",
                "finish the rollout: run `scripts/deploy` for this stack so the discovery record carries "
                "the new id",
            )
        )
    elif live_id != want_id or not served_matches:
        findings.append(
            Finding(
                STACK_DRIFT,
                Status.FAIL,
                f"live id {live_id!r} and served policy differ from the stack (id {want_id}; "
                f"served policy {'matches' if served_matches else 'differs'})",
                "run `scripts/deploy` for this stack, or `scripts/pulumi refresh` to see what changed",
            )
        )
    for (name, rdtype), answer in sorted(records.items()):
        declared = [r for r in expected.records if r.name == name and r.type == rdtype]
        if not declared:
            # The apex MX of a stack without `proton` belongs to the mail provider: only the
            # policy's coverage of it is the stack's business (below), not its records.
            continue
        if not answer.ok:
            findings.append(
                Finding(STACK_DRIFT, Status.FAIL, f"could not look up {name} {rdtype}: {answer.error}")
            )
            continue
        for record in declared:
            if not any(_matches(record, live) for live in answer.records):
                findings.append(
                    Finding(
                        STACK_DRIFT,
                        Status.FAIL,
                        f"the stack declares {record.name} {record.type} {record.rdata} but DNS has "
                        f"{answer.describe()}",
                        "run `scripts/deploy` for this stack (or `scripts/pulumi refresh` if it was changed "
                        "by hand)",
                    )
                )
        extra = [live for live in answer.records if not any(_matches(r, live) for r in declared)]
        if extra and (rdtype in ("A", "AAAA", "MX") or name.startswith("_")):
            findings.append(
                Finding(
                    STACK_DRIFT,
                    Status.WARN,
                    f"{name} {rdtype} also holds records the stack does not declare: "
                    + listing(extra, show=quoted),
                    "remove them unless they are managed elsewhere on purpose",
                )
            )
    findings += _mx_coverage(expected, records)
    if not any(finding.status in (Status.FAIL, Status.WARN) for finding in findings):
        findings.append(
            Finding(
                STACK_DRIFT,
                Status.PASS,
                f"live state matches the stack: id {want_id}, the policy text and "
                f"{len(expected.records)} records",
            )
        )
    return findings


def _matches(record: DnsRecord, live: str) -> bool:
    if record.type == "MX":
        return live == f"{record.priority} {record.value}"
    if record.type in ("A", "AAAA"):
        return live == record.value
    return live == record.value


def _mx_coverage(expected: DesiredState, records: Mapping[tuple[str, str], DnsResult]) -> list[Finding]:
    """The stack's own policy against the live apex MX hosts (`mtasts.rules.mx_coverage`), when
    the apex MX answer is among `records`: the gap `pulumi up` refuses (enforce) or warns about."""
    domain = expected.settings.domain
    answer = records.get((domain, "MX"))
    if answer is None or not answer.ok:
        return []
    hosts = [exchange for _, exchange in map(mx_pair, answer.records)]
    policy = expected.policy
    gaps = rules_mx_coverage.judge(policy.mode.value, policy.mx, hosts, domain=domain)
    return phrase(
        STACK_DRIFT, [gap for gap in gaps if gap.severity is not Severity.INFO], prefix="the stack's policy: "
    )
