"""What the zone already holds, judged before anything registers.

The program looks the zone up once (`pulumi_mta_sts.dns.existing_records`) for adoption
(`mtasts.adoption`); the same answer carries the domain's live apex MX records. Every MX
host senders deliver to must be matched by the policy's `mx` patterns (RFC 8461 §4.1):
under `enforce` an uncovered host would have its mail refused, so the program stops before
anything changes; under `testing` it warns (reports will show the gap). The same hosts'
TLS is probed now, as a sender would (`check_live_mx_tls`, weighed by `mtasts.rules.mx_tls`):
a host that would fail stops an `enforce` run, before the policy could refuse its mail.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from mtasts.adoption import ExistingRecord
from mtasts.config import Settings
from mtasts.names import normalize
from mtasts.rules import mx_coverage, mx_tls
from mtasts.rules.findings import Finding
from mtasts.visible import printable


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
    """The command that adds the uncovered host to the stack's `mx`; a TLS finding's own fix."""
    if finding.code != mx_coverage.UNCOVERED:
        return f"fix: {finding.fix}" if finding.fix else ""
    return (
        f"add it to 'mx': `scripts/pulumi config set --path 'mx[{len(settings.mx)}]' "
        f"{printable(finding.subject)}` "
        "(or a '*.' pattern matching it), or remove the MX record"
    )


@dataclass(frozen=True)
class LiveMxTls:
    """The live MX hosts' TLS as probed now (`seen`, also shown to the policy pack) and what
    it weighs under the stack's mode (`findings`)."""

    seen: tuple[mx_tls.MxTls, ...] = ()
    findings: list[Finding] = field(default_factory=list)


# One program often holds many domains, and most share their MX hosts (every Proton domain
# has the same two): the same hosts are probed once per PROBE_REUSE_SECONDS, not once per
# domain, so a stack of 200 domains waits for one probe, and a port 25 that the network
# blocks stalls the run once rather than 200 times. Keyed by the whole list of hosts, so
# a probe's DNS trouble is only ever told for the hosts it was about.
PROBE_REUSE_SECONDS = 600.0
_probed: dict[tuple[tuple[str, ...], str | None], tuple[float, list[mx_tls.MxTls]]] = {}


def probe_mx_tls(hosts: Sequence[str], ca_file: str | None = None) -> list[mx_tls.MxTls]:
    """Every address of every host probed as a sender would (`mtasts.verify.mx_check`)."""
    key = (tuple(hosts), ca_file)
    now = time.monotonic()
    earlier = _probed.get(key)
    if earlier is not None and now - earlier[0] < PROBE_REUSE_SECONDS:
        return list(earlier[1])
    from mtasts.verify.mx_check import check_mx_tls_sync  # the network side, loaded only when used

    check = check_mx_tls_sync(hosts, ca_file=ca_file)
    seen = [
        mx_tls.MxTls(e.host, e.address, e.outcome.value, e.result_type, e.message, e.fix)
        for e in check.entries
    ]
    seen += [mx_tls.MxTls("", "", "could-not-check", None, f.message) for f in check.findings]
    _probed[key] = (now, seen)
    return list(seen)


def forget_probes() -> None:
    """Probe every host afresh from now on (tests whose servers change under one name)."""
    _probed.clear()


def check_live_mx_tls(
    settings: Settings,
    existing: Iterable[ExistingRecord],
    probe: Callable[[Sequence[str]], list[mx_tls.MxTls]] | None = None,
) -> LiveMxTls:
    """Before anything registers: the zone's MX hosts that the policy covers, probed now, and
    the findings their TLS gives under the stack's mode (none under `none`). An uncovered
    host is `mx_coverage_findings`' to report."""
    policy = settings.policy
    if policy.mode.value not in ("enforce", "testing"):
        return LiveMxTls()
    hosts = [host for host in apex_mx_hosts(existing, settings.domain) if mx_coverage.covers(policy.mx, host)]
    if not hosts:
        return LiveMxTls()
    seen = tuple((probe or probe_mx_tls)(hosts))
    return LiveMxTls(seen, mx_tls.judge(policy.mode.value, seen, domain=settings.domain))
