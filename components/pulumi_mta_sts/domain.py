"""`MtaStsDomain`: MTA-STS and TLS-RPT for one mail domain, everything it needs, in a safe order.

From its arguments (`MtaStsDomainArgs`, validated by the core before anything registers) it
derives the desired state (`mtasts.desired`), reads the zone (`pulumi_mta_sts.lookups`: zone id,
live MX hosts, adoption), then registers its children: the repository, the policy host's
records, the site (Netlify or GitHub Pages), the readiness gate, the discovery records, Proton's
records, DNSSEC, and the records of what was served. Everything runs in parallel except what
RFC 8461 §8 orders: the `_mta-sts` record waits for `PolicyReadiness`, which waits for the
hosting to serve the rendered policy, and the policy goes out only once its `max_age` is
recorded (§8.3).

Several instances in one program are independent: every child's name starts with the
component's name, and the caller's `opts` (explicit providers included) reach every child
through `parent=self` and every lookup through `lookups.invoke_options`.
"""

from collections.abc import Callable
from typing import Any

import pulumi
from pulumi_mta_sts.args import MtaStsDomainArgs
from pulumi_mta_sts.dns import (
    DiscoveryRecords,
    DiscoveryRecordsArgs,
    MailRecords,
    PolicyHostRecords,
    RecordSetArgs,
)
from pulumi_mta_sts.dnssec import ZoneSigning, ZoneSigningArgs
from pulumi_mta_sts.hosting import GitHubPagesSite, GitHubPagesSiteArgs, NetlifyHosting, NetlifyHostingArgs
from pulumi_mta_sts.lookups import component_mx_fix, invoke_options, plan_zone
from pulumi_mta_sts.readiness import PolicyReadiness
from pulumi_mta_sts.repository import PolicyRepository, PolicyRepositoryArgs
from pulumi_mta_sts.served import PublishedMaxAge, PublishedMaxAgeArgs, ServedPolicy, ServedPolicyArgs
from pulumi_mta_sts.validation import settings_from_args

from mtasts.config import Hosting, Settings
from mtasts.config.advice import argument_warnings
from mtasts.desired import desired_state
from mtasts.rules.findings import Finding

TYPE = "mta-sts:index:MtaStsDomain"


