"""How a verify run is shown: a readable report, or one JSON document."""

from __future__ import annotations

import json
from collections.abc import Sequence

from mtasts.verify.model import MX_TLS, DomainReport, Finding, Outcome, Status
from mtasts.verify.mx_tls import PORT_25_BLOCKED

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


def text_report(reports: Sequence[DomainReport]) -> str:
    lines: list[str] = []
    blocked = [finding for report in reports for finding in report.findings if _port_25_blocked(finding)]
    if blocked:
        # Said once, not once per domain: it is about this machine, not about any domain.
        lines += [f"{_LABEL[blocked[0].status]}  {PORT_25_BLOCKED}", f"        fix: {blocked[0].fix}", ""]
    for report in reports:
        lines.append(f"{report.domain}: {_VERDICT[report.outcome]}")
        for finding in report.findings:
            if _port_25_blocked(finding):
                continue
            lines.append(f"  {_LABEL[finding.status]}  {finding.check}: {finding.message}")
            if finding.fix and finding.status in (Status.FAIL, Status.WARN):
                lines.append(f"        fix: {finding.fix}")
        lines.append("")
    lines.append(summary(reports))
    return "\n".join(lines) + "\n"


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
