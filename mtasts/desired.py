"""The desired state of one domain: policy, id, DNS records and repository files.

Everything the stack publishes is derived here from validated Settings, once, so the
program, `render`, `verify --stack` and the policy pack agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mtasts.config import Hosting, ProtonSettings, Settings
from mtasts.constants import (
    GITHUB_PAGES_IPV4,
    NETLIFY_IPV4,
    POLICY_PATH,
    PROTON_MX_PRIORITIES,
    PROTON_SPF_INCLUDE,
    discovery_name,
    tls_rpt_name,
)
from mtasts.policy import Policy
from mtasts.records import (
    DnsRecord,
    discovery_text,
    dmarc_text,
    proton_verification_text,
    spf_text,
    tls_rpt_text,
)
from mtasts.rules.policy_host import SPF_NONE

HOST_IPV4 = {Hosting.NETLIFY: NETLIFY_IPV4, Hosting.GITHUB_PAGES: GITHUB_PAGES_IPV4}

# The discovery record's ttl is short: a new id is the signal that a new policy is out.
DISCOVERY_TTL = 300
RECORD_TTL = 3600

PROTON_KEY_PREFIX = "proton-"

NETLIFY_HEADERS = f"/{POLICY_PATH}\n  Content-Type: text/plain; charset=utf-8\n"

# Record keys become Pulumi resource names, and in Pulumi a new name is a new resource: the
# live record would be deleted and created again (Pulumi docs, "aliases"). When a key must
# change, map its former key to the new one here; the record then carries the former name
# as an alias and the first `up` after the rename updates it in place.
RENAMED_KEYS: dict[str, str] = {}


@dataclass(frozen=True)
class DesiredState:
    settings: Settings
    policy: Policy
    policy_text: str
    policy_id: str
    records: tuple[DnsRecord, ...]
    files: dict[str, str]

    @property
    def discovery_record(self) -> DnsRecord:
        return next(record for record in self.records if record.key == "sts")

    @property
    def mail_records(self) -> tuple[DnsRecord, ...]:
        """The Proton Mail records (apex MX, SPF, verification, DKIM, DMARC); empty without `proton`."""
        return tuple(record for record in self.records if record.key.startswith(PROTON_KEY_PREFIX))

    def zone_file(self) -> str:
        return "".join(record.zone_line() + "\n" for record in self.records)


def desired_state(settings: Settings) -> DesiredState:
    policy = settings.policy
    text = policy.render()
    return DesiredState(
        settings=settings,
        policy=policy,
        policy_text=text,
        policy_id=policy.id,
        records=with_former_keys(dns_records(settings, policy.id)),
        files=repository_files(settings, text),
    )


def with_former_keys(records: tuple[DnsRecord, ...]) -> tuple[DnsRecord, ...]:
    """Apply `RENAMED_KEYS`: each renamed record gets its new key and remembers the old ones."""
    former: dict[str, list[str]] = {}
    for old, new in RENAMED_KEYS.items():
        former.setdefault(new, []).append(old)
    return tuple(
        replace(
            record,
            key=RENAMED_KEYS.get(record.key, record.key),
            former_keys=(*record.former_keys, *former.get(RENAMED_KEYS.get(record.key, record.key), [])),
        )
        for record in records
    )


def dns_records(settings: Settings, policy_id: str) -> tuple[DnsRecord, ...]:
    """Every record the stack manages in the domain's zone (RFC 8461 §3.1, RFC 8460 §3, RFC 7505)."""
    host = settings.policy_host
    addresses = HOST_IPV4[settings.hosting]
    records = [
        DnsRecord(
            key=f"a-{index}" if len(addresses) > 1 else "a",
            name=host,
            type="A",
            value=address,
            ttl=RECORD_TTL,
        )
        for index, address in enumerate(addresses)
    ]
    # RFC 7505: a name with an A record receives mail through the implicit MX; say it does not.
    records.append(DnsRecord(key="null-mx", name=host, type="MX", value=".", priority=0, ttl=RECORD_TTL))
    records.append(DnsRecord(key="spf", name=host, type="TXT", value=SPF_NONE, ttl=RECORD_TTL))
    records.append(
        DnsRecord(
            key="sts",
            name=discovery_name(settings.domain),
            type="TXT",
            value=discovery_text(policy_id),
            ttl=DISCOVERY_TTL,
        )
    )
    if settings.tls_rpt:
        records.append(
            DnsRecord(
                key="tls-rpt",
                name=tls_rpt_name(settings.domain),
                type="TXT",
                value=tls_rpt_text(settings.tls_rpt),
                ttl=RECORD_TTL,
            )
        )
    if settings.proton:
        records += proton_records(settings.domain, settings.proton)
    return tuple(records)


