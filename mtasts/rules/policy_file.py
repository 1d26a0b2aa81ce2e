"""The policy file at `https://mta-sts.<domain>/.well-known/mta-sts.txt` (RFC 8461 §3.2).

    sts-policy-record    = sts-policy-field *WSP *(sts-policy-term sts-policy-field *WSP)
                           [sts-policy-term]
    sts-policy-field-delim = ":" *WSP
    sts-policy-term      = LF / CRLF
    sts-policy-mx-value  = ["*."] Domain                   ; Domain: RFC 5321 §4.1.2
    sts-policy-max-age-value = 1*10(DIGIT)               ; at most 31557600
    sts-policy-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
    sts-policy-ext-value = sts-policy-vchar [*(%x20 / sts-policy-vchar) sts-policy-vchar]

Field names and the version, mode values are `%s` strings: case-sensitive (`Mode: enforce`
is an unknown field, and the policy then has no mode). Readings taken, each shown against
postfix-mta-sts-resolver and checkdmarc in tests/data/rules/policy_file.yaml:

- A field repeated (other than `mx`): §3.2 keeps the first, so the policy stays valid with
  the first value for senders that follow the RFC (`ParsedPolicy` holds it). Equal copies
  warn; different values fail as something to fix, because postfix-mta-sts-resolver and
  others keep the last.
- An empty line between fields is outside the grammar, and a sender parsing by it rejects
  the policy: it fails (postfix-mta-sts-resolver and checkdmarc skip it). Empty lines after
  the last field only warn: every sender we know strips them.
- A CR that is not part of CRLF fails (it is a control character in a value).
- UTF-8 is valid in an extension value (`sts-policy-vchar` includes UTF8-2/3/4); everywhere
  else non-ASCII fails by the field's own grammar. We serve `charset=utf-8`
  (mtasts.desired), which postfix-mta-sts-resolver needs to decode such a body.
- An `mx` value outside the grammar fails (`mail.*.example.com`, `*`, a trailing dot). A
  single-label `mx` is grammatical but matches no real MX host: a warning.
- Unknown fields are ignored (§3.2), but only when they are valid extension fields; a line
  that is no field at all fails the whole policy for a sender parsing by the grammar.

A served policy is whatever its host sends, up to 64 KiB: a finding quotes a line or a value
through `mtasts.visible.quoted` (escaped, cut at 200 characters), and of the findings about
lines and `mx` values (which a policy may hold thousands of) the first three of each kind
are kept and one more counts the rest.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from mtasts.names import MAX_NAME_LENGTH
from mtasts.rules import _tagged
from mtasts.rules.findings import Finding, Severity
from mtasts.visible import LISTED, quoted

MAX_AGE_LIMIT = 31_557_600  # RFC 8461 §3.2: max_age is at most about one year
MAX_POLICY_BYTES = 64 * 1024  # common senders refuse larger policies
# Nearly all of a large policy is its mx lines: the fix is there.
SIZE_FIX = "list fewer or shorter mx patterns: one wildcard such as *.example.com covers every host under it"
RFC = "RFC 8461 §3.2"

SIZE = "policy-size"
CHARACTERS = "policy-characters"
LINE = "policy-line-syntax"
BLANK = "policy-blank-line"
DUPLICATE = "policy-field-duplicate"
VERSION = "policy-version"
MODE = "policy-mode"
MAX_AGE = "policy-max-age"
SHORT_MAX_AGE = "policy-max-age-short"
# Under a day, an enforce policy lapses between a sender's visits, and each fetch of a new one
# is a chance to block it (RFC 8461 §10.2); §3.2 expects weeks or greater, a week is common.
MIN_ENFORCE_MAX_AGE = 86_400
USUAL_MAX_AGE = 604_800
MX_SYNTAX = "policy-mx-syntax"
MX_SINGLE_LABEL = "policy-mx-single-label"
MX_MISSING = "policy-mx-missing"


class Mode(enum.StrEnum):
    """Policy modes, RFC 8461 §5."""

    ENFORCE = "enforce"
    TESTING = "testing"
    NONE = "none"


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_MX = re.compile(rf"(?:\*\.)?{_LABEL}(?:\.{_LABEL})*")
_MAX_AGE_VALUE = re.compile(r"[0-9]{1,10}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Control characters (C0 but tab and LF, DEL, C1): outside the grammar wherever they are.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_KNOWN = ("version", "mode", "max_age", "mx")
# Failures that a sender following the RFC reads past: it applies the first of repeated fields.
READ_PAST = frozenset({DUPLICATE})


def mx_findings(pattern: str) -> list[Finding]:
    """One `mx` value: a host name, or `*.` and a host name (RFC 8461 §3.2, RFC 5321 §4.1.2)."""
    fix = "write a host name such as mail.example.com, or '*.' followed by one such as *.example.com"
    host = pattern[2:] if pattern.startswith("*.") else pattern
    if not _MX.fullmatch(pattern) or len(host) > MAX_NAME_LENGTH:
        return [
            Finding(
                MX_SYNTAX, Severity.FAIL, f"mx {quoted(pattern)} is not a host name or *.host name", fix, RFC
            )
        ]
    if "." not in host:
        return [
            Finding(
                MX_SINGLE_LABEL,
                Severity.WARN,
                f"mx {quoted(pattern)} is a single label: no MX host on the Internet has such a name",
                fix,
                RFC,
            )
        ]
    if host.rsplit(".", 1)[1].isdigit():
        return [Finding(MX_SYNTAX, Severity.FAIL, f"mx {quoted(pattern)} ends in a numeric label", fix, RFC)]
    return []


def is_mx_pattern(pattern: str) -> bool:
    """A pattern we may publish: no finding at all under the strictest reading."""
    return not mx_findings(pattern)


@dataclass(frozen=True)
class ParsedPolicy:
    """What a strict sender reads (None where it reads nothing) and every finding."""

    mode: Mode | None
    max_age: int | None
    mx: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def valid(self) -> bool:
        """Whether a sender following RFC 8461 §3.2 applies it (a field repeated: the first value)."""
        return (
            self.mode is not None
            and self.max_age is not None
            and not any(f.failed and f.code not in READ_PAST for f in self.findings)
        )


def _lines(text: str, findings: list[Finding]) -> list[tuple[int, str]]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the optional final terminator
    result = []
    last_field = max(
        (n for n, raw in enumerate(lines, start=1) if raw.removesuffix("\r").strip(" \t")), default=0
    )
    for number, raw in enumerate(lines, start=1):
        line = raw.removesuffix("\r")
        if not line.strip(" \t"):
            between = number < last_field
            findings.append(
                Finding(
                    BLANK,
                    Severity.FAIL if between else Severity.WARN,
                    f"line {number} is empty, which the grammar does not allow"
                    + (
                        " between fields: a sender parsing by it rejects the policy"
                        if between
                        else "; senders we know strip empty lines at the end"
                    ),
                    "remove empty lines",
                    RFC,
                )
            )
            continue
        result.append((number, line))
    return result


def too_large(octets: int) -> Finding | None:
    """The one bound on a policy's size, for the file served and for the settings that render
    it (refused before deploying). §3.2 sets none, but senders stop reading a policy at 64 KiB
    (postfix-mta-sts-resolver, Google's sender), and then see none."""
    if octets <= MAX_POLICY_BYTES:
        return None
    seen = f"the policy is {octets:,} bytes, larger than {MAX_POLICY_BYTES} bytes, the most senders read"
    return Finding(SIZE, Severity.FAIL, seen, SIZE_FIX, RFC)


def short_max_age(mode: Mode, max_age: int) -> Finding | None:
    """A valid `max_age` that protects little: an enforce policy kept under a day (a sender that
    comes back later has none cached, and an attacker who blocks its discovery then downgrades
    the connection, RFC 8461 §10.2; §3.2 expects weeks or greater), or 0 in any mode but none,
    which some senders (chasquid) read as an invalid policy and apply none. The caller phrases
    the fix where the value is set."""
    if max_age == 0 and mode is not Mode.NONE:
        seen = (
            f"max_age is 0 with mode {mode.value}: senders keep the policy for no time at all, and some "
            "(chasquid) take it as invalid and apply none"
        )
    elif mode is Mode.ENFORCE and max_age < MIN_ENFORCE_MAX_AGE:
        seen = (
            f"mode is enforce with max_age {max_age:,} s, under a day: a sender that comes back later has "
            "no policy cached, and an attacker who blocks its policy lookup then can downgrade the connection"
        )
    else:
        return None
    fix = f"set max_age to at least {MIN_ENFORCE_MAX_AGE} (a day); {USUAL_MAX_AGE} (a week) is usual"
    return Finding(SHORT_MAX_AGE, Severity.WARN, seen, fix, "RFC 8461 §3.2, §10.2")


def parse(text: str) -> ParsedPolicy:
    """Parse as the strictest sender does; every problem becomes a finding."""
    fix = "serve 'version: STSv1', 'mode', 'max_age' (0–31557600) and one 'mx' line per pattern"
    findings: list[Finding] = []
    if size := too_large(len(text.encode("utf-8"))):
        findings.append(size)
    # Non-ASCII is left to each field's grammar: an extension value may hold UTF-8 (§3.2).
    odd = _tagged.outside_characters("".join(_CONTROLS.findall(text.replace("\r\n", "\n"))))
    if odd:
        findings.append(
            Finding(
                CHARACTERS,
                Severity.FAIL,
                f"the policy holds control characters ({', '.join(odd)})",
                "write the policy without control characters, with LF or CRLF line ends",
                RFC,
            )
        )
    fields: dict[str, list[tuple[int, str]]] = {}
    for number, line in _lines(text, findings):
        key, colon, value = line.partition(":")
        value = value.strip(" \t")
        if not colon or not _NAME.fullmatch(key):
            findings.append(
                Finding(LINE, Severity.FAIL, f"line {number} is not 'key: value': {quoted(line)}", fix, RFC)
            )
            continue
        if key not in _KNOWN and (not value or _CONTROL.search(value)):
            findings.append(
                Finding(
                    LINE,
                    Severity.FAIL,
                    f"line {number}: extension field {quoted(key)} has no valid value",
                    fix,
                    RFC,
                )
            )
            continue
        fields.setdefault(key, []).append((number, value))

    def single(key: str) -> str | None:
        entries = fields.get(key, [])
        if len(entries) > 1:
            differ = len({value for _, value in entries}) > 1
            findings.append(
                Finding(
                    DUPLICATE,
                    Severity.FAIL if differ else Severity.WARN,
                    f"'{key}' appears {len(entries)} times"
                    + (
                        f" with different values: senders following {RFC} apply the first "
                        f"({quoted(entries[0][1])}), others the last ({quoted(entries[-1][1])})"
                        if differ
                        else ""
                    ),
                    f"keep one '{key}' line",
                    RFC,
                    subject=entries[0][1],
                )
            )
        return entries[0][1] if entries else None

    version = single("version")
    if version != "STSv1":
        findings.append(
            Finding(VERSION, Severity.FAIL, f"'version' must be 'STSv1', found {_found(version)}", fix, RFC)
        )
    raw_mode = single("mode")
    mode = next((m for m in Mode if m.value == raw_mode), None)
    if mode is None:
        findings.append(
            Finding(
                MODE,
                Severity.FAIL,
                f"'mode' must be enforce, testing or none, found {_found(raw_mode)}",
                fix,
                RFC,
            )
        )
    raw_max_age = single("max_age")
    max_age = int(raw_max_age) if raw_max_age and _MAX_AGE_VALUE.fullmatch(raw_max_age) else None
    if max_age is None or max_age > MAX_AGE_LIMIT:
        findings.append(
            Finding(
                MAX_AGE,
                Severity.FAIL,
                f"'max_age' must be an integer 0–{MAX_AGE_LIMIT}, found {_found(raw_max_age)}",
                fix,
                RFC,
            )
        )
        max_age = None
    mx = tuple(value for _, value in fields.get("mx", []))
    for pattern in mx:
        findings += mx_findings(pattern)
    if mode is not Mode.NONE and not mx:
        findings.append(Finding(MX_MISSING, Severity.FAIL, "'mx' is required unless mode is none", fix, RFC))
    return ParsedPolicy(mode=mode, max_age=max_age, mx=mx, findings=tuple(_few_of_each(findings)))


def _found(value: str | None) -> str:
    return quoted(value) if value is not None else "None"


# What the findings of a kind that may repeat per line are about, for the one counting the rest.
_REPEATED = {
    LINE: "lines that are not fields",
    BLANK: "empty lines",
    MX_SYNTAX: "mx values that are not host names",
    MX_SINGLE_LABEL: "single-label mx values",
}


def _few_of_each(findings: list[Finding]) -> list[Finding]:
    """The first LISTED findings of each kind in `_REPEATED`, every other finding, and per kind
    with more, one finding that counts the rest at the worst of their severities."""
    kept: list[Finding] = []
    rest: dict[str, list[Finding]] = {}
    shown: dict[str, int] = {}
    for finding in findings:
        if finding.code in _REPEATED and shown.get(finding.code, 0) >= LISTED:
            rest.setdefault(finding.code, []).append(finding)
            continue
        shown[finding.code] = shown.get(finding.code, 0) + 1
        kept.append(finding)
    for code, more in rest.items():
        seen = f"and {len(more):,} more {_REPEATED[code]}"
        kept.append(Finding(code, max(f.severity for f in more), seen, more[0].fix, RFC))
    return kept
