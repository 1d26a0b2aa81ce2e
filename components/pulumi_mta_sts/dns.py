"""Cloudflare DNS records for the domain, from the core's `DnsRecord` values.

Components so that the engine can order them: `PolicyHostRecords` (the policy host's
A, null MX and SPF records, which hosting needs before it can get a certificate),
`DiscoveryRecords` (`_mta-sts`, advertised only once the policy is served, and
`_smtp._tls`) and `MailRecords` (Proton Mail's apex MX, SPF, verification, DKIM and DMARC).
Records outside this stack in the zone are left alone.

`existing_records` is the one lookup of what the zone already holds, for adoption
(`mtasts.adoption`). A record listed in a component's `adopted` mapping is registered with
Pulumi's `import` option: the engine imports it, then updates it to the desired values in
the same `up` (pulumi/pulumi#16397, documented in pulumi/docs#18198), instead of creating a
duplicate next to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_cloudflare as cloudflare

from mtasts.adoption import MANAGED_COMMENT, ExistingRecord
from mtasts.records import DnsRecord


def existing_records(
    zone_id: str, names: Iterable[str], invoke: pulumi.InvokeOptions | None = None
) -> list[ExistingRecord]:
    """Every record at each name, from Cloudflare, as plain values.

    The synchronous invoke on purpose: the program must know the adoption plan before it
    registers a single resource, and invokes run the same way in preview and update.
    """
    found: list[ExistingRecord] = []
    for name in sorted(set(names)):
        result = cloudflare.get_dns_records(zone_id=zone_id, name={"exact": name}, match="all", opts=invoke)
        for item in result.results or []:
            priority = item.priority
            found.append(
                ExistingRecord(
                    id=item.id,
                    name=item.name,
                    type=item.type,
                    content=item.content or "",
                    priority=int(priority) if priority is not None else None,
                    comment=item.comment,
                )
            )
    return found


def cloudflare_record(
    component: str,
    record: DnsRecord,
    zone_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    adopted: Mapping[str, str] | None = None,
) -> cloudflare.DnsRecord:
    """One `cloudflare.DnsRecord` for one core record.

    Full names, not labels: Cloudflare answers with the full name and a label drifts after
    every refresh (cloudflare/terraform-provider-cloudflare#7289). TXT content is quoted as
    Cloudflare stores it (cloudflare/terraform-provider-cloudflare#6331). Never proxied:
    Netlify and Pages can only get a certificate for DNS-only records.
    The comment marks the record as this stack's, so adoption never imports it twice.
    """
    import_id = (adopted or {}).get(record.key)
    if import_id:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(import_=import_id))
    if record.former_keys:
        # A renamed key keeps its live record: the engine matches the former name (same type, parent).
        aliases = [pulumi.Alias(name=f"{component}-{key}") for key in record.former_keys]
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases))
    return cloudflare.DnsRecord(
        f"{component}-{record.key}",
        zone_id=zone_id,
        name=record.name,
        type=record.type,
        content=record.content,
        priority=record.priority,
        ttl=record.ttl,
        proxied=False,
        comment=MANAGED_COMMENT,
        opts=opts,
    )


@dataclass(frozen=True)
class RecordSetArgs:
    """`adopted`: record key → id of the existing record to import (`mtasts.adoption`).
    `mx_after`: what the set's MX records must wait for (the other records do not wait)."""

    zone_id: pulumi.Input[str]
    records: Sequence[DnsRecord]
    adopted: Mapping[str, str] = field(default_factory=dict)
    mx_after: Sequence[pulumi.Resource] = field(default_factory=tuple)


class _RecordSet(pulumi.ComponentResource):
    """A group of records created in parallel; only MX records may wait (`mx_after`)."""

    records: dict[str, cloudflare.DnsRecord]

    def __init__(
        self, token: str, name: str, args: RecordSetArgs, opts: pulumi.ResourceOptions | None, *, retain: bool
    ):
        super().__init__(token, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=retain)
        mx_child = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(args.mx_after)))
        self.records = {
            record.key: cloudflare_record(
                name, record, args.zone_id, mx_child if record.type == "MX" else child, args.adopted
            )
            for record in args.records
        }
        self.register_outputs({key: resource.id for key, resource in self.records.items()})


class PolicyHostRecords(_RecordSet):
    """A records to the host, null MX and `v=spf1 -all` at `mta-sts.<domain>` (RFC 7505, RFC 7208)."""

    def __init__(self, name: str, args: RecordSetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mta-sts:dns:PolicyHostRecords", name, args, opts, retain=False)


@dataclass(frozen=True)
class DiscoveryRecordsArgs:
    """`advertise_after`: resources that must succeed before the `_mta-sts` record changes."""

    zone_id: pulumi.Input[str]
    discovery: DnsRecord
    tls_rpt: DnsRecord | None = None
    advertise_after: Sequence[pulumi.Resource] = field(default_factory=tuple)
    adopted: Mapping[str, str] = field(default_factory=dict)


class DiscoveryRecords(pulumi.ComponentResource):
    """`_mta-sts` (after the policy is served, RFC 8461 §8) and `_smtp._tls` (RFC 8460 §3)."""

    discovery: cloudflare.DnsRecord
    tls_rpt: cloudflare.DnsRecord | None

    def __init__(self, name: str, args: DiscoveryRecordsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mta-sts:dns:DiscoveryRecords", name, None, opts)
        # Serve before advertise: a sender that sees the new id before the new file is
        # served caches the old policy under the new id (RFC 8461 §8).
        self.discovery = cloudflare_record(
            name,
            args.discovery,
            args.zone_id,
            pulumi.ResourceOptions(parent=self, depends_on=list(args.advertise_after)),
            args.adopted,
        )
        self.tls_rpt = (
            cloudflare_record(
                name, args.tls_rpt, args.zone_id, pulumi.ResourceOptions(parent=self), args.adopted
            )
            if args.tls_rpt
            else None
        )
        outputs = {"discovery": self.discovery.id}
        if self.tls_rpt is not None:
            outputs["tls_rpt"] = self.tls_rpt.id
        self.register_outputs(outputs)


class MailRecords(_RecordSet):
    """Proton Mail's records: verification, apex MX and SPF, three DKIM CNAMEs, DMARC.

    Retained when the stack is destroyed: they route and authenticate the domain's mail,
    which must keep working after MTA-STS is removed (RFC 8461 §8.3 removes only the
    policy). `pulumi destroy` then stops managing them and leaves them live.
    """

    def __init__(self, name: str, args: RecordSetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mta-sts:dns:MailRecords", name, args, opts, retain=True)