def proton_records(domain: str, proton: ProtonSettings) -> list[DnsRecord]:
    """What Proton Mail's dashboard asks a custom domain to publish.

    Keys are stable: they become Pulumi resource names, and renaming one would replace
    a live MX or DKIM record.
    """
    records = [
        DnsRecord(
            key="proton-verification",
            name=domain,
            type="TXT",
            value=proton_verification_text(proton.verification),
            ttl=RECORD_TTL,
        )
    ]
    records += [
        DnsRecord(
            key=f"proton-mx-{host.split('.')[0]}",
            name=domain,
            type="MX",
            value=host,
            priority=PROTON_MX_PRIORITIES[host],
            ttl=RECORD_TTL,
        )
        for host in proton.mx_hosts
    ]
    records.append(
        DnsRecord(
            key="proton-spf",
            name=domain,
            type="TXT",
            value=spf_text((PROTON_SPF_INCLUDE, *proton.spf_includes)),
            ttl=RECORD_TTL,
        )
    )
    records += [
        DnsRecord(
            key=f"proton-dkim-{selector}",
            name=f"{selector}._domainkey.{domain}",
            type="CNAME",
            value=target,
            ttl=RECORD_TTL,
        )
        for selector, target in proton.dkim
    ]
    records.append(
        DnsRecord(
            key="proton-dmarc",
            name=f"_dmarc.{domain}",
            type="TXT",
            value=dmarc_text(proton.dmarc.value, proton.dmarc_rua),
            ttl=RECORD_TTL,
        )
    )
    return records


@dataclass(frozen=True)
class ServedRecord:
    """What the stack has served, as remembered in its state across `up`s (RFC 8461 §8.3).

    `largest_max_age`: the largest `max_age` of any policy the stack served. `retiring_since`:
    when the first `up` with `retire` published the `mode: none` policy, or None when not retiring.
    """

    largest_max_age: int
    retiring_since: datetime | None = None

    @property
    def safe_to_destroy_after(self) -> datetime | None:
        return (
            safe_to_destroy_after(self.retiring_since, self.largest_max_age) if self.retiring_since else None
        )


def next_served_record(
    previous: ServedRecord | None,
    *,
    served_max_age: int,
    earlier_max_age: int,
    retire: bool,
    now: datetime,
    published_max_age: int = 0,
) -> ServedRecord:
    """The record after an `up` that serves a policy with `served_max_age`.

    The largest `max_age` only grows: a sender may hold any policy the stack ever served for
    that policy's whole `max_age`, so lowering `maxAge` just before retiring shortens nothing.
    `earlier_max_age` (the configured policy's) counts when there is no record yet, as the
    stack may have served it before the record existed. `published_max_age` is the largest
    recorded before any policy went out (`PublishedMaxAge`): it covers a policy that was
    served by an `up` which failed before advertising it. The retiring time is pinned by the
    first `up` with `retire` and kept by every later one; leaving `retire` clears it.
    """
    recorded = previous.largest_max_age if previous else None
    largest = max(grown_max_age(recorded, served_max_age, earlier_max_age), published_max_age)
    if not retire:
        return ServedRecord(largest)
    since = previous.retiring_since if previous and previous.retiring_since else now
    return ServedRecord(largest, since)


def grown_max_age(recorded: int | None, served_max_age: int, earlier_max_age: int) -> int:
    """The largest `max_age` served, once a policy with `served_max_age` may be served too.

    It only grows. With nothing `recorded` yet, the configured policy's `earlier_max_age`
    counts, as the stack may have served it before the record existed.
    """
    return max(served_max_age, earlier_max_age if recorded is None else recorded)


def safe_to_destroy_after(retiring_since: datetime, largest_max_age: int) -> datetime:
    """When a retired stack may be destroyed (RFC 8461 §8.3).

    A sender may hold any policy the stack served for its whole `max_age` from its last
    fetch, which can be just before the `mode: none` policy went out; so wait the largest
    `max_age` ever served after that moment.
    """
    return retiring_since + timedelta(seconds=largest_max_age)


def repository_files(settings: Settings, policy_text: str) -> dict[str, str]:
    """The files the policy repository holds, and so the files the host serves."""
    files = {
        POLICY_PATH: policy_text,
        "README.md": (
            f"# MTA-STS policy for {settings.domain}\n\n"
            f"Served at {settings.policy_url}.\n\n"
            "Managed by the mta-sts Pulumi stack: change the stack configuration, not these files.\n"
        ),
    }
    if settings.hosting is Hosting.GITHUB_PAGES:
        files[".nojekyll"] = "\n"  # Jekyll drops dot-directories such as .well-known/
        files["CNAME"] = settings.policy_host + "\n"
    else:
        files["_headers"] = NETLIFY_HEADERS  # serve the policy as text/plain (RFC 8461 §3.2)
    return files
