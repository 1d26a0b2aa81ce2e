"""How a verify run is shown: a readable report, or one JSON document."""

from __future__ import annotations

import json
from collections.abc import Sequence

from mtasts.verify.model import DomainReport, Status

_LABEL = {Status.PASS: "PASS", Status.WARN: "WARN", Status.FAIL: "FAIL", Status.INFO: "INFO"}


def text_report(reports: Sequence[DomainReport]) -> str:
    lines: list[str] = []
    for report in reports:
        verdict = "FAILED" if report.failed else "ok"
        lines.append(f"{report.domain}: {verdict}")
        for finding in report.findings:
            lines.append(f"  {_LABEL[finding.status]}  {finding.check}: {finding.message}")
            if finding.fix and finding.status in (Status.FAIL, Status.WARN):
                lines.append(f"        fix: {finding.fix}")
        lines.append("")
    lines.append(summary(reports))
    return "\n".join(lines) + "\n"


def summary(reports: Sequence[DomainReport]) -> str:
    failed = sum(report.failed for report in reports)
    warned = sum(
        not report.failed and any(f.status is Status.WARN for f in report.findings) for report in reports
    )
    passed = len(reports) - failed - warned
    return (
        f"{len(reports)} domain(s) checked: {passed} passed, {warned} passed with warnings, {failed} failed"
    )


def json_report(reports: Sequence[DomainReport]) -> str:
    document = {
        "domains": [report.to_dict() for report in reports],
        "failed": any(report.failed for report in reports),
    }
    return json.dumps(document, indent=2) + "\n"
