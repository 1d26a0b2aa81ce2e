"""One domain of a deployment twin: what its DNS zone and its web host serve.

A `Site` starts as an exact copy of a stack's desired state (`site_from_state`): the DNS
records the stack declares, the repository files the host publishes, and the domain's own
MX records (which the stack does not manage). Faults are functions `Site -> Site` that
change those inputs (records, files, certificate, redirect), never the product code.

The one deliberate difference from production, made explicit in `served_records`: the
desired A records of `mta-sts.<domain>` name Netlify's or GitHub Pages' public addresses;
in the twin they name the local nginx inside the network namespace, so no request leaves it.
A site may have several addresses, IPv4 and IPv6 (`addresses`), each served by nginx; one of
them (`odd_address`) can serve other files (`odd_files`), as a host whose deploy has not
reached every address, or a stale cache in front of one of them, does.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from mtasts.config import Hosting
from mtasts.constants import POLICY_PATH, PROTON_MX_PRIORITIES
from mtasts.desired import DesiredState
from mtasts.records import DnsRecord

# The MX records of a Proton Mail custom domain (as Proton's dashboard lists them).
PROTON_MX: tuple[tuple[int, str], ...] = tuple((p, host) for host, p in PROTON_MX_PRIORITIES.items())
MX_TTL = 3600


# Every record the twin serves is a core `DnsRecord` (value = the record's text), whether it
# comes from the core's desired state or from what the program registered with Cloudflare.
Record = DnsRecord


class Certificate(enum.StrEnum):
    VALID = "valid"  # issued by the twin's CA for mta-sts.<domain>
    OTHER_HOST = "other-host"  # issued by the twin's CA, but for another name
    EXPIRED = "expired"  # for the right name, but its validity ended yesterday


@dataclass(frozen=True)
class Site:
    """What the twin serves for one domain; `state` is what the stack declared."""

    state: DesiredState
    records: tuple[Record, ...]
    files: Mapping[str, str]
    mx: tuple[tuple[int, str], ...] = PROTON_MX
    certificate: Certificate = Certificate.VALID
    redirect_to: str | None = None
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    addresses: tuple[str, ...] = ()  # the policy host's A/AAAA addresses; () = the twin's one web address
    odd_address: str | None = None  # one of `addresses` that serves `odd_files` instead of `files`
    odd_files: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.odd_address is None or self.odd_address in self.addresses, "odd_address must be served"

    @property
    def domain(self) -> str:
        return self.state.settings.domain

    @property
    def policy_host(self) -> str:
        return self.state.settings.policy_host

    @property
    def hosting(self) -> Hosting:
        return self.state.settings.hosting

    def mx_records(self) -> tuple[DnsRecord, ...]:
        """The domain's own MX records, which the mail provider dictates (not the stack)."""
        return tuple(
            DnsRecord(f"domain-mx-{index}", self.domain, "MX", host, MX_TTL, priority=preference)
            for index, (preference, host) in enumerate(self.mx)
        )

    def served_records(self, web_address: str) -> tuple[Record, ...]:
        """The domain zone's records as the twin's DNS serves them.

        Substitution: the A records of the policy host are replaced by one A record naming
        the twin's web host (GitHub Pages declares four addresses; one local host stands for
        all of them), or by one A or AAAA record per address in `addresses`. Every other
        record is served exactly as declared.
        """
        records = _substitute_web_address(self.records, self.policy_host, self.web_addresses(web_address))
        return (*records, *self.mx_records())

    def expected_state(self, web_address: str) -> DesiredState:
        """The stack's desired state with the same substitution, for `verify`'s drift check."""
        records = _substitute_web_address(
            self.state.records, self.policy_host, self.web_addresses(web_address)
        )
        return replace(self.state, records=tuple(records))

    def web_addresses(self, web_address: str) -> tuple[str, ...]:
        return self.addresses or (web_address,)

    def published_at(self, address: str) -> dict[str, tuple[str, str | None]]:
        """What the host publishes at one of its addresses (`odd_files` at `odd_address`)."""
        if address == self.odd_address:
            return replace(self, files=self.odd_files, odd_address=None).published()
        return self.published()

    def published(self) -> dict[str, tuple[str, str | None]]:
        """Path → (content, content type or None for the server's default), as the host publishes.

        Emulates the host's processing of the repository: Netlify applies `_headers` and does
        not publish it; GitHub Pages runs Jekyll, which drops dot- and underscore-paths unless
        the repository holds `.nojekyll`.
        """
        files = dict(self.files)
        published: dict[str, tuple[str, str | None]] = {}
        if self.hosting is Hosting.NETLIFY:
            content_types = netlify_content_types(files.pop("_headers", ""))
            for path, content in files.items():
                published[path] = (content, content_types.get("/" + path))
        else:
            jekyll = ".nojekyll" not in files
            for path, content in files.items():
                if jekyll and any(part.startswith((".", "_")) for part in path.split("/")):
                    continue
                published[path] = (content, None)
        return published


def _substitute_web_address(
    records: tuple[Record, ...], host: str, addresses: tuple[str, ...]
) -> list[Record]:
    served: list[Record] = []
    substituted = False
    for record in records:
        if record.type in ("A", "AAAA") and record.name == host:
            if not substituted:
                served += [
                    replace(
                        record,
                        key=f"{record.key}-{index}",
                        type="AAAA" if ":" in address else "A",
                        value=address,
                    )
                    if len(addresses) > 1
                    else replace(record, type="AAAA" if ":" in address else "A", value=address)
                    for index, address in enumerate(addresses)
                ]
                substituted = True
            continue
        served.append(record)
    return served


def netlify_content_types(headers_file: str) -> dict[str, str]:
    """The `Content-Type` each path gets from a Netlify `_headers` file (path line, indented headers)."""
    types: dict[str, str] = {}
    path = None
    for line in headers_file.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            path = line.strip()
            continue
        name, _, value = line.strip().partition(":")
        if path is not None and name.strip().lower() == "content-type":
            types[path] = value.strip()
    return types


def site_from_state(state: DesiredState, mx: tuple[tuple[int, str], ...] = PROTON_MX) -> Site:
    """A site serving exactly what the stack declares."""
    return Site(state=state, records=state.records, files=dict(state.files), mx=mx)


def policy_file(site: Site) -> str | None:
    return site.files.get(POLICY_PATH)
