"""What one domain's zone already holds, read before any of its resources registers.

The zone id (looked up from the domain unless given), the records at every name the domain
manages, and from them two judgements of the core: the live MX hosts and their TLS against the policy
(`mtasts.live`, RFC 8461 §4.1, §4.2: refused under enforce, a warning under testing) and the
adoption plan (`mtasts.adoption`). Each lookup is an invoke with the Cloudflare provider the
component's caller chose (`invoke_options`), never the default provider behind their back.

Leaves alone: what to create (`pulumi_mta_sts.domain`), and every record outside those names.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import pulumi
import pulumi_cloudflare as cloudflare
from pulumi_mta_sts.dns import existing_records
from pulumi_mta_sts.loop_padding import trim_placeholders

from mtasts.adoption import AdoptionError, plan_adoption
from mtasts.config import Settings
from mtasts.desired import DesiredState
from mtasts.live import apex_mx_hosts, check_live_mx_tls, mx_coverage_findings
from mtasts.rules.findings import Finding, Severity
from mtasts.rules.mx_tls import MxTls
from mtasts.scrub import scrub
from mtasts.visible import NAMES_LISTED, printable

T = TypeVar("T")

_ALL_OF_THEM = ": `.venv/bin/python -m mtasts verify {domain}` checks every one"


def invoke_options(opts: pulumi.ResourceOptions | None, package: str) -> pulumi.InvokeOptions:
    """The options a component's own invoke needs to use the provider its children will use:
    the caller's explicit provider for `package` (`provider`, or `providers` as a list or a
    mapping), else whatever the caller's parent passes down."""
    opts = opts or pulumi.ResourceOptions()
    provider = opts.provider if opts.provider is not None and opts.provider.package == package else None
    if provider is None and isinstance(opts.providers, Mapping):
        provider = opts.providers.get(package)
    elif provider is None and opts.providers:
        provider = next((p for p in opts.providers if not isinstance(p, str) and p.package == package), None)
    return pulumi.InvokeOptions(parent=opts.parent, provider=provider)


def _read_zone(domain: str, what: str, lookup: Callable[[], T]) -> T:
    """`lookup()`, or a RunError that names the zone and the fix when Cloudflare refuses it.

    The SDK raises a failed invoke as a plain Exception, which the engine prints with a Python
    traceback and the provider's words only ("no zone found", "Authentication error").
    """
    try:
        return lookup()
    except pulumi.RunError:
        raise
    except Exception as error:
        said = str(error)
        # No provider is known to echo the token; never print it anyway, from either place it is kept.
        for token in (os.environ.get("CLOUDFLARE_API_TOKEN"), pulumi.Config("cloudflare").get("apiToken")):
            if token and token.strip():
                said = scrub(said, token.strip())
        raise pulumi.RunError(
            f"Cloudflare would not show {what} of the zone {domain}: {said}. Check that {domain} is a "
            "zone of the Cloudflare account the API token belongs to (CLOUDFLARE_API_TOKEN, or the "
            "secret cloudflare:apiToken), with its nameservers set at the registrar, and that the token "
            "has Zone → Zone → Read and Zone → DNS → Edit for it (README, quick start). When the domain "
            "is inside a larger zone (mail.example.com inside example.com), give that zone's id: zoneId "
            "in the stack config, zone_id for MtaStsDomain. Nothing was changed."
        ) from None
    finally:
        trim_placeholders()  # the SDK's invokes leave more each time: see loop_padding


def component_mx_fix(settings: Settings, finding: Finding) -> str:
    return f"add {printable(finding.subject)} (or a '*.' pattern matching it) to mx, or remove the MX record"


@dataclass(frozen=True)
class ZonePlan:
    """`adopted`: record key → id of the existing record to import; `live_mx_hosts`: the apex MX hosts,
    and `live_mx_tls` their TLS as probed before anything registered (`mtasts.live.check_live_mx_tls`)."""

    zone_id: str
    adopted: dict[str, str]
    live_mx_hosts: tuple[str, ...]
    live_mx_tls: tuple[MxTls, ...] = ()


def plan_zone(
    name: str,
    settings: Settings,
    state: DesiredState,
    invoke: pulumi.InvokeOptions,
    mx_fix: Callable[[Settings, Finding], str] = component_mx_fix,
) -> ZonePlan:
    """Synchronous lookups on purpose: the plan must be known before any resource registers, and
    invokes run the same way in preview and update. RunError (no traceback) when the zone refuses."""
    domain = settings.domain
    zone_id = settings.zone_id or _read_zone(
        domain, "the id", lambda: cloudflare.get_zone(filter={"name": domain, "match": "all"}, opts=invoke).id
    )
    names = {domain, *(record.name for record in state.records)}
    existing = _read_zone(domain, "the records", lambda: existing_records(zone_id, names, invoke))
    live_tls = check_live_mx_tls(settings, existing)  # the MX hosts' STARTTLS and certificates, probed now
    gaps = mx_coverage_findings(settings, existing) + live_tls.findings
    # One finding per MX host and address, and the zone chooses how many: ten, then a count.
    if refused := [finding for finding in gaps if finding.failed]:
        lines = [f"  - {finding.seen}; {mx_fix(settings, finding)}" for finding in refused[:NAMES_LISTED]]
        if len(refused) > NAMES_LISTED:
            lines.append(f"  - and {len(refused) - NAMES_LISTED:,} more{_ALL_OF_THEM.format(domain=domain)}")
        raise pulumi.RunError(
            "senders would refuse mail to the zone's MX hosts under this policy (RFC 8461 §4.1, §4.2). "
            "Nothing was changed.\n" + "\n".join(lines)
        )
    warned = [finding for finding in gaps if finding.severity is Severity.WARN]
    for finding in warned[:NAMES_LISTED]:
        pulumi.log.warn(f"{finding.seen}; {mx_fix(settings, finding)}")
    if len(warned) > NAMES_LISTED:
        pulumi.log.warn(
            f"and {len(warned) - NAMES_LISTED:,} more warnings about the MX hosts of {domain}"
            + _ALL_OF_THEM.format(domain=domain)
        )
    plan = plan_adoption(state.records, existing, adopt=settings.adopt)
    if plan.conflicts:
        raise pulumi.RunError(str(AdoptionError(plan)))
    for key, record_id in sorted(plan.imports.items()):
        pulumi.log.info(
            f"{name}: adopting the existing record {record_id} as '{key}': it is updated in place"
        )
    hosts = tuple(apex_mx_hosts(existing, settings.domain))
    return ZonePlan(zone_id, dict(plan.imports), hosts, tuple(live_tls.seen))
