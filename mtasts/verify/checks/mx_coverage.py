"""The hosts senders deliver to, and whether the served policy's `mx` patterns match them.

The MX answer becomes a list of hosts (RFC 5321 §5: the domain itself without MX; none
behind a null MX, RFC 7505); `mtasts.rules.mx_coverage` says what a gap costs in the
policy's mode (RFC 8461 §4.1). The stack's own policy against those hosts is `stack_drift`'s.
"""

from __future__ import annotations

from mtasts.policy import Policy
from mtasts.rules import mx_coverage as rules_mx_coverage
from mtasts.verify.checks.phrasing import phrase
from mtasts.verify.dns import DnsResult
from mtasts.verify.model import MX_COVERAGE, Finding, Status
from mtasts.visible import NAMES_LISTED, listing


def hosts(domain: str, answer: DnsResult) -> tuple[list[str], list[Finding]]:
    """The hosts senders deliver to: the MX hosts, or the domain itself without MX (RFC 5321 §5)."""
    if not answer.ok:
        return [], [
            Finding(MX_COVERAGE, Status.FAIL, f"could not look up the MX records of {domain}: {answer.error}")
        ]
    if answer.nxdomain:
        return [], [
            Finding(MX_COVERAGE, Status.FAIL, f"{domain} does not exist (NXDOMAIN)", "check the domain name")
        ]
    by_preference = sorted(
        (int(preference), host)
        for preference, _, host in (record.partition(" ") for record in answer.records)
        if preference.isdigit()
    )
    hosts = list(dict.fromkeys(host for _, host in by_preference))
    if hosts == ["."]:
        return [], [
            Finding(MX_COVERAGE, Status.INFO, f"{domain} publishes a null MX (RFC 7505): it accepts no mail")
        ]
    if not hosts:
        return [domain], [
            Finding(
                MX_COVERAGE,
                Status.INFO,
                f"{domain} has no MX records: senders deliver to the domain itself "
                "(implicit MX, RFC 5321 §5)",
            )
        ]
    return [host for host in hosts if host != "."], []


def judge(domain: str, hosts: list[str], policy: Policy | None) -> list[Finding]:
    """Every MX host must match an `mx` pattern (`mtasts.rules.mx_coverage`, RFC 8461 §4.1)."""
    if not hosts:
        return []
    if policy is None:
        return [
            Finding(
                MX_COVERAGE, Status.INFO, "not judged: there is no valid policy to match MX hosts against"
            )
        ]
    findings = rules_mx_coverage.judge(policy.mode.value, policy.mx, hosts, domain=domain)
    if not findings:
        return [
            Finding(
                MX_COVERAGE,
                Status.PASS,
                f"every MX host is covered by the policy: {listing(hosts, NAMES_LISTED, show=str)}",
            )
        ]
    return phrase(MX_COVERAGE, findings)
