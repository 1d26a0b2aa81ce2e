"""What the zone already holds, judged before anything registers.

The program looks the zone up once (`pulumi_mta_sts.dns.existing_records`) for adoption
(`mtasts.adoption`); the same answer carries the domain's live apex MX records. Every MX
host senders deliver to must be matched by the policy's `mx` patterns (RFC 8461 §4.1):
under `enforce` an uncovered host would have its mail refused, so the program stops before
anything changes; under `testing` it warns (reports will show the gap).
"""

from __future__ import annotations

from collections.abc import Iterable

from mtasts.adoption import ExistingRecord
from mtasts.config import Settings
from mtasts.names import normalize
from mtasts.rules import mx_coverage
from mtasts.rules.findings import Finding


def apex_mx_hosts(existing: Iterable[ExistingRecord], domain: str) -> list[str]:
    """The MX hosts at the domain's apex, as the zone holds them (the null MX left out)."""
    hosts = [
        normalize(record.content)
        for record in existing
        if record.type == "MX" and normalize(record.name) == domain and normalize(record.content)
    ]
    return list(dict.fromkeys(hosts))


def mx_coverage_findings(settings: Settings, existing: Iterable[ExistingRecord]) -> list[Finding]:
    """One finding per live MX host the served policy does not match, by its mode's severity."""
    policy = settings.policy
    hosts = apex_mx_hosts(existing, settings.domain)
    return mx_coverage.judge(policy.mode.value, policy.mx, hosts, domain=settings.domain)


def mx_fix(settings: Settings, finding: Finding) -> str:
    """The command that adds the uncovered host to the stack's `mx`."""
    return (
        f"add it to 'mx': `scripts/pulumi config set --path 'mx[{len(settings.mx)}]' {finding.subject}` "
        "(or a '*.' pattern matching it), or remove the MX record"
    )
