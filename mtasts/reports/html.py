"""`--html FILE`: the summary as one self-contained page, for people rather than terminals.

Per policy domain: a chart of successful and failed sessions per day (inline SVG, two
panels with their own scale, since a handful of failures next to thousands of successes
would be an invisible sliver on one scale), the failures by result type, receiving MX
host and sending IP, the policies senders saw, and the verdict on `enforce`. The page
loads nothing: no script, no font, no image from anywhere, and its Content-Security-Policy
forbids it, so it can be opened from a mail attachment or a CI artifact offline. Every
value from a report is made visible (`mtasts.visible`: control characters and bidirectional
overrides escaped, length bounded) and then HTML-escaped; the chart shows at most
`MAX_CHART_DAYS`, the latest, and the page's charts `MAX_PAGE_CHART_DAYS` in all, so the page
stays small whatever the reports claim.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from html import escape

from mtasts.reports.summary import DomainSummary, Summary
from mtasts.reports.verdict import Verdict, shown_domain, top
from mtasts.visible import clip, visible

SUCCESS_COLOUR = "#2e7d32"
FAILURE_COLOUR = "#c62828"
_WIDTH, _PANEL, _LEFT, _GAP = 720, 110, 70, 34
MAX_CHART_DAYS = 400  # bars per panel; the totals above the chart count every day
# Days drawn on the whole page: 400 for each of the first 20 domains, fewer each past that
# (never under two weeks). Two reports of 1,000 domains, 400 days apart, drew 800 bars per
# domain, a 100 MB page from 600 kB of reports.
MAX_PAGE_CHART_DAYS, MIN_CHART_DAYS = 8_000, 14

_STYLE = f"""
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }}
table {{ border-collapse: collapse; margin: .5em 0; }}
th, td {{ text-align: left; padding: .15em .8em .15em 0; border-bottom: 1px solid #eee; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.ready {{ color: {SUCCESS_COLOUR}; }} .blocked {{ color: {FAILURE_COLOUR}; }}
svg text {{ font: 11px system-ui, sans-serif; fill: #444; }}
.old {{ color: #8a6d00; }}
"""


def _text(value: str, limit: int = 200) -> str:
    """Text from a report, as the page shows it: visible, bounded, HTML-escaped."""
    return escape(visible(value, limit))


def _domain(name: str) -> str:
    """A policy domain as the page shows it: as the terminal does (`shown_domain`), HTML-escaped."""
    return escape(shown_domain(name))


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'s' * (number != 1)}"


def _days(domain: DomainSummary, shown: int) -> list[date]:
    if not domain.daily:
        return []
    first, last = min(domain.daily), max(domain.daily)
    first = max(first, last - timedelta(days=shown - 1))
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def chart(domain: DomainSummary, shown: int = MAX_CHART_DAYS) -> str:
    """Two bar panels, successful then failed sessions per day (the latest `shown` days), each
    with a `<title>` per bar."""
    days = _days(domain, shown)
    if not days:
        return ""
    step = (_WIDTH - _LEFT - 10) / len(days)
    bar = min(24.0, max(1.0, step * 0.8))  # a week of reports should not look like a wall
    height = 2 * (_PANEL + _GAP) + 10
    parts = [
        f'<svg class="chart" role="img" width="{_WIDTH}" height="{height}" viewBox="0 0 {_WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="sessions per day for {_domain(domain.domain)}">'
    ]
    for panel, (label, index, colour) in enumerate(
        (("successful", 0, SUCCESS_COLOUR), ("failed", 1, FAILURE_COLOUR))
    ):
        top = 10 + panel * (_PANEL + _GAP)
        base = top + _PANEL
        peak = max(domain.daily.get(day, [0, 0])[index] for day in days)
        parts.append(f'<text x="0" y="{top + 10}">{label}</text>')
        parts.append(f'<text x="0" y="{top + 26}">max {peak:,}</text>')
        parts.append(f'<line x1="{_LEFT}" y1="{base}" x2="{_WIDTH - 10}" y2="{base}" stroke="#999"/>')
        for number, day in enumerate(days):
            value = domain.daily.get(day, [0, 0])[index]
            tall = 0.0 if not peak else max(1.0, _PANEL * value / peak) if value else 0.0
            x = _LEFT + number * step
            parts.append(
                f'<rect class="{label}" x="{x:.1f}" y="{base - tall:.1f}" '
                f'width="{bar:.1f}" height="{tall:.1f}" '
                f'fill="{colour}"><title>{day}: {value:,} {label}</title></rect>'
            )
        parts.append(f'<text x="{_LEFT}" y="{base + 14}">{days[0]}</text>')
        parts.append(f'<text x="{_WIDTH - 10}" y="{base + 14}" text-anchor="end">{days[-1]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(rows: list[tuple[str, str, int]]) -> str:
    if not rows:
        return "<p>No failed session.</p>"
    body = "".join(
        f'<tr><td>{escape(kind)}</td><td>{_text(key)}</td><td class="n">{count:,}</td></tr>'
        for kind, key, count in rows
    )
    head = "<tr><th>by</th><th>value</th><th>failed sessions</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"


def _failure_rows(domain: DomainSummary) -> list[tuple[str, str, int]]:
    rows = []
    for kind, counts in (
        ("result type", domain.failures),
        ("receiving MX host", domain.by_mx),
        ("sending IP", domain.by_ip),
    ):
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        rows += [(kind, key, count) for key, count in ranked[:100]]  # the rest sums into the totals
    return rows


def _domain_section(
    domain: DomainSummary, verdict: Verdict, current: Mapping[str, bool], chart_days: int
) -> str:
    organizations = ", ".join(visible(name) for name in sorted(domain.organizations.values()))
    rows = []
    for seen in domain.policies.values():
        old = current.get(seen.describe()) is False
        numbers = "".join(f'<td class="n">{n:,}</td>' for n in (seen.reports, seen.successful, seen.failed))
        rows.append(
            f"<tr{' class=old' if old else ''}><td>{_text(seen.describe(), 1000)}"
            f"{' (not what the stack serves now)' if old else ''}</td>{numbers}</tr>"
        )
    policies = "".join(rows)
    state = "ready" if verdict.ready else "blocked"
    first, *others = verdict.reasons
    items = "".join(f"<li>also: {escape(reason)}</li>" for reason in others)
    also = f'<ul class="{state}">{items}</ul>' if others else ""
    return f"""
<section class="domain" id="{_domain(domain.domain)}">
<h2>{_domain(domain.domain)}</h2>
<p>{_count(domain.reports, "report")} from {escape(organizations)}, {domain.first} to {domain.last}:
<strong>{domain.successful:,}</strong> successful and <strong>{domain.failed:,}</strong> failed sessions.</p>
{_overlaps(domain)}<p class="{state}">enforce: {verdict.state}: {escape(first)}</p>{also}
{chart(domain, chart_days)}
<h3>Failures</h3>
{_table(_failure_rows(domain))}
<h3>Policies senders saw</h3>
<table><thead><tr><th>policy</th><th>reports</th><th>successful</th><th>failed</th></tr></thead>
<tbody>{policies}</tbody></table>
</section>"""


def html_page(
    summary: Summary, verdicts: Mapping[str, Verdict], current: Mapping[str, Mapping[str, bool]] | None = None
) -> str:
    """The page; `current` maps domain → policy description → whether the stack serves it now."""
    chart_days = max(MIN_CHART_DAYS, min(MAX_CHART_DAYS, MAX_PAGE_CHART_DAYS // max(1, len(summary.domains))))
    sections = "".join(
        _domain_section(domain, verdicts[name], (current or {}).get(name, {}), chart_days)
        for name, domain in sorted(summary.domains.items())
    )
    rejected = ""
    if summary.rejected:
        items = "".join(
            f"<li><code>{_text(item.origin)}</code>: {_text(item.reason, 1000)}</li>"
            for item in summary.rejected
        )
        more = f"; {summary.rejected_unlisted:,} more not listed" if summary.rejected_unlisted else ""
        rejected = f"<h2>Rejected inputs ({len(summary.rejected)}{more}), not counted</h2><ul>{items}</ul>"
    rejected = _collisions(summary) + _ignored(summary) + _skipped(summary) + rejected
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TLS reports (RFC 8460)</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>TLS reports: {_count(summary.reports, "report")} about {_count(len(summary.domains), "domain")}</h1>
{sections or "<p>No report was read.</p>"}
{rejected}
</body>
</html>
"""


def _overlaps(domain: DomainSummary) -> str:
    if not domain.overlaps:
        return ""
    return (
        f"<p>Same sessions under tlsa and sts in one report: {escape(top(domain.overlaps, 10))} "
        "report(s); counted once, under sts (the policy whose mode is judged).</p>\n"
    )


def _collisions(summary: Summary) -> str:
    if not summary.collisions:
        return ""
    items = "".join(
        f"<li><code>{_text(collision.report_id)}</code> about "
        f"{escape(clip(', '.join(map(shown_domain, sorted(collision.domains))), 1000))}: "
        + "; ".join(
            f"<code>{_text(origin)}</code> (from {_text(organization)})"
            for origin, organization in zip(collision.origins, collision.organizations, strict=True)
        )
        + "</li>"
        for collision in summary.collisions.values()
    )
    return (
        f'<h2 class="blocked">Report ids sent with different content ({len(summary.collisions)})</h2>'
        "<p>Each version is counted, and enforce is not judged safe for their domains: one may be "
        f"forged.</p><ul>{items}</ul>"
    )


def _ignored(summary: Summary) -> str:
    if not summary.ignored:
        return ""
    why = f"not {escape(summary.only)}, the stack's domain" if summary.only else "past the first domains"
    ignored = escape(top(summary.ignored, 10, shown_domain))
    return f"<h2>Ignored ({why}), not counted</h2><p>{ignored} report(s)</p>"


def _skipped(summary: Summary) -> str:
    if not summary.skipped:
        return ""
    items = "".join(
        f"<li><code>{_text(item.origin)}</code>: {_text(item.reason, 1000)}</li>" for item in summary.skipped
    )
    more = f"; {summary.skipped_unlisted:,} more not listed" if summary.skipped_unlisted else ""
    return (
        f"<h2>Policies entries skipped ({len(summary.skipped)}{more})</h2>"
        f"<p>The rest of each report is counted.</p><ul>{items}</ul>"
    )
