"""A twin site from what the Pulumi program registers (under the project's Pulumi mocks).

Not the core's values but what the program hands over (the Cloudflare records, the files
for GitHub/Netlify) is served by real servers and judged by validators nobody here wrote.
"""

from __future__ import annotations

from typing import Any

from mtasts.config import Hosting, parse_settings
from mtasts.desired import desired_state
from mtasts.records import DnsRecord, unquote_txt
from mtasts.rules.mx_coverage import matches
from tests.pulumi_mocks import StackRun, run_program

from .site import PROTON_MX, Site

CLOUDFLARE_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
REPOSITORY_FILE = "github:index/repositoryFile:RepositoryFile"
NETLIFY_SITE = "pulumi-python:dynamic/netlify:Site"


def declared_records(run: StackRun) -> tuple[DnsRecord, ...]:
    """The Cloudflare records the program registered, as the text Cloudflare would serve."""
    return tuple(
        DnsRecord(
            key=resource.name,
            name=resource.inputs["name"],
            type=resource.inputs["type"],
            value=unquote_txt(resource.inputs["content"])
            if resource.inputs["type"] == "TXT"
            else resource.inputs["content"],
            ttl=int(resource.inputs["ttl"]),
            priority=int(resource.inputs["priority"])
            if resource.inputs.get("priority") is not None
            else None,
        )
        for resource in run.of_type(CLOUDFLARE_RECORD)
    )


def served_files(run: StackRun, hosting: Hosting) -> dict[str, str]:
    """What the host publishes: Netlify gets a deploy of its `files`; Pages publishes the repository."""
    if hosting is Hosting.NETLIFY:
        (site,) = [resource for resource in run.resources if resource.type.startswith(NETLIFY_SITE)]
        return dict(site.inputs["files"])
    return {resource.inputs["file"]: resource.inputs["content"] for resource in run.of_type(REPOSITORY_FILE)}


def mx_hosts_for(patterns: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    """MX records a domain with this policy could have: one host per pattern, each covered."""
    if not patterns:
        return PROTON_MX
    hosts = [pattern.replace("*.", "mx1.", 1) for pattern in patterns]
    assert all(any(matches(p, host) for p in patterns) for host in hosts)
    return tuple((10 * (index + 1), host) for index, host in enumerate(hosts))


def site_from_program(config: dict[str, Any], mx: tuple[tuple[int, str], ...] | None = None) -> Site:
    """Run the program on `config` under mocks and build a site from what it registered.

    `mx`: the domain's MX records; by default one host per policy pattern, so all are covered.
    """
    settings = parse_settings(config)
    run = run_program(config)
    return Site(
        state=desired_state(settings),  # the expectation only; records and files come from `run`
        records=declared_records(run),
        files=served_files(run, settings.hosting),
        mx=mx if mx is not None else mx_hosts_for(settings.mx),
    )
