"""The report tests hold in any year.

The parser refuses a report that starts more than five years before `now` or ends more than a
day after it (`MAX_AGE`, `CLOCK_SKEW`; RFC 8460 §4.1 reports are daily), and `reports` takes
`now` from the clock. So every fixture read by the clock is dated from today: the samples
through `recent_samples`, built reports through `days_ago`, the benchmark's corpus the same
way. Here each of those builders runs with a `today` years ahead, and what it builds reads at
that day as it reads now; the samples as committed, with their 2026 dates, would not.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.reports_benchmark import documents
from mtasts.reports import model, sources
from mtasts.reports.model import MAX_AGE, ReportError, parse_report
from mtasts.reports.sources import read_paths
from mtasts.reports.summary import Summary, summarise
from tests.twin.reportmail import SAMPLES, STYLES, days_ago, gz, make_report, recent_samples

TODAY = days_ago(0)
# Years ahead: past MAX_AGE from the samples' own dates, then far past it.
AHEAD = [6, 30, 80]


def years_ahead(years: int) -> date:
    return TODAY + timedelta(days=round(365.25 * years))


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), UTC)


def read_at(monkeypatch: pytest.MonkeyPatch, now: datetime, root: Path) -> Summary:
    """What `reports ROOT` summarises when its clock says `now` (read_paths reads by the clock)."""
    monkeypatch.setattr(sources, "parse_report", functools.partial(model.parse_report, now=now))
    return summarise(read_paths([str(root)]))


def outline(summary: Summary, today: date) -> dict[str, Any]:
    """What a test of the samples looks at, with each date as days before `today`."""
    return {
        "domains": {
            name: (
                domain.reports,
                sorted(domain.organizations.values()),
                (domain.successful, domain.failed, dict(domain.failures)),
                domain.coverage.start and domain.coverage.start.date() - today,
                domain.coverage.end and domain.coverage.end.date() - today,
                sorted(day - today for day in domain.daily),
            )
            for name, domain in summary.domains.items()
        },
        "rejected": sorted(item.reason for item in summary.rejected),
        "duplicates": summary.duplicates,
    }


@pytest.mark.parametrize("years", AHEAD)
def test_the_samples_moved_to_a_later_year_read_there_as_they_read_today(
    years: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    later = years_ahead(years)
    today = outline(read_at(monkeypatch, noon(TODAY), recent_samples(tmp_path / "today", TODAY)), TODAY)
    assert sum(domain[0] for domain in today["domains"].values()) == 6 and len(today["rejected"]) == 4
    moved = outline(read_at(monkeypatch, noon(later), recent_samples(tmp_path / "later", later)), later)
    assert moved == today
    # The samples as committed are refused then, each as too old: moving them is what reads them.
    committed = read_at(monkeypatch, noon(later), SAMPLES)
    assert committed.domains == {}
    too_old = [
        item for item in committed.rejected if f"more than {MAX_AGE.days // 366} years ago" in item.reason
    ]
    assert len(too_old) == 6


@pytest.mark.parametrize("years", AHEAD)
def test_reports_built_from_a_later_today_pass_the_bound_on_that_day(years: int) -> None:
    later = years_ahead(years)
    now = noon(later)
    for style in STYLES:
        for days in (0, 1, 30, 365):
            report = parse_report(gz(make_report(days_ago(days, later), style=style)), now=now)
            assert report.start.date() == later - timedelta(days=days), (style, days)
    corpus = list(documents(200, later))
    assert {parse_report(gz(document), now=now).report_id for _, document in corpus} == {
        f"bench-{number:06d}" for number in range(200)
    }
    # A report built on a fixed 2026 day, as the tests once were, is refused then.
    with pytest.raises(ReportError, match="years ago"):
        parse_report(gz(make_report(date(2026, 10, 1))), now=now)
