"""Cloudflare DNS records for the domain, from the core's `DnsRecord` values.

Two components so that the engine can order them: `PolicyHostRecords` (the policy host's
A, null MX and SPF records, which hosting needs before it can get a certificate) and
`DiscoveryRecords` (`_mta-sts`, advertised only once the policy is served, and
`_smtp._tls`). Records outside this stack in the zone are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_cloudflare as cloudflare

from mtasts.records import DnsRecord


def cloudflare_record(
    component: str, record: DnsRecord, zone_id: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> cloudflare.DnsRecord:
    """One `cloudflare.DnsRecord` for one core record.

    Full names, not labels: Cloudflare answers with the full name and a label drifts after
    every refresh (cloudflare/terraform-provider-cloudflare#7289). TXT content is quoted as
    Cloudflare stores it (cloudflare/terraform-provider-cloudflare#6331). Never proxied:
    Netlify and Pages can only get a certificate for DNS-only records (rules: hosting).
    """
    return cloudflare.DnsRecord(
        f"{component}-{record.key}",
        zone_id=zone_id,
        name=record.name,
        type=record.type,
        content=record.content,
        priority=record.priority,
        ttl=record.ttl,
        proxied=False,
        comment="managed by the mta-sts stack",
        opts=opts,
    )


@dataclass(frozen=True)
class PolicyHostRecordsArgs:
    zone_id: pulumi.Input[str]
    records: Sequence[DnsRecord]


class PolicyHostRecords(pulumi.ComponentResource):
    """A records to the host, null MX and `v=spf1 -all` at `mta-sts.<domain>` (rules §null MX)."""

    records: dict[str, cloudflare.DnsRecord]

    def __init__(self, name: str, args: PolicyHostRecordsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mta-sts:dns:PolicyHostRecords", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.records = {
            record.key: cloudflare_record(name, record, args.zone_id, child) for record in args.records
        }
        self.register_outputs({key: resource.id for key, resource in self.records.items()})


@dataclass(frozen=True)
class DiscoveryRecordsArgs:
    """`advertise_after`: resources that must succeed before the `_mta-sts` record changes."""

    zone_id: pulumi.Input[str]
    discovery: DnsRecord
    tls_rpt: DnsRecord | None = None
    advertise_after: Sequence[pulumi.Resource] = field(default_factory=tuple)


class DiscoveryRecords(pulumi.ComponentResource):
    """`_mta-sts` (after the policy is served, rules §8) and `_smtp._tls` (RFC 8460 §3)."""

    discovery: cloudflare.DnsRecord
    tls_rpt: cloudflare.DnsRecord | None

    def __init__(self, name: str, args: DiscoveryRecordsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mta-sts:dns:DiscoveryRecords", name, None, opts)
        # Serve before advertise: a sender that sees the new id before the new file is
        # served caches the old policy under the new id (rules §8).
        self.discovery = cloudflare_record(
            name,
            args.discovery,
            args.zone_id,
            pulumi.ResourceOptions(parent=self, depends_on=list(args.advertise_after)),
        )
        self.tls_rpt = (
            cloudflare_record(name, args.tls_rpt, args.zone_id, pulumi.ResourceOptions(parent=self))
            if args.tls_rpt
            else None
        )
        outputs = {"discovery": self.discovery.id}
        if self.tls_rpt is not None:
            outputs["tls_rpt"] = self.tls_rpt.id
        self.register_outputs(outputs)
