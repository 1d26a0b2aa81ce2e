"""How verify words what the rules found: one `model.Finding` per rule finding, with its fix.

Also the "could not check" finding for a question the resolver did not answer, which every
check shares. Judging a record is left to `mtasts.rules`; choosing what to ask, to the verifier.
"""

from __future__ import annotations

from collections.abc import Iterable

from mtasts.rules.findings import Finding as RuleFinding
from mtasts.rules.findings import Severity
from mtasts.verify.dns import DnsResult
from mtasts.verify.model import Finding, Status
from mtasts.visible import clip

_STATUS = {Severity.FAIL: Status.FAIL, Severity.WARN: Status.WARN, Severity.INFO: Status.INFO}


def phrase(check: str, findings: Iterable[RuleFinding], prefix: str = "") -> list[Finding]:
    """A rule's findings as verify reports them: what was seen with its RFC section, and the fix."""
    return [Finding(check, _STATUS[f.severity], prefix + f.text(), f.fix) for f in findings]


def mx_pair(record: str) -> tuple[int | None, str]:
    """`"10 mail.example.com."` as (10, "mail.example.com.")."""
    preference, _, exchange = record.partition(" ")
    return (int(preference) if preference.isdigit() else None), exchange


def unanswered(check: str, *answers: DnsResult) -> list[Finding]:
    """A "could not check" finding when the resolver gave no usable answer; never a fix to publish.

    An answer that is broken itself (a CNAME loop) is the domain's failure instead, with its fix.
    """
    return [
        Finding(check, Status.FAIL, answer.error or "", BROKEN_CHAIN_FIX)
        if answer.broken
        else Finding(check, Status.UNCHECKED, f"could not check: {answer.error}")
        for answer in answers
        if not answer.ok
    ]


def unexpected(error: Exception, what: str = "the check") -> str:
    """What a check that raised says. The error's text is Python's, which quotes the values in it
    with `repr` (escaped), but whole: a record of 64 KiB, say. It is cut at 1,000 characters."""
    return f"{what} failed unexpectedly: {type(error).__name__}: {clip(str(error), 1000)}"


BROKEN_CHAIN_FIX = "make the CNAME chain end at records: remove the loop, or point the first name at the last"
