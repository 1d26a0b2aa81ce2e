"""Reports folded into one summary per policy domain, as they stream in.

`Summary.add` takes one item at a time and keeps only counters, one entry per day and per
distinct policy, and the set of report ids already counted: memory grows with the number of
domains, days and report ids, never with the reports themselves. Reports are
de-duplicated by `report-id` (RFC 8460 §4.4: unique per report), across every source, so
the same report in a Maildir and on the IMAP server counts once. Judging the summary
(is `enforce` safe?) is `verdict`'s job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from mtasts.policy import Policy, PolicyError, parse_policy
from mtasts.reports.model import PolicyResult, PolicyType, Report
from mtasts.reports.sources import Item, Rejected

NOT_DETAILED = "(not detailed)"  # failed sessions the sender counted but did not break down
_TOLERANCE = timedelta(minutes=1)  # date ranges ending at 23:59:59 still cover the whole day


@dataclass
class PolicySeen:
    """One distinct policy the senders reported applying (§4.4 `policy-type`, `policy-string`)."""

    policy_type: PolicyType
    lines: tuple[str, ...]
    policy: Policy | None  # the parsed sts policy, None for other types or an unreadable text
    reports: int = 0
    successful: int = 0
    failed: int = 0

    def describe(self) -> str:
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
class DomainSummary:
    domain: str
    reports: int = 0
    organizations: dict[str, str] = field(default_factory=dict)  # casefolded → as first sent
    start: datetime | None = None
    end: datetime | None = None
    successful: int = 0
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # result type → sessions
    by_mx: Counter[str] = field(default_factory=Counter)
    by_ip: Counter[str] = field(default_factory=Counter)
    sts_failures: Counter[str] = field(default_factory=Counter)  # under policy-type sts only
    policies: dict[tuple[PolicyType, tuple[str, ...]], PolicySeen] = field(default_factory=dict)
    daily: dict[date, list[int]] = field(default_factory=dict)  # day → [successful, failed]

    @property
    def sts_failed(self) -> int:
        return sum(self.sts_failures.values())

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

    def add(self, report: Report, result: PolicyResult, *, new_report: bool = True) -> None:
        """Count one `policies` entry; `new_report` is False for a report's second entry here."""
        if new_report:
            self.reports += 1
            self.organizations.setdefault(report.organization.casefold(), report.organization)
            self.start = min(self.start, report.start) if self.start else report.start
            self.end = max(self.end, report.end) if self.end else report.end
        self.successful += result.successful
        self.failed += result.failed
        day = self.daily.setdefault(report.start.date(), [0, 0])
        day[0] += result.successful
        day[1] += result.failed
        detailed = 0
        for detail in result.failure_details:
            count = detail.failed_session_count
            detailed += count
            self.failures[detail.result_type] += count
            self.by_mx[detail.receiving_mx_hostname] += count
            self.by_ip[detail.sending_mta_ip] += count
            if result.policy_type is PolicyType.STS:
                self.sts_failures[detail.result_type] += count
        if result.failed > detailed:
            self.failures[NOT_DETAILED] += result.failed - detailed
            if result.policy_type is PolicyType.STS:
                self.sts_failures[NOT_DETAILED] += result.failed - detailed
        key = (result.policy_type, tuple(line.strip() for line in result.policy_string))
        seen = self.policies.get(key)
        if seen is None:
            seen = self.policies[key] = PolicySeen(result.policy_type, key[1], _sts_policy(result, key[1]))
        seen.reports += 1
        seen.successful += result.successful
        seen.failed += result.failed


def _sts_policy(result: PolicyResult, lines: tuple[str, ...]) -> Policy | None:
    if result.policy_type is not PolicyType.STS or not lines:
        return None
    try:
        return parse_policy("\n".join(lines) + "\n")
    except PolicyError:
        return None


@dataclass
class Summary:
    since: date | None = None
    domains: dict[str, DomainSummary] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0
    left_out: int = 0  # reports that ended before `since`
    _seen: set[str] = field(default_factory=set)

    def add(self, item: Item) -> None:
        if isinstance(item, Rejected):
            self.rejected.append(item)
            return
        report = item.report
        last_day = max(report.start, report.end - timedelta(seconds=1)).date()  # as DomainSummary.last
        if self.since is not None and last_day < self.since:
            self.left_out += 1
            return
        if report.report_id in self._seen:
            self.duplicates += 1
            return
        self._seen.add(report.report_id)
        counted: set[str] = set()
        for result in report.policies:
            domain = self.domains.get(result.policy_domain)
            if domain is None:
                domain = self.domains[result.policy_domain] = DomainSummary(result.policy_domain)
            domain.add(report, result, new_report=result.policy_domain not in counted)
            counted.add(result.policy_domain)

    @property
    def reports(self) -> int:
        return len(self._seen)

    @property
    def failed(self) -> int:
        return sum(domain.failed for domain in self.domains.values())


def summarise(items: Iterable[Item], since: date | None = None) -> Summary:
    summary = Summary(since=since)
    for item in items:
        summary.add(item)
    return summary
