"""Reports folded into one summary per policy domain, as they stream in.

`Summary.add` takes one item at a time and keeps only counters, one entry per day and per
distinct policy, and the report ids already counted: memory grows with the number of
domains, days and report ids, never with the reports themselves, and every table is
bounded (`MAX_DOMAINS`, `MAX_KEYS`; past them, counts go to an "other" entry).

Reports are de-duplicated by `report-id` (RFC 8460 §4.4: unique per report) and content,
across every source, so the same report in a Maildir and on the IMAP server counts once.
Two reports with one id and different content are a collision: anyone can mail the rua
address and reuse a real sender's id, so neither is taken for the other's duplicate, both
count, and the collision is kept for `verdict` (never safe) and the output to name.
When one report gives a domain's sessions under both a `tlsa` and an `sts` policy with the
same totals, they are the same sessions evaluated against both policies (§4.4: each
`policies` entry is one policy the sender applied, with its own summary): they count once,
under `sts`, and the overlap is kept to be said. `sts` is the one kept because §4.3.2
splits policy failures into DANE-specific and MTA-STS-specific result types: the `sts`
entry holds what MTA-STS validation decided, which is what the MTA-STS mode changes.
With `only` (the stack's domain), other domains' entries are not summarised, only counted
as ignored. Judging the summary is `verdict`'s job.
"""

from __future__ import annotations

import hashlib
import marshal
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from mtasts.policy import Mode, Policy, PolicyError, parse_policy
from mtasts.reports.model import PolicyResult, PolicyType, Report
from mtasts.reports.sources import Item, Rejected
from mtasts.visible import clip

NOT_DETAILED = "(not detailed)"  # failed sessions the sender counted but did not break down
OTHER = "(other)"  # where counts go once a table holds MAX_KEYS entries
# The policy table's key lines for its "other" entry. Every key's lines are stripped, so no
# report's policy-string gives a line that starts with a space: a report sending the line
# "(other)" cannot take the entry's place and drop the enforce failures it keeps.
OTHER_LINES = (f" {OTHER}",)
_TOLERANCE = timedelta(minutes=1)  # date ranges ending at 23:59:59 still cover the whole day
MAX_DOMAINS = 1_000  # policy domains summarised; entries for more are counted as ignored
MAX_KEYS = 1_000  # distinct result types, MX hosts, IPs or policies kept per domain
MAX_LISTED = 200  # rejected inputs, skipped entries and collisions kept to be named
MAX_SHARED = 10_000  # organizations and domain tuples the id table shares
MAX_ORIGINS = 10  # places named per colliding report id
_ORIGIN_CHARACTERS = 1_000  # of a path, an IMAP URL or a Message-ID kept to be shown
_REASON_CHARACTERS = 4_000

_T = TypeVar("_T")


def _bump(counts: Counter[str], key: str, count: int) -> None:
    counts[key if key in counts or len(counts) < MAX_KEYS else OTHER] += count


@dataclass
class PolicySeen:
    """One distinct policy the senders reported applying (§4.4 `policy-type`, `policy-string`)."""

    policy_type: PolicyType
    lines: tuple[str, ...]
    policy: Policy | None  # the parsed sts policy, None for other types or an unreadable text
    reports: int = 0
    successful: int = 0
    failed: int = 0
    other: bool = False  # the entry for policies past MAX_KEYS distinct ones
    # Of the "other" entry: failed sessions under the policies in it that say `mode: enforce`,
    # refused mail (`verdict.enforced_failures`) however many made-up policies came first.
    enforce_failed: int = 0
    # The domain's report (its `reports` count) this policy was last counted for: one report
    # may send the same policy in many entries, and `reports` counts reports.
    counted_for: int = field(default=0, repr=False, compare=False)

    def describe(self) -> str:
        if self.other:
            enforced = f"; {self.enforce_failed:,} failed under mode enforce" if self.enforce_failed else ""
            return f"{self.policy_type.value} (other policies, past the first {MAX_KEYS:,}{enforced})"
        if self.policy_type is PolicyType.NO_POLICY_FOUND:
            return "no policy found"
        if self.policy_type is PolicyType.TLSA:
            return f"tlsa ({len(self.lines)} TLSA record{'s' * (len(self.lines) != 1)})"
        if self.policy is None:
            return "sts (policy text not reported)" if not self.lines else "sts (policy text unreadable)"
        return (
            f"sts mode {self.policy.mode.value}, mx {', '.join(self.policy.mx) or '(none)'}, "
            f"max_age {self.policy.max_age}"
        )


