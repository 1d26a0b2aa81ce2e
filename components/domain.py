"""MTA-STS and TLS-RPT for one mail domain: repository, hosting, DNS, in a safe order.

Everything runs in parallel except what RFC 8461 §8 orders: the `_mta-sts` record waits for
`PolicyReadiness`, which waits for the hosting to serve the rendered policy. The other
records and the repository are created concurrently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.dns import (
    DiscoveryRecords,
    DiscoveryRecordsArgs,
    MailRecords,
    PolicyHostRecords,
    RecordSetArgs,
)
from components.dnssec import ZoneSigning, ZoneSigningArgs
from components.hosting import GitHubPagesSite, GitHubPagesSiteArgs, NetlifyHosting, NetlifyHostingArgs
from components.readiness import PolicyReadiness
from components.repository import PolicyRepository, PolicyRepositoryArgs
from mtasts.config import Hosting
from mtasts.desired import DesiredState
from mtasts.rules.mx_tls import MxTls


@dataclass(frozen=True)
class MtaStsDomainArgs:
    """`adopted`: record key → id of an existing record to import (`mtasts.adoption`).
    `live_mx_hosts`: the apex MX hosts the zone holds (`mtasts.live`), shown to the policy pack,
    and `live_mx_tls` their TLS as probed before anything registered (`mtasts.live.check_live_mx_tls`)."""

    state: DesiredState
    zone_id: pulumi.Input[str]
    adopted: Mapping[str, str] = field(default_factory=dict)
    live_mx_hosts: Sequence[str] = ()
    live_mx_tls: Sequence[MxTls] = ()


class MtaStsDomain(pulumi.ComponentResource):
    policy_url: pulumi.Output[str]
    repository_url: pulumi.Output[str]
    served_policy_id: pulumi.Output[str]
    mail: MailRecords | None
    signing: ZoneSigning | None

    def __init__(self, name: str, args: MtaStsDomainArgs, opts: pulumi.ResourceOptions | None = None):
        # Inputs only the policy pack reads: the pack sees resources, not the zone's live MX records.
        inputs = {
            "domain": args.state.settings.domain,
            "liveMxHosts": list(args.live_mx_hosts),
            "liveMxTls": [entry.to_dict() for entry in args.live_mx_tls],
        }
        super().__init__("mta-sts:index:MtaStsDomain", name, inputs, opts)
        state, settings = args.state, args.state.settings
        child = pulumi.ResourceOptions(parent=self)

        self.repository = PolicyRepository(
            f"{name}-repo",
            PolicyRepositoryArgs(
                name=settings.repository,
                description=f"MTA-STS policy for {settings.domain}, served at {settings.policy_url}",
                files=state.files,
            ),
            child,
        )
        host_records = [record for record in state.records if record.name == settings.policy_host]
        self.host_records = PolicyHostRecords(
            f"{name}-host",
            RecordSetArgs(zone_id=args.zone_id, records=host_records, adopted=args.adopted),
            child,
        )
        self.signing = (
            ZoneSigning(f"{name}-dnssec", ZoneSigningArgs(zone_id=args.zone_id), child)
            if settings.dnssec
            else None
        )

        hosting: GitHubPagesSite | NetlifyHosting
        if settings.hosting is Hosting.GITHUB_PAGES:
            hosting = GitHubPagesSite(
                f"{name}-pages",
                GitHubPagesSiteArgs(
                    repository=self.repository.repository_name,
                    custom_domain=settings.policy_host,
                    published_files=list(self.repository.files.values()),
                ),
                child,
            )
        else:
            hosting = NetlifyHosting(
                f"{name}-netlify",
                NetlifyHostingArgs(
                    custom_domain=settings.policy_host,
                    files=state.files,
                    certificate_timeout=settings.readiness_timeout,
                    dns_ready=[self.host_records],
                ),
                child,
            )
        self.hosting = hosting

        self.readiness = PolicyReadiness(
            f"{name}-readiness",
            domain=settings.domain,
            policy_text=state.policy_text,
            policy_id=state.policy_id,
            timeout_seconds=settings.readiness_timeout,
            served_by=hosting.served_by,
            # The host's records must exist for the name to resolve and the certificate to issue.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.host_records, self.repository]),
        )
        tls_rpt = next((record for record in state.records if record.key == "tls-rpt"), None)
        self.discovery = DiscoveryRecords(
            f"{name}-discovery",
            DiscoveryRecordsArgs(
                zone_id=args.zone_id,
                discovery=state.discovery_record,
                tls_rpt=tls_rpt,
                advertise_after=[self.readiness],
                adopted=args.adopted,
            ),
            child,
        )

        # Proton's records are independent of the policy, except the apex MX: RFC 8461 §8
        # publishes a policy that covers a new MX host before the MX record names it, so a
        # sender never meets an MX host its cached policy would refuse.
        self.mail = (
            MailRecords(
                f"{name}-mail",
                RecordSetArgs(
                    zone_id=args.zone_id,
                    records=state.mail_records,
                    adopted=args.adopted,
                    mx_after=[self.discovery.discovery],
                ),
                child,
            )
            if state.mail_records
            else None
        )

        self.policy_url = pulumi.Output.from_input(settings.policy_url)
        self.repository_url = self.repository.html_url
        self.served_policy_id = self.readiness.policy_id
        self.register_outputs(
            {
                "policy_url": self.policy_url,
                "repository_url": self.repository_url,
                "served_policy_id": self.served_policy_id,
            }
        )
