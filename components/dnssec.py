"""DNSSEC on the Cloudflare zone, so that senders can use DANE towards Proton's MX hosts.

Proton's MX hosts publish signed TLSA records; a sender uses them only when the answer to
the domain's MX query validates, i.e. when the domain's zone is signed and its DS record is
at the parent. Cloudflare signs the zone; entering the DS record at the
registrar is the user's step: this component exposes it and says so. It leaves the
registrar, and every other zone setting, alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

# Cloudflare reports `pending` until it sees the DS record at the parent, and `active`
# after; the provider shows that as a change to `status` on every preview
# (cloudflare/tf-migrate#236: `status = "pending" -> ...` "during the activation window";
# an enabled zone in `pending` is still enabled, cloudflare/terraform-provider-cloudflare#1530).
# `status` is only the switch that turns signing on: ignore it once the resource exists.
IGNORED = ["status"]
TYPE = "mta-sts:dnssec:ZoneSigning"
FORMER_TYPE = "mta-sts:dns:ZoneSigning"


@dataclass(frozen=True)
class ZoneSigningArgs:
    zone_id: pulumi.Input[str]


class ZoneSigning(pulumi.ComponentResource):
    """`cloudflare.ZoneDnssec` with status `active`, and the DS record to give the registrar."""

    ds: pulumi.Output[str]
    ds_fields: pulumi.Output[dict[str, object]]

    def __init__(self, name: str, args: ZoneSigningArgs, opts: pulumi.ResourceOptions | None = None):
        # The type token was `mta-sts:dns:ZoneSigning`; the alias keeps stacks made with it from
        # replacing the component, and with it the signing it parents.
        aliases = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=FORMER_TYPE)])
        super().__init__(TYPE, name, None, pulumi.ResourceOptions.merge(opts, aliases))
        self.dnssec = cloudflare.ZoneDnssec(
            f"{name}-zone",
            zone_id=args.zone_id,
            status="active",
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=IGNORED,
                # Turning signing off while the registrar still holds the DS record makes
                # every answer for the domain fail validation (SERVFAIL): mail stops. Destroy
                # leaves signing on; remove the DS at the registrar first, then disable it.
                retain_on_delete=True,
            ),
        )
        self.ds = self.dnssec.ds
        self.ds_fields = pulumi.Output.all(
            self.dnssec.ds,
            self.dnssec.key_tag,
            self.dnssec.algorithm,
            self.dnssec.digest_type,
            self.dnssec.digest,
            self.dnssec.flags,
            self.dnssec.public_key,
        ).apply(
            lambda values: {
                "ds": values[0],
                "keyTag": int(values[1]) if values[1] is not None else None,
                "algorithm": values[2],
                "digestType": values[3],
                "digest": values[4],
                "flags": int(values[5]) if values[5] is not None else None,
                "publicKey": values[6],
            }
        )
        # Runs only once the DS is known (never in a preview that creates the resource).
        self.ds.apply(_tell_the_user)
        self.register_outputs({"ds": self.ds, "ds_fields": self.ds_fields})


def _tell_the_user(ds: str | None) -> None:
    if ds:
        pulumi.log.warn(
            "DNSSEC is on for the zone, but validating resolvers (and DANE senders) rely on it only "
            "once the registrar publishes this DS record at the parent zone: enter it at your "
            f"registrar (`scripts/pulumi stack output dnssecDs` shows its fields): {ds}"
        )
