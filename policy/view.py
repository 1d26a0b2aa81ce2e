"""What the pack reads from a preview: resource properties, turned once into a stack view.

The rules read resources by their wire property names (`zoneId`, `proxied`), so they also
judge records a person adds to the stack by hand, not only what the components emit.
Values unknown during preview (an output of a resource not yet created) and missing
properties become `UNKNOWN` or None: a check that needs them is skipped, and runs again on
`pulumi up` when the value is known.

The analyzer hands every stack rule its own copy of the resources, so `stack_view` keeps
the view of the last resource set it read and returns it while the resources are the same:
one reading per run, however many rules ask.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import proxy
from pulumi_policy.proxy import UnknownValueError

from mtasts.constants import DISCOVERY_LABEL, POLICY_HOST_LABEL, POLICY_PATH
from mtasts.names import is_hostname, normalize
from mtasts.records import unquote_txt
from mtasts.rules.mx_tls import MxTls

DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
REPOSITORY = "github:index/repository:Repository"
REPOSITORY_FILE = "github:index/repositoryFile:RepositoryFile"
REPOSITORY_PAGES = "github:index/repositoryPages:RepositoryPages"
NETLIFY_SITE = "pulumi-python:dynamic/netlify:Site"
POLICY_READINESS = "pulumi-python:dynamic/mtasts:PolicyReadiness"
MTASTS_DOMAIN = "mta-sts:index:MtaStsDomain"


class _Unknown:
    """A value the engine will know only after `up` (an output of a resource being created)."""

    def __repr__(self) -> str:
        return "<unknown during preview>"


UNKNOWN: Any = _Unknown()

# The engine's placeholders for unknown values, as they appear in unproxied props.
_SENTINELS = frozenset(
    {
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
    }
)


def prop(props: Mapping[str, Any], key: str) -> Any:
    """`props[key]`, None when missing, `UNKNOWN` when unknown during preview.

    The SDK wraps props in a proxy that raises `UnknownValueError` on an unknown value;
    tests may pass plain dicts holding the raw sentinels, so both are recognised.
    """
    try:
        value = props[key]
    except KeyError:
        return None
    except UnknownValueError:
        return UNKNOWN
    return UNKNOWN if isinstance(value, str) and value in _SENTINELS else value


def known(*values: Any) -> bool:
    return all(value is not UNKNOWN for value in values)


def _string(value: Any) -> Any:
    """A string prop normalised for comparison, passing None and UNKNOWN through."""
    return normalize(value) if isinstance(value, str) else value


def _number(value: Any) -> Any:
    """Numbers arrive as floats over the wire (`priority: 0.0`)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- What the stack holds, read from resources ---------------------------------------------


@dataclass(frozen=True)
class Record:
    """A Cloudflare DNS record as the engine sees it; fields may be None or UNKNOWN."""

    urn: str
    name: Any
    type: Any
    content: Any
    priority: Any
    proxied: Any

    @property
    def text(self) -> Any:
        """TXT data without Cloudflare's quotes (RFC 8461 §3.1: character-strings concatenated)."""
        return unquote_txt(self.content) if isinstance(self.content, str) else self.content

    def at(self, name: str) -> bool:
        return isinstance(self.name, str) and _string(self.name) == name


def record_of(urn: str, props: Mapping[str, Any]) -> Record:
    type_ = prop(props, "type")
    return Record(
        urn=urn,
        name=_string(prop(props, "name")),
        type=type_.upper() if isinstance(type_, str) else type_,
        content=prop(props, "content"),
        priority=_number(prop(props, "priority")),
        proxied=prop(props, "proxied"),
    )


@dataclass(frozen=True)
class PublishedPolicy:
    """A policy text the stack publishes: the repository file, or a copy the host serves."""

    urn: str
    source: str
    text: str
    domain: str | None


def _domain_of_host(host: Any) -> str | None:
    """`mta-sts.example.com` → `example.com`; anything else → None."""
    host = _string(host)
    prefix = POLICY_HOST_LABEL + "."
    if isinstance(host, str) and host.startswith(prefix) and is_hostname(host[len(prefix) :]):
        return host[len(prefix) :]
    return None


@dataclass(frozen=True)
class StackView:
    """The resources of one preview, in the terms the rules need."""

    records: list[Record]
    policies: list[PublishedPolicy]
    domains: set[str]
    pages: list[tuple[str, Any]]  # (urn, repository)
    files: list[tuple[str, Any, Any]]  # (urn, repository, path)
    # domain → (urn, the apex MX hosts the zone held when the program looked it up)
    live_mx: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    # domain → (the MtaStsDomain's urn, the MX hosts' TLS as the program probed it)
    live_mx_tls: dict[str, tuple[str, list[MxTls]]] = field(default_factory=dict)

    def policies_for(self, domain: str) -> list[PublishedPolicy]:
        """The distinct policy texts published for `domain`, each naming every place it is in."""
        by_text: dict[str, list[PublishedPolicy]] = {}
        for published in self.policies:
            if published.domain == domain:
                by_text.setdefault(published.text, []).append(published)
        return [
            PublishedPolicy(same[0].urn, " and ".join(p.source for p in same), text, domain)
            for text, same in by_text.items()
        ]

    def records_at(self, name: str) -> list[Record]:
        return [record for record in self.records if record.at(name)]

    def unknown_names(self) -> bool:
        return any(not known(record.name) for record in self.records)


