"""How a verify run is shown: a readable report, or one JSON document.

Messages escape the text they quote from the network where they are built (`mtasts.visible`),
so both forms show the same words; the readable report also escapes, line by line, any
unprintable character a message let through (`mtasts.visible.printable`, which doubles no
backslash of an escape a message already wrote). JSON needs neither: `json.dumps`
escapes every control and non-ASCII character.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from mtasts.verify.model import MX_TLS, DomainReport, Finding, Outcome, Status
from mtasts.verify.mx_tls import PORT_25_BLOCKED
from mtasts.visible import listing, printable

_LABEL = {
    Status.PASS: "PASS",
    Status.WARN: "WARN",
    Status.FAIL: "FAIL",
    Status.INFO: "INFO",
    Status.UNCHECKED: "NOT CHECKED",
}
_VERDICT = {
    Outcome.PASSED: "ok",
    Outcome.WARNINGS: "ok",
    Outcome.FAILED: "FAILED",
    Outcome.UNCHECKED: "COULD NOT CHECK",
}


def _port_25_blocked(finding: Finding) -> bool:
    return finding.check == MX_TLS and finding.message == PORT_25_BLOCKED


# The question in a "could not check" message (`_mta-sts.example.com TXT`): lookups that failed
# alike differ only in it.
_QUESTION = re.compile(r"\S+ (?:A|AAAA|MX|TXT|CNAME|TLSA|DS|DNSKEY|NS|SOA)\b")


def _shown(findings: Sequence[Finding]) -> list[tuple[Finding, str]]:
    """Each finding with its check's name, the "could not check" ones that failed alike (the
    resolver or the network down) folded into the first, which says how many more there were."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.status is Status.UNCHECKED:
            groups.setdefault(_QUESTION.sub("…", finding.message), []).append(finding)
    unchecked_only = all(f.status in (Status.UNCHECKED, Status.INFO) for f in findings)
    shown = []
    for finding in findings:
        if finding.status is Status.INFO and unchecked_only and groups:
            continue  # "not judged" follows from what could not be checked
        if finding.status is not Status.UNCHECKED:
            shown.append((finding, f"{finding.check}: {finding.message}"))
            continue
        group = groups[_QUESTION.sub("…", finding.message)]
        if finding is not group[0]:
            continue
        others = ", ".join(dict.fromkeys(f.check for f in group[1:] if f.check != finding.check))
        more = f"; the same for {len(group) - 1} more lookups" if len(group) > 1 else ""
        more += f" ({others})" if others else ""
        shown.append((finding, f"{finding.check}: {finding.message}{more}"))
    return shown


def text_report(reports: Sequence[DomainReport]) -> str:
    lines: list[str] = []
    blocked = [finding for report in reports for finding in report.findings if _port_25_blocked(finding)]
    if blocked:
        # Said once, not once per domain: it is about this machine, not about any domain.
        lines += [f"{_LABEL[blocked[0].status]}  {PORT_25_BLOCKED}", f"        fix: {blocked[0].fix}", ""]
    for report in reports:
        lines.append(f"{report.domain}: {_VERDICT[report.outcome]}")
        for finding, text in _shown([f for f in report.findings if not _port_25_blocked(f)]):
            lines.append(f"  {_LABEL[finding.status]}  {text}")
            if finding.fix and finding.status in (Status.FAIL, Status.WARN):
                lines.append(f"        fix: {finding.fix}")
        lines.append("")
    lines += _named_at_end(reports)
    lines.append(summary(reports))
    return "\n".join(printable(line) for line in lines) + "\n"


# Domains named again at the end of a report on many: the ones to act on, found without
# scrolling through hundreds of others; past this many, the rest are counted.
NAMED_AT_END = 50


def _named_at_end(reports: Sequence[DomainReport]) -> list[str]:
    if len(reports) < 2:
        return []
    lines = []
    for outcome, label in ((Outcome.FAILED, "failed"), (Outcome.UNCHECKED, "could not check")):
        names = [report.domain for report in reports if report.outcome is outcome]
        if names:
            lines.append(f"{label}: {listing(names, NAMED_AT_END, show=str)}")
    return lines


def summary(reports: Sequence[DomainReport]) -> str:
    counts = {outcome: sum(report.outcome is outcome for report in reports) for outcome in Outcome}
    text = (
        f"{len(reports)} domain(s) checked: {counts[Outcome.PASSED]} passed, "
        f"{counts[Outcome.WARNINGS]} passed with warnings, {counts[Outcome.FAILED]} failed"
    )
    if counts[Outcome.UNCHECKED]:
        text += (
            f", {counts[Outcome.UNCHECKED]} could not be checked (the resolver or the network did not "
            "answer: try again, or use --nameserver)"
        )
    return text


def json_report(reports: Sequence[DomainReport]) -> str:
    document = {
        "domains": [report.to_dict() for report in reports],
        "failed": any(report.failed for report in reports),
        "could_not_check": any(report.outcome is Outcome.UNCHECKED for report in reports),
    }
    return json.dumps(document, indent=2) + "\n"
