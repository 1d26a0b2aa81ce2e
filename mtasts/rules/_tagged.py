"""The shared shape of the `_mta-sts` and `_smtp._tls` TXT records: `v=<version>; name=value; ...`.

RFC 8461 §3.1 and RFC 8460 §3 use the same ABNF skeleton (RFC 5234; `%s` strings are
case-sensitive, RFC 7405):

    record      = version 1*(field-delim field) [field-delim]
    field-delim = *WSP ";" *WSP
    ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
    ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)      ; no "=", ";", space or control

This module splits a text along that skeleton and says where it leaves it; the record
modules (`discovery`, `tlsrpt`) judge the fields they know. A text is quoted in findings as
`mtasts.visible.quoted` writes it (escaped, cut at 200 characters): whoever controls the zone
chose it, and a TXT record holds up to 64 KiB of any bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from mtasts.rules.findings import Finding, Severity
from mtasts.visible import LISTED, listing, quoted

FIELD_DELIMITER = re.compile(r"[ \t]*;[ \t]*")
EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
EXT_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+")
_NAME_VALUE = re.compile(r"([^=]*)=(.*)", re.DOTALL)
# Printable ASCII and the two WSP characters: anything else is outside every rule of the grammar.
_OUTSIDE = re.compile(r"[^\x20-\x7e\t]")
# Distinct characters a finding names before it counts the rest.
CHARACTERS_SHOWN = 10


@dataclass(frozen=True)
class Tagged:
    """A text split by the skeleton. `fields` in order (duplicates kept); `errors` say where
    the text leaves the grammar; `trailing_space` is whitespace after the last field."""

    fields: tuple[tuple[str, str], ...] = ()
    errors: tuple[str, ...] = ()
    trailing_space: bool = False
    characters: tuple[str, ...] = field(default=())

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key == name]


def outside_characters(text: str) -> list[str]:
    """Control and non-ASCII characters, as escapes a reader can see (`\\x00`, `\\u00e9`)."""
    return sorted({char.encode("unicode_escape").decode("ascii") for char in _OUTSIDE.findall(text)})


def split(text: str, version: str, *, free_value: tuple[str, ...] = ()) -> Tagged:
    """Split `text`, which starts with `version` followed by a field delimiter.

    `free_value` names fields whose value has its own grammar (RFC 8460 `rua` allows
    spaces around its commas); their values are returned as written, for the caller to judge.
    """
    rest = text[len(version) :]
    pieces = FIELD_DELIMITER.split(rest)
    errors: list[str] = []
    if pieces[0] != "":
        errors.append(f"{version!r} must be followed by ';'")
    body = pieces[1:]
    if body and body[-1] == "":
        body = body[:-1]  # the optional final delimiter
    trailing = bool(body) and body[-1] != body[-1].rstrip(" \t")
    if trailing:
        body[-1] = body[-1].rstrip(" \t")
    if not body and pieces[0] == "":
        errors.append(f"there is no field after {version!r}")
    fields: list[tuple[str, str]] = []
    for piece in body:
        if piece == "":
            errors.append("an empty field (two ';' in a row)")
            continue
        match = _NAME_VALUE.fullmatch(piece)
        if not match or not EXT_NAME.fullmatch(match.group(1)):
            spaced = match and match.group(1).strip(" \t") != match.group(1)
            errors.append(
                f"field {quoted(piece)} is not name=value"
                + (" (no space is allowed around '=')" if spaced or " =" in piece or "= " in piece else "")
            )
            continue
        name, value = match.group(1), match.group(2)
        if name not in free_value and not EXT_VALUE.fullmatch(value):
            errors.append(f"field {quoted(piece)} has a value with a space, '=', ';' or nothing in it")
            continue
        fields.append((name, value))
    return Tagged(
        fields=tuple(fields),
        errors=tuple(errors),
        trailing_space=trailing,
        characters=tuple(outside_characters(text)),
    )


def grammar_findings(
    tagged: Tagged, text: str, *, codes: tuple[str, str, str], fix: str, rfc: str, consequence: str
) -> list[Finding]:
    """Findings for where `text` leaves the skeleton: characters outside printable ASCII and each
    grammar error fail; trailing whitespace only warns (senders we know strip it). `codes` is
    (characters, syntax, whitespace) of the record's module; `consequence` says what a strict
    sender does with a text that fails ("sees no record")."""
    characters_code, syntax_code, whitespace_code = codes
    findings = []
    if tagged.characters:
        shown = listing(tagged.characters, CHARACTERS_SHOWN, show=str)  # escapes already
        seen = f"{quoted(text)} holds characters outside printable ASCII ({shown})"
        findings.append(Finding(characters_code, Severity.FAIL, seen, fix, rfc))
    findings += [
        Finding(syntax_code, Severity.FAIL, f"{quoted(text)}: {error}; {consequence}", fix, rfc)
        for error in tagged.errors
    ]
    if tagged.trailing_space:
        seen = (
            f"{quoted(text)} ends in whitespace, which the grammar does not allow; senders we know strip it"
        )
        findings.append(Finding(whitespace_code, Severity.WARN, seen, "remove the trailing whitespace", rfc))
    return findings


def first_few(
    texts: Sequence[str], judge: Callable[[str], Iterable[Finding]], rest: Callable[[Sequence[str]], Finding]
) -> list[Finding]:
    """`judge`'s findings for each of the first LISTED texts, and one finding (`rest`) for the
    others: a zone may hold thousands of near misses, and a finding each is a line each."""
    findings = [finding for text in texts[:LISTED] for finding in judge(text)]
    return findings + ([rest(texts[LISTED:])] if len(texts) > LISTED else [])