_last: tuple[tuple[tuple[str, str], ...], StackView] | None = None


def _unwrapped(value: Any) -> Any:
    """What the SDK's unknown-checking proxies (nested ones too) wrap: they hand it over by `__target`."""
    try:
        return value["__target"]
    except (KeyError, TypeError, IndexError):
        return str(value)


def _fingerprint(resource: Any) -> tuple[str, str]:
    return resource.urn, json.dumps(_unwrapped(resource.props), sort_keys=True, default=_unwrapped)


def stack_view(resources: Sequence[Any]) -> StackView:
    """The view of these resources, read once while they stay the same."""
    global _last
    key = tuple(_fingerprint(resource) for resource in resources)
    if _last is None or _last[0] != key:
        _last = (key, _read_view(resources))
    return _last[1]


def _read_view(resources: Sequence[Any]) -> StackView:
    """Read the stack's records, published policies and domains from `PolicyResource`s."""
    records = [record_of(r.urn, r.props) for r in resources if r.resource_type == DNS_RECORD]
    files: list[tuple[str, Any, Any]] = []
    pages: list[tuple[str, Any]] = []
    repo_domains: dict[str, str] = {}
    unplaced: list[tuple[str, str, str, Any]] = []  # (urn, source, text, repository)
    placed: list[PublishedPolicy] = []
    domains: set[str] = set()
    live_mx: dict[str, tuple[str, list[str]]] = {}
    live_mx_tls: dict[str, tuple[str, list[MxTls]]] = {}

    for resource in resources:
        props = resource.props
        if resource.resource_type == REPOSITORY_FILE:
            repository, path, content = prop(props, "repository"), prop(props, "file"), prop(props, "content")
            files.append((resource.urn, repository, path))
            if path == POLICY_PATH and isinstance(content, str):
                source = f"{POLICY_PATH} in repository {repository}"
                unplaced.append((resource.urn, source, content, repository))
            if path == "CNAME" and isinstance(content, str) and isinstance(repository, str):
                domain = _domain_of_host(content.strip())
                if domain:
                    repo_domains[repository] = domain
        elif resource.resource_type == REPOSITORY_PAGES:
            repository, cname = prop(props, "repository"), prop(props, "cname")
            pages.append((resource.urn, repository))
            domain = _domain_of_host(cname)
            if domain and isinstance(repository, str):
                repo_domains[repository] = domain
            if domain:
                domains.add(domain)
        elif resource.resource_type == NETLIFY_SITE:
            domain = _domain_of_host(prop(props, "custom_domain"))
            if domain:
                domains.add(domain)
            site_files = prop(props, "files")
            text = prop(site_files, POLICY_PATH) if isinstance(site_files, Mapping) else None
            if isinstance(text, str):
                source = f"the Netlify site's {POLICY_PATH}"
                placed.append(PublishedPolicy(resource.urn, source, text, domain))
        elif resource.resource_type == POLICY_READINESS:
            domain = _string(prop(props, "domain"))
            if isinstance(domain, str):
                domains.add(domain)
        elif resource.resource_type == MTASTS_DOMAIN:
            domain, hosts = _string(prop(props, "domain")), prop(props, "liveMxHosts")
            if isinstance(domain, str) and isinstance(hosts, Sequence) and not isinstance(hosts, str):
                live_mx[domain] = (resource.urn, [normalize(h) for h in hosts if isinstance(h, str)])
            tls = prop(props, "liveMxTls")
            if isinstance(domain, str) and isinstance(tls, Sequence) and not isinstance(tls, str):
                seen = [MxTls.from_dict(entry) for entry in tls if isinstance(entry, Mapping)]
                live_mx_tls[domain] = (resource.urn, [entry for entry in seen if entry is not None])

    discovery_prefix = DISCOVERY_LABEL + "."
    domains |= {
        record.name[len(discovery_prefix) :]
        for record in records
        if isinstance(record.name, str) and record.name.startswith(discovery_prefix)
    }
    domains |= set(repo_domains.values())
    only = next(iter(domains)) if len(domains) == 1 else None
    for urn, source, text, repository in unplaced:
        domain = repo_domains.get(repository) if isinstance(repository, str) else None
        placed.append(PublishedPolicy(urn, source, text, domain or only))
    return StackView(
        records=records,
        policies=placed,
        domains=domains,
        pages=pages,
        files=files,
        live_mx=live_mx,
        live_mx_tls=live_mx_tls,
    )
