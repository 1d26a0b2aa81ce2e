"""What a rule returns: plain findings that each consumer phrases for its own audience."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Severity(enum.IntEnum):
    """How bad a finding is. FAIL: a sender sees no policy (or refuses mail, or reports
    nothing). WARN: senders that follow the RFC cope, but some would not, or it is a risk.
    INFO: worth saying, nothing to fix."""

    INFO = 1
    WARN = 2
    FAIL = 3


@dataclass(frozen=True)
class Finding:
    """`code` is stable (tests and users match on it); `seen` says what was found,
    `fix` what to do, `rfc` the section the rule comes from, `subject` the host, record
    or value it is about (for a consumer that phrases it in its own words)."""

    code: str
    severity: Severity
    seen: str
    fix: str = ""
    rfc: str = ""
    subject: str = ""

    @property
    def failed(self) -> bool:
        return self.severity is Severity.FAIL

    def text(self) -> str:
        """`seen (RFC …)`, the form every consumer starts from."""
        return f"{self.seen} ({self.rfc})" if self.rfc and self.rfc not in self.seen else self.seen


def worst(findings: Iterable[Finding]) -> Severity | None:
    return max((finding.severity for finding in findings), default=None)


def failures(findings: Iterable[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity is Severity.FAIL]
