"""The `_mta-sts.<domain>` TXT record (RFC 8461 §3.1): which texts count, and what one says.

    sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
    sts-version     = %s"v=STSv1"
    sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
    sts-field       = sts-id / sts-extension

Readings taken where the RFC leaves room or senders differ (the case table in
tests/data/rules/discovery.yaml shows each against postfix-mta-sts-resolver and checkdmarc):

- Counting: §3.1 discards every text that does not begin with `v=STSv1;` before the records
  are counted, so one valid record beside `v=STSv10; ...` is the record, and its id is the
  one a sender following the RFC uses. postfix-mta-sts-resolver keeps every text starting
  with `v=STSv1` (so `v=STSv10; ...` too) and sees no policy when it keeps more than one:
  such a near miss beside the record still fails, as something to delete. `counts` is that
  wider set (adoption and the policy pack clean it up); `is_record` is §3.1's.
- The record must begin with the literal `v=STSv1;`. The ABNF allows spaces before the `;`,
  but §3.1's discard rule is written on the literal text, and a sender applying it to
  `v=STSv1 ; id=...` sees no record: failing it is the strict reading (checkdmarc warns).
- Anything outside the grammar fails: `id = abc` (postfix-mta-sts-resolver reads a field
  named `id ` and sees no id), `;;`, control and non-ASCII characters, an id longer than 32.
  A sender built on the ABNF rejects the record, and nothing is lost by writing it exactly.
- Whitespace after the last field is outside the grammar too, but every sender we know
  strips it: a warning.
- `id` given twice: the ABNF allows it, senders differ (checkdmarc keeps the first,
  postfix-mta-sts-resolver the last). Equal values warn; different values fail, because a
  sender may then never see the id change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from mtasts.rules import _tagged
from mtasts.rules.findings import Finding, Severity
from mtasts.visible import listing, quoted

VERSION = "v=STSv1"
PREFIX = "v=STSv1;"
ID = re.compile(r"[A-Za-z0-9]{1,32}")
RFC = "RFC 8461 §3.1"

MISSING = "sts-record-missing"
MULTIPLE = "sts-record-multiple"
UNRELATED = "sts-record-unrelated"
PREFIX_CODE = "sts-record-prefix"
SYNTAX = "sts-record-syntax"
CHARACTERS = "sts-record-characters"
ID_MISSING = "sts-id-missing"
ID_INVALID = "sts-id-invalid"
ID_DUPLICATE = "sts-id-duplicate"
WHITESPACE = "sts-record-whitespace"


def text(policy_id: str) -> str:
    """What we publish: the one form every reading accepts."""
    return f"{PREFIX} id={policy_id}"


def counts(txt: str) -> bool:
    """Whether some sender counts this TXT text as an MTA-STS record (the wide reading above)."""
    return txt.startswith(VERSION)


def is_record(txt: str) -> bool:
    """Whether RFC 8461 §3.1 counts it: the text begins with exactly `v=STSv1;`."""
    return txt.startswith(PREFIX)


def _publish(name: str) -> str:
    return f'publish exactly one TXT record at {name}: "v=STSv1; id=<1–32 letters and digits>"'


@dataclass(frozen=True)
class Record:
    """One judged text: `id` is what a strict sender reads (None: it sees no record)."""

    id: str | None
    findings: tuple[Finding, ...]


def parse(txt: str, name: str = "_mta-sts") -> Record:
    """Judge one TXT text that `counts`; `name` is only for the messages."""
    publish = _publish(name)
    findings: list[Finding] = []
    if not txt.startswith(PREFIX):
        spaced = re.match(r"v=STSv1[ \t]+;", txt)
        seen = (
            f"{quoted(txt)} has a space before the ';': a sender applying the rule that the record begins "
            "with 'v=STSv1;' discards it"
            if spaced
            else f"{quoted(txt)} does not begin with 'v=STSv1;': senders discard it"
        )
        return Record(None, (Finding(PREFIX_CODE, Severity.FAIL, seen, publish, RFC),))
    tagged = _tagged.split(txt, VERSION)
    findings += _tagged.grammar_findings(
        tagged,
        txt,
        codes=(CHARACTERS, SYNTAX, WHITESPACE),
        fix=publish,
        rfc=RFC,
        consequence="a sender parsing by the grammar sees no record",
    )
    ids = tagged.values("id")
    valid_ids = [value for value in ids if ID.fullmatch(value)]
    findings += [
        Finding(ID_INVALID, Severity.FAIL, f"id {quoted(value)} is not 1–32 letters and digits", publish, RFC)
        for value in ids
        if not ID.fullmatch(value)
    ]
    if not ids and not tagged.errors:
        findings.append(Finding(ID_MISSING, Severity.FAIL, f"{quoted(txt)} has no id field", publish, RFC))
    if len(ids) > 1:
        differ = len(set(ids)) > 1
        findings.append(
            Finding(
                ID_DUPLICATE,
                Severity.FAIL if differ else Severity.WARN,
                f"{quoted(txt)} has {len(ids)} id fields"
                + (": senders differ on which one counts (the first, or the last)" if differ else ""),
                "keep one id field",
                RFC,
            )
        )
    failed = any(finding.failed for finding in findings)
    return Record(None if failed or not valid_ids else valid_ids[0], tuple(findings))


@dataclass(frozen=True)
class Discovery:
    """The judgement of every TXT text at `_mta-sts.<domain>`: the id a sender uses, or None."""

    id: str | None
    record: str | None
    findings: tuple[Finding, ...]


def judge(texts: Sequence[str], name: str = "_mta-sts") -> Discovery:
    """All TXT texts at the name (RFC 8461 §3.1: exactly one record, or no policy)."""
    findings: list[Finding] = []
    records = [txt for txt in texts if is_record(txt)]
    near = [txt for txt in texts if counts(txt) and not is_record(txt)]
    others = [txt for txt in texts if not counts(txt)]
    if others:
        findings.append(
            Finding(
                UNRELATED,
                Severity.WARN,
                f"{name} also holds TXT records that do not start with 'v=STSv1', which senders discard: "
                + listing(others, show=quoted),
                f"remove them from {name} unless they are meant for something else",
                RFC,
            )
        )
    if not records:
        findings += _tagged.first_few(near, lambda txt: parse(txt, name).findings, partial(_more_near, name))
        if not near:
            findings.append(missing(name))
        return Discovery(None, None, tuple(findings))
    findings += _tagged.first_few(
        near,
        lambda txt: [
            Finding(
                PREFIX_CODE,
                Severity.FAIL,
                f"{name} also holds {quoted(txt)}, which does not begin with 'v=STSv1;': senders "
                f"following {RFC} discard it, but postfix-mta-sts-resolver counts it as a second record "
                "and sees no policy",
                f"delete {quoted(txt)} at {name}",
                RFC,
                subject=txt,
            )
        ],
        partial(_more_near, name),
    )
    if len(records) > 1:
        findings.append(
            Finding(
                MULTIPLE,
                Severity.FAIL,
                f"{name} has {len(records):,} 'v=STSv1' records ({listing(records, show=quoted)}): "
                "senders see no policy",
                f"delete all but one of them at {name}; a stale second record disables MTA-STS",
                RFC,
            )
        )
        return Discovery(None, None, tuple(findings))
    record = parse(records[0], name)
    return Discovery(record.id, records[0], (*findings, *record.findings))


def _more_near(name: str, texts: Sequence[str]) -> Finding:
    """The near misses past the first few (each of which has a finding), in one finding."""
    return Finding(
        PREFIX_CODE,
        Severity.FAIL,
        f"{name} holds {len(texts):,} more texts like these, beginning with 'v=STSv1' but not with "
        f"'v=STSv1;': senders following {RFC} discard them, but postfix-mta-sts-resolver counts each "
        "as a record and sees no policy",
        f"delete them at {name}",
        RFC,
    )


def missing(name: str) -> Finding:
    """No record counts at the name: senders never fetch the policy (RFC 8461 §3.1)."""
    seen = f"{name} has no 'v=STSv1' record: senders see no policy"
    return Finding(MISSING, Severity.FAIL, seen, _publish(name), RFC)


def multiple_records(name: str, count: int) -> Finding:
    """The finding for a name that would hold `count` records (adoption phrases it as a conflict)."""
    return Finding(
        MULTIPLE,
        Severity.FAIL,
        f"{name} would hold {count} 'v=STSv1' records: senders ignore MTA-STS when there is more than one",
        f"delete all but one of them at {name}",
        RFC,
    )