@dataclass
class Coverage:
    """Who reported, and the days their reports cover."""

    organizations: dict[str, str] = field(default_factory=dict)  # casefolded → as first sent
    start: datetime | None = None
    end: datetime | None = None

    def add(self, report: Report) -> None:
        organization = report.organization.casefold()
        if organization in self.organizations or len(self.organizations) < MAX_KEYS:
            self.organizations.setdefault(organization, report.organization)
        self.start = min(self.start, report.start) if self.start else report.start
        self.end = max(self.end, report.end) if self.end else report.end

    @property
    def first(self) -> date | None:
        return self.start.date() if self.start else None

    @property
    def last(self) -> date | None:
        """The last day covered; an end at midnight (Microsoft's style) closes the day before."""
        if self.start is None or self.end is None:
            return None
        return max(self.start, self.end - timedelta(seconds=1)).date()

    @property
    def span_days(self) -> int:
        """Whole days between the first report's start and the last report's end."""
        if self.start is None or self.end is None:
            return 0
        return int((self.end - self.start + _TOLERANCE) / timedelta(days=1))


@dataclass
class DomainSummary:
    domain: str
    reports: int = 0
    coverage: Coverage = field(default_factory=Coverage)  # of every report about the domain
    successful: int = 0
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # result type → sessions
    by_mx: Counter[str] = field(default_factory=Counter)
    by_ip: Counter[str] = field(default_factory=Counter)
    sts_failures: Counter[str] = field(default_factory=Counter)  # under policy-type sts only
    policies: dict[tuple[PolicyType, tuple[str, ...]], PolicySeen] = field(default_factory=dict)
    daily: dict[date, list[int]] = field(default_factory=dict)  # day → [successful, failed]
    collisions: set[str] = field(default_factory=set)  # report ids sent with different content
    overlaps: Counter[str] = field(default_factory=Counter)  # organization → reports giving tlsa = sts
    # What `enforce` is judged on: the organizations and days of the reports in which a sender
    # applied the sts policy. Reports saying `no-policy-found` (from before the policy was
    # published, say) or only `tlsa` show nothing of senders refreshing and applying it.
    sts_coverage: Coverage = field(default_factory=Coverage)
    # The last policy text seen and its lines stripped: a domain's senders report the same
    # policy again and again, and comparing is cheaper than stripping each line anew.
    _last_policy_string: tuple[str, ...] = field(default=(), repr=False, compare=False)
    _last_stripped: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def sts_failed(self) -> int:
        return sum(self.sts_failures.values())

    @property
    def organizations(self) -> dict[str, str]:
        return self.coverage.organizations

    @property
    def first(self) -> date | None:
        return self.coverage.first

    @property
    def last(self) -> date | None:
        return self.coverage.last

    @property
    def span_days(self) -> int:
        return self.coverage.span_days

    def add(
        self, report: Report, result: PolicyResult, *, new_report: bool = True, counted: bool = True
    ) -> None:
        """Count one `policies` entry; `new_report` is False for a report's second entry here,
        `counted` False for an entry that repeats sessions another entry already counted."""
        if new_report:
            self.reports += 1
            self.coverage.add(report)
        seen = self._policy(result)
        if result.policy_type is PolicyType.STS and not applies_nothing(seen):
            self.sts_coverage.add(report)
        if not counted:
            return
        self.successful += result.successful
        self.failed += result.failed
        day = self.daily.get(report.start.date())
        if day is None:
            day = self.daily[report.start.date()] = [0, 0]
        day[0] += result.successful
        day[1] += result.failed
        detailed = 0
        sts = result.policy_type is PolicyType.STS
        for detail in result.failure_details:
            count = detail.failed_session_count
            detailed += count
            _bump(self.failures, detail.result_type, count)
            _bump(self.by_mx, detail.receiving_mx_hostname, count)
            _bump(self.by_ip, detail.sending_mta_ip, count)
            if sts:
                _bump(self.sts_failures, detail.result_type, count)
        if result.failed > detailed:
            _bump(self.failures, NOT_DETAILED, result.failed - detailed)
            if sts:
                _bump(self.sts_failures, NOT_DETAILED, result.failed - detailed)

    def _policy(self, result: PolicyResult) -> PolicySeen:
        if result.policy_string != self._last_policy_string:
            self._last_policy_string = result.policy_string
            self._last_stripped = tuple(line.strip() for line in result.policy_string)
        key = (result.policy_type, self._last_stripped)
        seen = self.policies.get(key)
        if seen is None and len(self.policies) >= MAX_KEYS:
            key = (result.policy_type, OTHER_LINES)
            seen = self.policies.get(key)
            if seen is None:
                seen = self.policies[key] = PolicySeen(result.policy_type, (), None, other=True)
            if result.failed and _enforces(_sts_policy(result, self._last_stripped)):
                seen.enforce_failed += result.failed
        if seen is None:
            seen = self.policies[key] = PolicySeen(result.policy_type, key[1], _sts_policy(result, key[1]))
        if seen.counted_for != self.reports:  # `add` counted this report before calling
            seen.counted_for = self.reports
            seen.reports += 1
        seen.successful += result.successful
        seen.failed += result.failed
        return seen


