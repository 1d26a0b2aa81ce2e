"""Adopting a zone that already holds some of the records: which to import, which conflict.

Pure planning: the caller looks up what the zone holds at the names the stack manages
(Cloudflare's `get_dns_records`) and hands it here as plain values. A desired record with
a matching existing record is adopted by that record's id, so the first `pulumi up`
updates it in place instead of creating a duplicate. A record that cannot coexist with the
desired state is a conflict, and the program stops before anything changes. Why a record
conflicts is the rules' to say (`mtasts.rules.coexistence` for records sharing a name, each
record kind's own rule for a second one); this module matches records and adds "delete it":

- a CNAME at a name where the stack publishes other records (RFC 1034 §3.6.2), or any
  other record where it publishes a CNAME;
- a second `v=STSv1`, `v=spf1`, `v=TLSRPTv1` or `v=DMARC1` TXT record beyond the one
  adopted: more than one disables MTA-STS (RFC 8461 §3.1), SPF (RFC 7208 §4.5), TLS reporting
  (RFC 8460 §3) or DMARC (RFC 7489 §6.6.3);
- an MX record at a name where the stack publishes MX to another host (the policy would not
  cover it; the null MX must be alone, RFC 7505 §3), an A record beyond those published, or an
  AAAA record at the policy host (IPv6 senders would fetch the policy elsewhere).

Records this stack created carry `MANAGED_COMMENT`; they are Pulumi's already and never
imported or reported. Other records at those names (a `google-site-verification` TXT,
say) are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mtasts.errors import ProblemsError
from mtasts.names import normalize
from mtasts.records import DnsRecord, txt_kind, unquote_txt
from mtasts.rules import coexistence, discovery, mail, tlsrpt

MANAGED_COMMENT = "managed by the mta-sts stack"
# TXT kinds of which a name may hold only one; a verification token may repeat harmlessly.
_UNIQUE_TXT = {"sts", "spf", "tls-rpt", "dmarc"}


@dataclass(frozen=True)
class ExistingRecord:
    """A record as the DNS provider reports it (TXT content may be quoted)."""

    id: str
    name: str
    type: str
    content: str
    priority: int | None = None
    comment: str | None = None

    @property
    def text(self) -> str:
        return unquote_txt(self.content) if self.type == "TXT" else self.content

    @property
    def managed(self) -> bool:
        return self.comment == MANAGED_COMMENT

    def describe(self) -> str:
        value = (
            f"{self.priority} {self.text}" if self.type == "MX" and self.priority is not None else self.text
        )
        return f"{self.name} {self.type} {value!r} (id {self.id})"


@dataclass(frozen=True)
class Conflict:
    record: ExistingRecord
    reason: str

    def message(self) -> str:
        return f"{self.record.describe()}: {self.reason}"


@dataclass(frozen=True)
class AdoptionPlan:
    """`imports` maps a desired record's key to the id of the existing record it adopts."""

    imports: dict[str, str] = field(default_factory=dict)
    conflicts: tuple[Conflict, ...] = ()

    def problems(self) -> list[str]:
        return [conflict.message() for conflict in self.conflicts]


class AdoptionError(ProblemsError):
    """The zone holds records the stack cannot adopt; `problems` says what to delete."""

    heading = (
        "the zone holds records that conflict with what this stack publishes; delete them "
        "(Cloudflare dashboard → the zone → DNS → Records), then run again. Nothing was changed."
    )

    def __init__(self, plan: AdoptionPlan) -> None:
        super().__init__(plan.problems())


def _norm(name: str) -> str:
    return normalize(name)


def _match_key(record: DnsRecord | ExistingRecord) -> tuple[str, str, str | None]:
    """(name, type, kind): records with the same key describe the same thing."""
    if record.type == "TXT":
        text = record.value if isinstance(record, DnsRecord) else record.text
        return _norm(record.name), "TXT", txt_kind(text)
    if record.type in {"MX", "CNAME"}:
        value = record.value if isinstance(record, DnsRecord) else record.content
        if record.type == "CNAME":
            return _norm(record.name), "CNAME", None
        return _norm(record.name), "MX", _norm(value) if value != "." else "."
    return _norm(record.name), record.type, None


def _same_value(desired: DnsRecord, existing: ExistingRecord) -> bool:
    value = existing.text if existing.type == "TXT" else existing.content
    return _norm(value) == _norm(desired.value) if desired.type != "TXT" else value == desired.value


