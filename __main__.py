"""This repository's program: the stack config → one `MtaStsDomain` → the stack's outputs."""

import pulumi
from pulumi_mta_sts import MtaStsDomain

from components.settings import domain_args, read_settings
from mtasts.config import Settings
from mtasts.config.advice import settings_warnings
from mtasts.live import mx_fix


class StackDomain(MtaStsDomain):
    # The stack's owner sets `mx` with `pulumi config set`: say so when a live MX host is uncovered,
    # and in the warnings about the settings (as `render` prints them).
    _mx_fix = staticmethod(mx_fix)

    @staticmethod
    def _warnings(settings: Settings) -> list[str]:
        return settings_warnings(settings, pulumi.get_stack())


settings = read_settings()

domain = StackDomain("mta-sts", domain_args(settings))

pulumi.export("policyUrl", domain.policy_url)
pulumi.export("policyId", domain.policy_id)
pulumi.export("policyText", domain.policy_text)
pulumi.export("repositoryUrl", domain.repository_url)
pulumi.export("dnsRecords", domain.dns_records)
if settings.dnssec:
    pulumi.export("dnssecDs", domain.dnssec_ds)
if settings.retire:
    # `retire` overrides `mode` and `maxAge`: the served policy is `mode: none` (RFC 8461 §8.3).
    pulumi.log.warn(
        f"retire is set: serving `mode: none` with a new id instead of mode {settings.mode.value}. "
        "Keep this stack up until retireSafeToDestroyAfter (the first `up` with retire, plus the "
        "largest max_age this stack has served: senders may hold that policy so long), then run "
        "`scripts/pulumi destroy`. Later `up`s keep that time; none moves it earlier."
    )
    pulumi.export("retireSafeToDestroyAfter", domain.retire_safe_to_destroy_after)
