"""The `_mta-sts.<domain>` TXT record as senders find it (RFC 8461 §3.1).

Applies `mtasts.rules.discovery` to the live answer and returns the policy id it announces;
whether the id matches a stack is `stack_drift`'s business.
"""

from __future__ import annotations

from mtasts.constants import discovery_name
from mtasts.rules import discovery as rules_discovery
from mtasts.verify.checks.phrasing import phrase
from mtasts.verify.dns import DnsResult
from mtasts.verify.model import DISCOVERY, Finding, Status
from mtasts.visible import quoted


def judge(domain: str, answer: DnsResult) -> tuple[list[Finding], str | None]:
    """`_mta-sts.<domain>` TXT, judged by `mtasts.rules.discovery` (RFC 8461 §3.1)."""
    name = discovery_name(domain)
    publish = f'publish one TXT record at {name}: "v=STSv1; id=<1–32 letters and digits>"'
    if not answer.ok:
        return [
            Finding(DISCOVERY, Status.FAIL, f"could not look up {name} TXT: {answer.error}", publish)
        ], None
    if not answer.records:
        seen = "does not exist" if answer.nxdomain else "has no TXT records"
        return [
            Finding(DISCOVERY, Status.FAIL, f"{name} {seen}: senders see no MTA-STS policy", publish)
        ], None
    verdict = rules_discovery.judge(list(answer.records), name)
    findings = phrase(DISCOVERY, verdict.findings)
    if verdict.id is None:
        return findings, None
    findings.append(
        Finding(DISCOVERY, Status.PASS, f"{name} publishes {quoted(verdict.record or '')} (id {verdict.id})")
    )
    return findings, verdict.id