def plan_adoption(
    desired: Sequence[DnsRecord], existing: Iterable[ExistingRecord], *, adopt: bool = True
) -> AdoptionPlan:
    """Decide, for each desired record, which existing record it adopts, and what conflicts.

    With `adopt=False` nothing is imported: every record that would have been adopted is a
    conflict too, so the program still refuses to create a duplicate next to it.
    """
    foreign = [record for record in existing if not record.managed]
    managed = [record for record in existing if record.managed]
    imports: dict[str, str] = {}
    conflicts: list[Conflict] = []
    claimed: set[str] = set()

    def claim(record: DnsRecord, candidate: ExistingRecord) -> None:
        claimed.add(candidate.id)
        if adopt:
            imports[record.key] = candidate.id
        else:
            conflicts.append(
                Conflict(
                    candidate,
                    f"the stack would create {record.type} {record.value!r} next to it and adoption is "
                    "off ('adopt' is false); delete it, or set adopt to true to update it in place",
                )
            )

    groups: dict[tuple[str, str, str | None], list[DnsRecord]] = {}
    for record in desired:
        groups.setdefault(_match_key(record), []).append(record)

    for key, records in groups.items():
        candidates = [record for record in foreign if _match_key(record) == key]
        already = [record for record in managed if _match_key(record) == key]
        # Exact values first: adopting an identical record changes nothing live.
        candidates.sort(key=lambda candidate: not any(_same_value(r, candidate) for r in records))
        if key[1] == "A":
            managed_values = {_norm(record.content) for record in already}
            unmatched = [record for record in records if _norm(record.value) not in managed_values]
            for record in list(unmatched):
                exact = next((c for c in candidates if c.id not in claimed and _same_value(record, c)), None)
                if exact:
                    claim(record, exact)
                    unmatched.remove(record)
            for record in unmatched:
                other = next((c for c in candidates if c.id not in claimed), None)
                if other:
                    claim(record, other)
            conflicts += [
                Conflict(c, f"{coexistence.other_address(c.content).text()}; delete it")
                for c in candidates
                if c.id not in claimed
            ]
            continue
        # One record per key (one TXT of a kind, one MX per host, one CNAME per name).
        record = records[0]
        if not already and candidates:
            claim(record, candidates[0])
        for candidate in candidates:
            if candidate.id in claimed:
                continue
            kind = key[2]
            if key[1] == "TXT" and kind not in _UNIQUE_TXT:
                continue
            conflicts.append(Conflict(candidate, _duplicate_reason(record, kind)))

    conflicts += _incompatible(desired, foreign, claimed)
    return AdoptionPlan(imports=imports, conflicts=tuple(conflicts))


def _duplicate_reason(record: DnsRecord, kind: str | None) -> str:
    """The record's own rule says why a second one breaks it; adoption only adds "delete it"."""
    name = _norm(record.name)
    finding = {
        "sts": lambda: discovery.multiple_records(name, 2),
        "tls-rpt": lambda: tlsrpt.multiple_records(name, 2),
        "spf": lambda: mail.one_spf(name, 2),
        "dmarc": lambda: mail.one_dmarc(name, 2),
    }.get(kind or "", lambda: None)()
    if finding is None:
        return f"a second {record.type} record where the stack publishes {record.value!r}; delete it"
    advice = "; list its senders in proton.spfIncludes instead" if kind == "spf" else ""
    return f"{finding.text()}; delete it{advice}"


def _incompatible(
    desired: Sequence[DnsRecord], foreign: Sequence[ExistingRecord], claimed: set[str]
) -> list[Conflict]:
    """Records of another type that cannot share their name with what the stack publishes."""
    types_at: dict[str, set[str]] = {}
    mx_hosts_at: dict[str, set[str]] = {}
    for record in desired:
        types_at.setdefault(_norm(record.name), set()).add(record.type)
        if record.type == "MX":
            mx_hosts_at.setdefault(_norm(record.name), set()).add(_norm(record.value))
    conflicts = []
    for candidate in foreign:
        if candidate.id in claimed:
            continue
        name = _norm(candidate.name)
        value = _norm(candidate.content) if candidate.type in {"MX", "CNAME"} else candidate.content
        for finding in coexistence.beside(
            types_at.get(name, set()), candidate.type, value, mx_hosts_at.get(name, set())
        ):
            conflicts.append(Conflict(candidate, f"{finding.text()}; delete it"))
    return conflicts