def applies_nothing(seen: PolicySeen) -> bool:
    """An sts policy in mode none: its senders treat the domain as having no policy (RFC 8461
    §5), so they validate nothing, and their clean sessions say nothing about enforce."""
    return seen.policy is not None and seen.policy.mode is Mode.NONE


def _sts_policy(result: PolicyResult, lines: tuple[str, ...]) -> Policy | None:
    if result.policy_type is not PolicyType.STS or not lines:
        return None
    try:
        return parse_policy("\n".join(lines) + "\n")
    except PolicyError:
        return None


def _enforces(policy: Policy | None) -> bool:
    return policy is not None and policy.mode is Mode.ENFORCE


# The enum's `.value` is a property lookup; this runs for every policy of every report.
_TYPE_NAMES = {kind: kind.value for kind in PolicyType}


def content_digest(report: Report) -> bytes:
    """What a report says, as a digest: equal for equal content however it was encoded.

    Every field of `Report`, `PolicyResult` and `FailureDetail` goes in (a test checks each),
    in one flat list that still reads back one way: each policy's fields, then how many
    failure details it has, then theirs. marshal version 2 writes no back-references, so
    equal values give equal bytes, and it is a few times faster than `repr`."""
    flat = [
        report.organization,
        report.report_id,
        report.start.timestamp(),
        report.end.timestamp(),
        report.contact,
        report.skipped,
    ]
    for policy in report.policies:
        details = policy.failure_details
        flat += (
            _TYPE_NAMES[policy.policy_type],
            policy.policy_domain,
            policy.policy_string,
            policy.successful,
            policy.failed,
            len(details),
        )
        for detail in details:
            flat += (
                detail.result_type,
                detail.sending_mta_ip,
                detail.receiving_mx_hostname,
                detail.failed_session_count,
            )
    return hashlib.blake2b(marshal.dumps(flat, 2), digest_size=16).digest()


@dataclass
class Collision:
    """One report id sent with different content: where each version was read, and about what."""

    report_id: str
    origins: list[str]
    organizations: list[str]
    domains: set[str]
    _digests: set[bytes] = field(default_factory=set, repr=False)


@dataclass(frozen=True)
class Skipped:
    """A `policies` entry left out of a report that otherwise counts (`Report.skipped`)."""

    origin: str
    reason: str


