"""Which MX hosts a policy's `mx` patterns match, and what a gap costs (RFC 8461 §4.1, §5).

A pattern matches a host by name, case-insensitively; `*.` matches exactly one leftmost
label (`*.example.net` matches `a.example.net`, not `example.net` nor `a.b.example.net`).
An MX host the policy does not match is refused under `enforce`, reported under `testing`
and ignored under `none`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mtasts.rules.findings import Finding, Severity
from mtasts.visible import NAMES_LISTED, listing, printable

UNCOVERED = "mx-host-uncovered"
RFC = "RFC 8461 §4.1"


def matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, dot, rest = host.partition(".")
        return bool(first) and bool(dot) and rest == pattern[2:]
    return host == pattern


def covers(patterns: Iterable[str], host: str) -> bool:
    return any(matches(pattern, host) for pattern in patterns)


def uncovered(patterns: Sequence[str], hosts: Iterable[str]) -> list[str]:
    return [host for host in hosts if host.rstrip(".") and not covers(patterns, host)]


def judge(
    mode: str, patterns: Sequence[str], hosts: Iterable[str], *, domain: str = "the domain"
) -> list[Finding]:
    """One finding per MX host the patterns do not match; its severity follows the mode."""
    findings = []
    shown = listing(patterns, NAMES_LISTED, show=str) or "(none)"
    for name in uncovered(patterns, hosts):
        # The zone's name: an API answer in the program, a DNS text (already escaped) in `verify`.
        host = printable(name)
        fix = (
            f"add {host} (or a '*.' pattern matching it) to the policy's mx and publish the new policy "
            "before the MX record names the host (RFC 8461 §8)"
        )
        if mode == "enforce":
            severity, effect = Severity.FAIL, "under enforce, senders refuse to deliver mail to it"
        elif mode == "testing":
            severity, effect = Severity.WARN, "under testing mail still arrives but is reported as failing"
        else:
            severity, effect = Severity.INFO, "mode none enforces nothing"
        seen = f"MX host {host} of {domain} matches no policy mx pattern ({shown}): {effect}"
        findings.append(Finding(UNCOVERED, severity, seen, fix, RFC, subject=name))
    return findings