class MtaStsDomain(pulumi.ComponentResource):
    """MTA-STS (RFC 8461) and TLS reporting (RFC 8460) for one mail domain.

    With Netlify hosting, `netlify_token` reaches the Netlify site and certificate as a secret
    input, used for their create and update; it is never an output, and a new token alone
    changes nothing. Refresh and destroy see only the recorded state, which holds no token, so
    they need NETLIFY_AUTH_TOKEN in the environment or the stack config mta-sts:netlifyToken.
    """

    policy_url: pulumi.Output[str]
    """The URL senders fetch the policy from: https://mta-sts.<domain>/.well-known/mta-sts.txt."""
    policy_id: pulumi.Output[str]
    """The policy id the _mta-sts record advertises (changes whenever the policy text does)."""
    policy_text: pulumi.Output[str]
    """The policy file as served."""
    repository_url: pulumi.Output[str]
    """The GitHub repository holding the policy."""
    dns_records: pulumi.Output[list[dict[str, str]]]
    """Every DNS record this domain publishes: name, type and value."""
    dnssec_ds: pulumi.Output[dict[str, Any]] | None
    """The DS record to enter at the registrar when dnssec is on (its fields); null otherwise."""
    retire_safe_to_destroy_after: pulumi.Output[str] | None
    """While retiring, the time after which destroying is safe (RFC 8461 section 8.3); null otherwise."""

    # The advice on an uncovered live MX host; a program that owns the config may phrase it as a command.
    _mx_fix: Callable[[Settings, Finding], str] = staticmethod(component_mx_fix)  # type: ignore[assignment]
    # What deploys but is likely a mistake (an example domain, no tls_rpt), logged on the component.
    _warnings: Callable[[Settings], list[str]] = staticmethod(argument_warnings)  # type: ignore[assignment]

    def __init__(
        self,
        name: str,
        # Evaluated annotations, `args` no union: the component provider infers the schema from them.
        args: MtaStsDomainArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        settings = settings_from_args(name, args)
        state = desired_state(settings)
        # Before anything registers: a refusal (uncovered MX host, conflicting record) changes nothing.
        zone = plan_zone(name, settings, state, invoke_options(opts, "cloudflare"), self._mx_fix)
        # Inputs only the policy pack reads: the pack sees resources, not the zone's live MX records.
        inputs = {
            "domain": settings.domain,
            "liveMxHosts": list(zone.live_mx_hosts),
            "liveMxTls": [entry.to_dict() for entry in zone.live_mx_tls],
        }
        super().__init__(TYPE, name, inputs, opts)
        for warning in self._warnings(settings):
            pulumi.log.warn(warning, resource=self)
        child = pulumi.ResourceOptions(parent=self)

        # A sender may fetch the policy as soon as it is served, before its id is advertised:
        # its max_age is recorded before the file goes out (RFC 8461 §8.3, served.py).
        self.published = PublishedMaxAge(
            f"{name}-published",
            PublishedMaxAgeArgs(
                policy_id=state.policy_id,
                max_age=state.policy.max_age,
                configured_max_age=settings.configured_policy.max_age,
            ),
            child,
        )
        self.repository = PolicyRepository(
            f"{name}-repo",
            PolicyRepositoryArgs(
                name=settings.repository,
                description=f"MTA-STS policy for {settings.domain}, served at {settings.policy_url}",
                files=state.files,
                publish_after=[self.published],
            ),
            child,
        )
        host_records = [record for record in state.records if record.name == settings.policy_host]
        self.host_records = PolicyHostRecords(
            f"{name}-host",
            RecordSetArgs(zone_id=zone.zone_id, records=host_records, adopted=zone.adopted),
            child,
        )
        self.signing = (
            ZoneSigning(f"{name}-dnssec", ZoneSigningArgs(zone_id=zone.zone_id), child)
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
                    publish_after=[self.published],
                    netlify_token=args.get("netlify_token"),
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
                zone_id=zone.zone_id,
                discovery=state.discovery_record,
                tls_rpt=tls_rpt,
                advertise_after=[self.readiness],
                adopted=zone.adopted,
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
                    zone_id=zone.zone_id,
                    records=state.mail_records,
                    adopted=zone.adopted,
                    mx_after=[self.discovery.discovery],
                ),
                child,
            )
            if state.mail_records
            else None
        )

        # What was served, kept in the state: once the new id is advertised, its max_age counts.
        self.served = ServedPolicy(
            f"{name}-served",
            ServedPolicyArgs(
                policy_id=state.policy_id,
                max_age=state.policy.max_age,
                configured_max_age=settings.configured_policy.max_age,
                retire=settings.retire,
                published_max_age=self.published.largest_max_age,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.discovery.discovery],
                # The program registered it at the stack's root before it became part of the component.
                aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)],
            ),
        )

        nothing: pulumi.Output[Any] = pulumi.Output.from_input(None)
        self.policy_url = pulumi.Output.from_input(settings.policy_url)
        self.policy_id = pulumi.Output.from_input(state.policy_id)
        self.policy_text = pulumi.Output.from_input(state.policy_text)
        self.repository_url = self.repository.html_url
        self.dns_records = pulumi.Output.from_input(
            [{"name": record.name, "type": record.type, "value": record.rdata} for record in state.records]
        )
        self.dnssec_ds = self.signing.ds_fields if self.signing is not None else nothing
        served_until: pulumi.Output[Any] = self.served.safe_to_destroy_after
        self.retire_safe_to_destroy_after = served_until if settings.retire else nothing
        self.register_outputs(
            {
                "policy_url": self.policy_url,
                "policy_id": self.policy_id,
                "policy_text": self.policy_text,
                "repository_url": self.repository_url,
                "dns_records": self.dns_records,
                "dnssec_ds": self.dnssec_ds,
                "retire_safe_to_destroy_after": self.retire_safe_to_destroy_after,
                # For the policy pack: stack policies see these outputs in place of the inputs above.
                "domain": settings.domain,
                "live_mx_hosts": list(zone.live_mx_hosts),
            }
        )