@dataclass
class Summary:
    since: date | None = None
    only: str | None = None  # the one policy domain summarised (the stack's), or every one
    domains: dict[str, DomainSummary] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    rejected_unlisted: int = 0  # rejected inputs past MAX_LISTED, counted but not kept
    skipped: list[Skipped] = field(default_factory=list)
    skipped_unlisted: int = 0
    collisions: dict[str, Collision] = field(default_factory=dict)
    ignored: Counter[str] = field(default_factory=Counter)  # domain → reports not summarised
    duplicates: int = 0
    left_out: int = 0  # reports that ended before `since`
    # report id → (content digest, where it was read, its organization, its domains): the one
    # table that grows with the input, as de-duplication needs (RFC 8460 §4.4)
    _seen: dict[str, tuple[bytes, str, str, tuple[str, ...]]] = field(default_factory=dict)
    _collided: int = 0  # reports counted although their id was seen, with other content
    # The content digests of the colliding ids past MAX_LISTED, not listed but still told apart
    # from a copy of one of their versions.
    _unlisted_digests: dict[str, set[bytes]] = field(default_factory=dict)
    # One copy of each organization and tuple of domains kept in `_seen`: thousands of reports
    # share a few of each, and a copy per report was a third of the table. Bounded, for a
    # sender that makes up a new organization per report.
    _shared: dict[object, object] = field(default_factory=dict)

    def add(self, item: Item) -> None:
        if isinstance(item, Rejected):
            self._reject(item)
            return
        report = item.report
        if self.since is not None:
            last_day = max(report.start, report.end - timedelta(seconds=1)).date()  # as DomainSummary.last
            if last_day < self.since:
                self.left_out += 1
                return
        digest = content_digest(report)
        first = self._seen.get(report.report_id)
        collision = None
        if first is not None:
            known = self.collisions.get(report.report_id)
            digests = known._digests if known is not None else self._unlisted_digests.get(report.report_id)
            if digest == first[0] or (digests is not None and digest in digests):
                self.duplicates += 1
                return
            collision = self._collide(report, item.origin, digest, first)
        domains = self._count(report)
        if first is None:
            organization, domains = self._share(report.organization), self._share(domains)
            self._seen[report.report_id] = (digest, item.origin, organization, domains)
        if collision is not None:
            collision.domains.update(domains)
            for name in collision.domains:
                if name in self.domains:
                    self.domains[name].collisions.add(report.report_id)
        for reason in report.skipped:
            if len(self.skipped) < MAX_LISTED:
                self.skipped.append(Skipped(clip(item.origin, _ORIGIN_CHARACTERS), reason))
            else:
                self.skipped_unlisted += 1

    def _share(self, value: _T) -> _T:
        shared = self._shared.get(value)
        if shared is None:
            if len(self._shared) >= MAX_SHARED:
                return value
            shared = self._shared[value] = value
        return shared  # type: ignore[return-value]  # equal to `value`, so of its type

    def _collide(
        self, report: Report, origin: str, digest: bytes, first: tuple[bytes, str, str, tuple[str, ...]]
    ) -> Collision:
        collision = self.collisions.get(report.report_id)
        if collision is None:
            digests = self._unlisted_digests.get(report.report_id) or {first[0]}
            collision = Collision(report.report_id, [first[1]], [first[2]], set(first[3]), digests)
            if len(self.collisions) < MAX_LISTED:
                self.collisions[report.report_id] = collision
            else:
                self._unlisted_digests[report.report_id] = digests
        collision._digests.add(digest)
        self._collided += 1
        if len(collision.origins) < MAX_ORIGINS:
            collision.origins.append(clip(origin, _ORIGIN_CHARACTERS))
            collision.organizations.append(report.organization)
        return collision

    def _count(self, report: Report) -> tuple[str, ...]:
        """Count a report's entries; the domains it was counted under, as the summary spells them."""
        sts_totals = (
            {
                (result.policy_domain, result.successful, result.failed)
                for result in report.policies
                if result.policy_type is PolicyType.STS
            }
            if len(report.policies) > 1
            else set()
        )
        counted: dict[str, DomainSummary] = {}
        ignored: set[str] = set()
        for result in report.policies:
            name = result.policy_domain
            domain = self.domains.get(name)
            if domain is None:
                if (self.only is not None and name != self.only) or len(self.domains) >= MAX_DOMAINS:
                    if name not in ignored:
                        ignored.add(name)
                        _bump(self.ignored, name, 1)
                    continue
                domain = self.domains[name] = DomainSummary(name)
            repeat = bool(sts_totals) and (
                result.policy_type is PolicyType.TLSA
                and (name, result.successful, result.failed) in sts_totals
            )
            if repeat:  # bounded as every table: each report names its organization as it likes
                _bump(domain.overlaps, report.organization, 1)
            domain.add(report, result, new_report=name not in counted, counted=not repeat)
            counted[name] = domain
        return tuple(domain.domain for domain in counted.values())

    def _reject(self, item: Rejected) -> None:
        if len(self.rejected) >= MAX_LISTED and not item.whole_source:  # whole sources are few: named
            self.rejected_unlisted += 1
            return
        self.rejected.append(
            Rejected(
                clip(item.origin, _ORIGIN_CHARACTERS),
                clip(item.reason, _REASON_CHARACTERS),
                None if item.message_id is None else clip(item.message_id, _ORIGIN_CHARACTERS),
                item.whole_source,
            )
        )

    @property
    def reports(self) -> int:
        return len(self._seen) + self._collided

    @property
    def failed(self) -> int:
        return sum(domain.failed for domain in self.domains.values())


def summarise(items: Iterable[Item], since: date | None = None, only: str | None = None) -> Summary:
    summary = Summary(since=since, only=only)
    for item in items:
        summary.add(item)
    return summary
