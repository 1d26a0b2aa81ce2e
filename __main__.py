"""Composition root: stack config → `mtasts` desired state → adoption plan → components → exports."""

import pulumi
import pulumi_cloudflare as cloudflare

from components.dns import existing_records
from components.domain import MtaStsDomain, MtaStsDomainArgs
from components.served import ServedPolicy, ServedPolicyArgs
from components.settings import read_settings
from mtasts.adoption import AdoptionError, plan_adoption
from mtasts.desired import desired_state
from mtasts.live import apex_mx_hosts, check_live_mx_tls, mx_coverage_findings, mx_fix
from mtasts.rules.findings import Severity

settings = read_settings()
state = desired_state(settings)

# Synchronous lookups: the adoption plan and the live MX hosts must be known before any resource registers.
zone_id = settings.zone_id or cloudflare.get_zone(filter={"name": settings.domain, "match": "all"}).id
existing = existing_records(zone_id, {settings.domain, *(record.name for record in state.records)})
live_tls = check_live_mx_tls(settings, existing)  # the MX hosts' STARTTLS and certificates, probed now
gaps = mx_coverage_findings(settings, existing) + live_tls.findings
if refused := [finding for finding in gaps if finding.failed]:
    listing = "\n".join(f"  - {finding.seen}; {mx_fix(settings, finding)}" for finding in refused)
    raise pulumi.RunError(
        "senders would refuse mail to the zone's MX hosts under this policy (RFC 8461 §4.1, §4.2). "
        f"Nothing was changed.\n{listing}"
    )
for finding in gaps:
    if finding.severity is Severity.WARN:
        pulumi.log.warn(f"{finding.seen}; {mx_fix(settings, finding)}")
plan = plan_adoption(state.records, existing, adopt=settings.adopt)
if plan.conflicts:
    raise pulumi.RunError(str(AdoptionError(plan)))
for key, record_id in sorted(plan.imports.items()):
    pulumi.log.info(f"adopting the existing record {record_id} as '{key}': it is updated in place")

live_mx = apex_mx_hosts(existing, settings.domain)
domain = MtaStsDomain(
    "mta-sts",
    MtaStsDomainArgs(
        state=state, zone_id=zone_id, adopted=plan.imports, live_mx_hosts=live_mx, live_mx_tls=live_tls.seen
    ),
)
# What was served, kept in the state: once the new id is advertised, its max_age counts.
served = ServedPolicy(
    "mta-sts-served",
    ServedPolicyArgs(
        policy_id=state.policy_id,
        max_age=state.policy.max_age,
        configured_max_age=settings.configured_policy.max_age,
        retire=settings.retire,
    ),
    opts=pulumi.ResourceOptions(depends_on=[domain.discovery.discovery]),
)

pulumi.export("policyUrl", domain.policy_url)
pulumi.export("policyId", state.policy_id)
pulumi.export("policyText", state.policy_text)
pulumi.export("repositoryUrl", domain.repository_url)
pulumi.export(
    "dnsRecords",
    [{"name": record.name, "type": record.type, "value": record.rdata} for record in state.records],
)
if domain.signing is not None:
    pulumi.export("dnssecDs", domain.signing.ds_fields)
if settings.retire:
    # `retire` overrides `mode` and `maxAge`: the served policy is `mode: none` (RFC 8461 §8.3).
    pulumi.log.warn(
        f"retire is set: serving `mode: none` with a new id instead of mode {settings.mode.value}. "
        "Keep this stack up until retireSafeToDestroyAfter (the first `up` with retire, plus the "
        "largest max_age this stack has served: senders may hold that policy so long), then run "
        "`scripts/pulumi destroy`. Later `up`s keep that time; none moves it earlier."
    )
    pulumi.export("retireSafeToDestroyAfter", served.safe_to_destroy_after)
