"""Composition root: stack config → `mtasts` desired state → components → exports."""

import pulumi
import pulumi_cloudflare as cloudflare

from components.domain import MtaStsDomain, MtaStsDomainArgs
from components.settings import read_settings
from mtasts.desired import desired_state

settings = read_settings()
state = desired_state(settings)

if not settings.tls_rpt:
    pulumi.log.warn(
        "tlsRpt is not set, so no _smtp._tls record is published: senders will not report TLS "
        "failures, and you cannot tell whether `mode: enforce` would refuse mail. "
        "Set it with `pulumi config set --path 'tlsRpt[0]' mailto:tls-reports@" + settings.domain + "`."
    )

zone_id = settings.zone_id or cloudflare.get_zone_output(filter={"name": settings.domain, "match": "all"}).id
domain = MtaStsDomain("mta-sts", MtaStsDomainArgs(state=state, zone_id=zone_id))

pulumi.export("policyUrl", domain.policy_url)
pulumi.export("policyId", state.policy_id)
pulumi.export("policyText", state.policy_text)
pulumi.export("repositoryUrl", domain.repository_url)
pulumi.export(
    "dnsRecords",
    [{"name": record.name, "type": record.type, "value": record.rdata} for record in state.records],
)
