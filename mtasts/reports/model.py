"""The RFC 8460 aggregate report: its JSON (§4.4) read into frozen values, and nothing else.

`parse_report(data)` takes the bytes of one report, gzip-compressed (`application/tlsrpt+gzip`)
or not (`application/tlsrpt+json`), and returns a `Report` or raises `ReportError` naming
every problem. Decompression is bounded: a report that inflates past `MAX_REPORT_BYTES` is
refused before it is held in memory. Unknown keys are ignored and unknown `result-type`
values kept as sent (§4.3 lets the registry grow); the fields the RFC requires are required,
and an optional one sent as "" is not given; a lone surrogate (a `\\ud800` escape without its
pair) is read as U+FFFD, the replacement character. Every report is untrusted (anyone can mail the
rua address), so what one may claim is bounded: counts, dates near `now`, a date range of
a few days, the number of policies and failure details, the length of every string kept.
A problem with the report refuses it; a problem in one `policies` entry skips that entry.
Where the reports come from (files, mail, IMAP) lives in `sources` and `imap`.
"""

from __future__ import annotations

import enum
import json
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

import orjson

from mtasts.errors import ProblemsError
from mtasts.visible import clip

# The largest decompressed report accepted. Real senders aggregate per day and per
# (result type, MX host, sending IP), so a report is kilobytes and even busy domains stay
# far below this; a gzip bomb (1 GiB of zeros is 1 MiB compressed) stops here instead of
# filling memory, and parsing the largest accepted report stays well under a second.
MAX_REPORT_BYTES = 4 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"

# What one report may claim. A report covers one sender's sessions to the domains that
# share one rua address over one day (RFC 8460 §4.1: a full UTC day); anything past these
# is a forgery or a broken sender, refused by name rather than counted.
MAX_POLICIES = 1_000  # policy domains in one report
MAX_FAILURE_DETAILS = 10_000  # failure-details entries in one report, all policies together
MAX_SESSIONS = 1_000_000_000  # sessions in one count: more than a day of any domain's mail
MAX_SPAN = timedelta(days=7)  # a date range of a day, or a few for a sender that batches
MAX_AGE = timedelta(days=5 * 366)  # older reports say nothing about today's senders
CLOCK_SKEW = timedelta(days=1)  # a report ends before it is sent, give or take a clock
MAX_TEXT = 512  # characters kept of any string (a domain name is at most 253)
MAX_POLICY_LINES = 500  # lines of one policy-string (a policy has a handful, one per mx)
MAX_PROBLEMS = 20  # problems named per report; the rest are counted
# gzip members in one report. A sender writes one; `cat a.gz b.gz` makes a few. Each member
# starts a new inflater on the bytes left (zlib hands them back as a copy), so a file of
# thousands of empty 20-byte members took time quadratic in its size: refused instead.
MAX_GZIP_MEMBERS = 16


class PolicyType(enum.StrEnum):
    """RFC 8460 §4.4 `policy-type`: what the sender applied to the session."""

    STS = "sts"
    TLSA = "tlsa"
    NO_POLICY_FOUND = "no-policy-found"


class ReportError(ProblemsError):
    """Bytes that are not a usable RFC 8460 report; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"and {len(problems) - MAX_PROBLEMS:,} more problems")
        super().__init__(shown)


@dataclass(frozen=True)
class FailureDetail:
    """One `failure-details` entry (§4.4): sessions that failed the same way."""

    result_type: str
    sending_mta_ip: str
    receiving_mx_hostname: str
    failed_session_count: int


@dataclass(frozen=True)
class PolicyResult:
    """One `policies` entry: the policy a sender applied to a domain and how sessions went."""

    policy_type: PolicyType
    policy_domain: str
    policy_string: tuple[str, ...]
    successful: int
    failed: int
    failure_details: tuple[FailureDetail, ...]


@dataclass(frozen=True)
class Report:
    """One aggregate report: one organization, one date range, one or more policies.

    `skipped` names the `policies` entries left out because they were unusable (a
    `no-policy-found` entry without a domain, a count that is not one): the others count.
    """

    organization: str
    report_id: str
    start: datetime
    end: datetime
    contact: str
    policies: tuple[PolicyResult, ...]
    skipped: tuple[str, ...] = ()


def parse_report(data: bytes, now: datetime | None = None) -> Report:
    """A report from its bytes, gzip-compressed or plain JSON (§5.3 allows both).

    `now` (default: the clock) is what "near the present" is measured from."""
    if data.startswith(GZIP_MAGIC):
        data = gunzip(data)
    elif len(data) > MAX_REPORT_BYTES:
        raise ReportError([f"the report is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB"])
    now = now or datetime.now(UTC)
    report = _well_formed_at_once(data, now)
    if report is not None:
        return report
    try:
        document = _decode_json(data)
    except UnicodeDecodeError:
        raise ReportError(["the report is not UTF-8 text (nor gzip)"]) from None
    except json.JSONDecodeError as error:
        raise ReportError([f"the report is not valid JSON: {error}"]) from None
    except RecursionError:
        raise ReportError(["the report nests JSON arrays or objects too deeply to be a report"]) from None
    except ValueError:  # an integer of more than 4,300 digits (Python's int parsing limit)
        raise ReportError(
            ["the report holds a number thousands of digits long; no count is that large"]
        ) from None
    return report_from_json(document, now)


def _well_formed_at_once(data: bytes, now: datetime) -> Report | None:
    """The report in `data` when orjson reads it and it is well formed, else None.

    A fast path: decoding was half the time spent on a well-formed report, and orjson (Rust)
    decodes one in under half the time json does. Where orjson reads a text, it reads what
    json.loads reads (RFC 8259 JSON in UTF-8); what it refuses (lone surrogates, NaN, other
    encodings, nesting past 1,024) and what it reads otherwise (an integer past 64 bits comes
    back a float, which no count is) end here, for `_decode_json` and the walk to read again
    and name as before (tests/test_reports_fast_paths.py checks both read alike)."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return _well_formed_report(document, now)


# JSON's whitespace (RFC 8259 §2), what json.loads skips around a document.
_JSON_BLANK = " \t\n\r"
_JSON_DECODER = json.JSONDecoder()


def _decode_json(data: bytes) -> Any:
    """`json.loads(data)`: its result and its errors, for less per report.

    A fast path: json.loads on bytes guesses the encoding, decodes, then checks its arguments
    and finds its decoder, half its time on a report. For UTF-8 (nearly every report)
    this decodes as it does (`surrogatepass`) and calls the decoder itself; a text it does
    not read whole (no document, data after it) goes to json.loads, so the error named is
    json.loads's own. Either way, lone surrogates come back as U+FFFD (`_mend_surrogates`)."""
    # A report starts `{"` (checked first, as it settles the encoding: json's guess reads the
    # first bytes for a BOM or zero bytes, neither of which those two are)
    if data[:2] == b'{"' or json.detect_encoding(data) == "utf-8":
        text = data.decode("utf-8", "surrogatepass")
        try:
            document, end = _JSON_DECODER.raw_decode(text, len(text) - len(text.lstrip(_JSON_BLANK)))
        except json.JSONDecodeError:
            pass
        else:
            if end == len(text) or not text[end:].strip(_JSON_BLANK):
                return _mend_surrogates(document) if _may_hold_surrogate(text) else document
    return _mend_surrogates(json.loads(data))


# What may decode to a lone surrogate: one sent as is (kept by `surrogatepass`, as json.loads
# keeps it) or a \uD800-\uDFFF escape (RFC 8259 §7 allows one alone; a pair decodes to a
# single character, so any surrogate left in a decoded string is a lone one).
_MAY_HOLD_SURROGATE = re.compile(r"[\ud800-\udfff]|\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
REPLACEMENT = "\ufffd"  # what a UTF-8 decoder writes for a broken byte


def _may_hold_surrogate(text: str) -> bool:
    """Whether the JSON `text` may decode to a lone surrogate. A fast path first: an ASCII
    text without a \\u escape (nearly every report) holds none, and those two checks
    run at memory speed where the pattern looks at every character."""
    if text.isascii() and "\\u" not in text:
        return False
    return _MAY_HOLD_SURROGATE.search(text) is not None


def _mended(value: Any) -> Any:
    return _SURROGATE.sub(REPLACEMENT, value) if type(value) is str else value


def _mend_surrogates(document: Any) -> Any:
    """`document` with every lone surrogate in its strings (keys too) replaced by U+FFFD.

    A lone surrogate is no character: it cannot be written as UTF-8 (the policy parser, the
    --json output and the page would each end in UnicodeEncodeError) and I-JSON forbids it
    (RFC 7493 §2.1). Replacing it, as a UTF-8 decoder replaces a broken byte, keeps the
    report counted and the damaged text visibly damaged. A loop, not recursion: the
    document may nest as deep as the JSON decoder allowed."""
    pending = [document]
    while pending:
        node = pending.pop()
        if type(node) is list:
            node[:] = [_mended(item) for item in node]
            pending.extend(item for item in node if type(item) in (list, dict))
        elif type(node) is dict:
            mended = {_mended(key): _mended(value) for key, value in node.items()}
            node.clear()
            node.update(mended)
            pending.extend(value for value in mended.values() if type(value) in (list, dict))
    return _mended(document)


def gunzip(data: bytes, limit: int = MAX_REPORT_BYTES) -> bytes:
    """Inflate gzip data, refusing truncated data and output past `limit` bytes in all.

    A gzip file may hold several members, read as one stream (RFC 1952 §2.2): `cat a.gz b.gz`
    is the gzip of both. Bytes after the last member that start no other member are ignored,
    as gzip(1) ignores trailing garbage. More than MAX_GZIP_MEMBERS members are refused."""
    parts: list[bytes] = []
    size = 0
    while True:
        if len(parts) == MAX_GZIP_MEMBERS:
            raise ReportError(
                [
                    f"the gzip data holds more than {MAX_GZIP_MEMBERS} members; a report is one "
                    f"member (RFC 1952 §2.2: a file is a series of them), at most {MAX_GZIP_MEMBERS} are read"
                ]
            )
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            part = inflater.decompress(data, limit + 1 - size)
        except zlib.error as error:
            raise ReportError([f"the gzip data is corrupt: {error}"]) from None
        size += len(part)
        if size > limit or inflater.unconsumed_tail:
            raise ReportError([f"the report inflates past {limit // (1024 * 1024)} MiB; refused"])
        if not inflater.eof:
            raise ReportError(["the gzip data is truncated (the attachment was cut short)"])
        parts.append(part)
        data = inflater.unused_data
        if not data.startswith(GZIP_MAGIC):
            return parts[0] if len(parts) == 1 else b"".join(parts)


def _given(value: Any) -> str | None:
    """A required string, stripped and cut to MAX_TEXT; None when it is missing, blank or not a
    string (what `_Fields.text` names as a problem). The walk and the fast path share it."""
    if isinstance(value, str) and (value := value.strip()):
        return value if len(value) <= MAX_TEXT else clip(value, MAX_TEXT)
    return None


def _optional(value: Any) -> str | None:
    """An optional string, stripped and cut to MAX_TEXT ("" when missing or blank); None when it
    is not a string."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = value.strip()
        return value if len(value) <= MAX_TEXT else clip(value, MAX_TEXT)
    return None


def _given_moment(value: Any) -> datetime | None:
    text = _given(value)
    if text is None:
        return None
    try:
        return _moment(text)
    except (ValueError, OverflowError):
        return None


def _is_count(value: Any) -> TypeGuard[int]:
    return type(value) is int and 0 <= value <= MAX_SESSIONS  # bool is not a count


class _Fields:
    """Reads one JSON object, collecting every problem under a dotted location."""

    def __init__(self, value: Any, where: str, problems: list[str]) -> None:
        self.where, self.problems = where, problems
        self.value: dict[str, Any] = value if isinstance(value, dict) else {}
        if not isinstance(value, dict):
            problems.append(f"{where or 'the report'} is not a JSON object")

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def text(self, key: str, *, required: bool = True) -> str:
        """A string, cut to MAX_TEXT; for an optional field, "" or blank means not given."""
        value = self.value.get(key)
        kept = _given(value) if required else _optional(value)
        if kept is not None:
            return kept
        self.problems.append(f"'{self._name(key)}' is {_shown(value)}; expected a non-empty string")
        return ""

    def count(self, key: str) -> int:
        value = self.value.get(key)
        if _is_count(value):
            return value
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SESSIONS:
            self.problems.append(
                f"'{self._name(key)}' is {_shown(value)}; one report counts at most {MAX_SESSIONS:,} "
                "sessions (more than a day of any domain's mail)"
            )
        else:
            self.problems.append(
                f"'{self._name(key)}' is {_shown(value)}; expected a session count (0 or more)"
            )
        return 0

    def when(self, key: str) -> datetime | None:
        raw = self.text(key)
        if not raw:
            return None
        try:
            return _moment(raw)
        except ValueError:
            self.problems.append(f"'{self._name(key)}' {raw!r} is not an RFC 3339 date-time")
        except OverflowError:  # year 1 or 9999 with an offset: outside the calendar in UTC
            self.problems.append(f"'{self._name(key)}' {raw!r} is outside the calendar once in UTC")
        return None

    def items(self, key: str, *, required: bool = True) -> list[Any]:
        value = self.value.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or (required and not value):
            self.problems.append(f"'{self._name(key)}' is {_shown(value)}; expected a non-empty list")
            return []
        return value

    def child(self, key: str) -> _Fields:
        """A nested object; when it is missing, its own required fields say so."""
        return _Fields(self.value.get(key, {}), self._name(key), self.problems)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.value.get(key, [])
        if isinstance(value, list) and len(value) > MAX_POLICY_LINES:
            self.problems.append(
                f"'{self._name(key)}' holds {len(value):,} lines; a policy has at most {MAX_POLICY_LINES}"
            )
            return ()
        if isinstance(value, list) and all(type(item) is str and len(item) <= MAX_TEXT for item in value):
            return tuple(value)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(clip(item, MAX_TEXT) for item in value)
        self.problems.append(f"'{self._name(key)}' is {_shown(value)}; expected a list of strings")
        return ()


# Date-times already read, by their text: a sender's reports of one day share theirs, so a
# few hundred texts stand for thousands of reports. Bounded: emptied when full.
_MOMENTS: dict[str, datetime] = {}
_MAX_MOMENTS = 4_096


def _moment(raw: str) -> datetime:
    """`raw` as a date-time in UTC; ValueError or OverflowError when it is not one."""
    moment = _MOMENTS.get(raw)
    if moment is None:
        moment = datetime.fromisoformat(raw)
        # RFC 3339 date-times carry an offset; a sender that leaves it out means UTC.
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        if len(_MOMENTS) >= _MAX_MOMENTS:
            _MOMENTS.clear()
        _MOMENTS[raw] = moment
    return moment


def _shown(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, (dict, list)) and len(value) > 8:
        return f"a JSON {'object' if isinstance(value, dict) else 'list'} of {len(value):,} items"
    try:
        text = json.dumps(value)
    except (ValueError, RecursionError):
        return f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def report_from_json(document: Any, now: datetime | None = None) -> Report:
    """A Report from a decoded JSON document (§4.4), or ReportError with every problem.

    Problems with the report as a whole refuse it; a problem inside one `policies` entry
    skips that entry only, and `Report.skipped` says which and why."""
    now = now or datetime.now(UTC)
    return _well_formed_report(document, now) or _walked_report(document, now)


def _walked_report(document: Any, now: datetime) -> Report:
    """`report_from_json` field by field, naming every problem on the way."""
    problems: list[str] = []
    top = _Fields(document, "", problems)
    dates = top.child("date-range")
    start, end = dates.when("start-datetime"), dates.when("end-datetime")
    organization = top.text("organization-name")
    report_id = top.text("report-id")
    # Required by §4.4, yet some senders leave it out; nothing here depends on it.
    contact = top.text("contact-info", required=False)
    if start is not None and end is not None:
        problems += _date_problems(start, end, now)
    entries = top.items("policies")
    details = sum(
        len(entry.get("failure-details", ()))
        for entry in entries[: MAX_POLICIES + 1]
        if isinstance(entry, dict) and isinstance(entry.get("failure-details"), list)
    )
    if len(entries) > MAX_POLICIES:
        problems.append(f"'policies' holds {len(entries):,} entries; a report holds at most {MAX_POLICIES:,}")
        raise ReportError(problems)
    if details > MAX_FAILURE_DETAILS:
        problems.append(
            f"the policies hold {details:,} failure-details entries; a report holds at most "
            f"{MAX_FAILURE_DETAILS:,}"
        )
        raise ReportError(problems)
    policies, unusable = [], []
    for index, entry in enumerate(entries):
        entry_problems: list[str] = []
        result = _policy_result(_Fields(entry, f"policies[{index}]", entry_problems))
        if entry_problems:
            unusable.append("; ".join(entry_problems[:MAX_PROBLEMS]))
        else:
            policies.append(result)
    if problems or start is None or end is None or not policies:
        raise ReportError(problems + unusable)
    skipped = tuple(f"a policies entry skipped: {reason}" for reason in unusable)
    return Report(organization, report_id, start, end, contact, tuple(policies), skipped)


def _date_problems(start: datetime, end: datetime, now: datetime) -> list[str]:
    if end < start:
        return [f"'date-range' ends ({_stamp(end)}) before it starts ({_stamp(start)})"]
    problems = []
    if end - start > MAX_SPAN:
        problems.append(
            f"'date-range' spans {(end - start).days:,} days ({_stamp(start)} to {_stamp(end)}); a report "
            f"covers a day (RFC 8460 §4.1), at most {MAX_SPAN.days} are accepted"
        )
    if start < now - MAX_AGE:
        problems.append(
            f"'date-range.start-datetime' {_stamp(start)} is more than {MAX_AGE.days // 366} years ago; "
            "too old to say anything about today's senders"
        )
    if end > now + CLOCK_SKEW:
        problems.append(
            f"'date-range.end-datetime' {_stamp(end)} is in the future (now is {_stamp(now)}); "
            "a report covers days that are over"
        )
    return problems


# A dict, not a walk over the enum: this runs for every policy of every report.
_POLICY_TYPES = {kind.value: kind for kind in PolicyType}


def _policy_result(entry: _Fields) -> PolicyResult:
    policy, summary = entry.child("policy"), entry.child("summary")
    raw_type = policy.text("policy-type")
    policy_type = _POLICY_TYPES.get(raw_type.lower())
    if policy_type is None and raw_type:
        expected = ", ".join(kind.value for kind in PolicyType)
        policy.problems.append(f"'{policy.where}.policy-type' {raw_type!r} is not one of {expected}")
    details = []
    for index, item in enumerate(entry.items("failure-details", required=False)):
        detail = _Fields(item, f"{entry.where}.failure-details[{index}]", entry.problems)
        details.append(
            FailureDetail(
                result_type=detail.text("result-type").lower(),
                # Both are optional in §4.4 (a failure before connecting has no MX host or IP).
                sending_mta_ip=detail.text("sending-mta-ip", required=False) or "(not reported)",
                receiving_mx_hostname=(
                    detail.text("receiving-mx-hostname", required=False).lower().rstrip(".")
                    or "(not reported)"
                ),
                failed_session_count=detail.count("failed-session-count"),
            )
        )
    failed = summary.count("total-failure-session-count")
    detailed = sum(detail.failed_session_count for detail in details)
    if detailed > failed and _is_count(summary.value.get("total-failure-session-count")):
        entry.problems.append(_contradiction(entry.where, detailed, failed))
    return PolicyResult(
        policy_type=policy_type or PolicyType.NO_POLICY_FOUND,
        policy_domain=policy.text("policy-domain").lower().rstrip("."),
        policy_string=policy.strings("policy-string") if "policy-string" in policy.value else (),
        successful=summary.count("total-successful-session-count"),
        failed=failed,
        failure_details=tuple(details),
    )


def _contradiction(where: str, detailed: int, failed: int) -> str:
    """The problem of an entry whose failure details count more sessions than its total.

    RFC 8460 §4.4: each failure-details entry breaks down sessions counted in the summary's
    total-failure-session-count, so together they are at most that total (fewer is fine: a
    sender may leave some out). Counted as sent, the summary said "0 failed" while the
    verdict named the details' failures."""
    return (
        f"'{where}.failure-details' count {detailed:,} failed sessions, more than its "
        f"'summary.total-failure-session-count' {failed:,}: the details break down that total "
        "(RFC 8460 §4.4), so the entry contradicts itself"
    )


_STR_ONLY = {str}


def _well_formed_report(document: Any, now: datetime) -> Report | None:
    """The Report `report_from_json` reads from `document` when it finds no problem, else None.

    A fast path: nearly every report is well formed, and for those the walk that names every
    problem (a `_Fields` per object, a method call per field) was most of the time spent on
    one. This reads the same fields by the same rules, straight through, and gives up at the
    first thing the walk would name, for the walk to read again and name
    (tests/test_reports_fast_paths.py checks both read generated documents alike)."""
    if type(document) is not dict:
        return None
    dates = document.get("date-range")
    if type(dates) is not dict:
        return None
    start, end = _given_moment(dates.get("start-datetime")), _given_moment(dates.get("end-datetime"))
    organization = _given(document.get("organization-name"))
    report_id = _given(document.get("report-id"))
    contact = _optional(document.get("contact-info"))
    if start is None or end is None or organization is None or report_id is None or contact is None:
        return None
    if end < start or end - start > MAX_SPAN or start < now - MAX_AGE or end > now + CLOCK_SKEW:
        return None  # what _date_problems names
    entries = document.get("policies")
    if type(entries) is not list or not entries or len(entries) > MAX_POLICIES:
        return None
    policies = []
    details_read = 0
    for entry in entries:
        if type(entry) is not dict:
            return None
        policy, summary = entry.get("policy"), entry.get("summary")
        if type(policy) is not dict or type(summary) is not dict:
            return None
        raw_type, domain = _given(policy.get("policy-type")), _given(policy.get("policy-domain"))
        policy_type = _POLICY_TYPES.get(raw_type.lower()) if raw_type is not None else None
        successful = summary.get("total-successful-session-count")
        failed = summary.get("total-failure-session-count")
        if policy_type is None or domain is None or not _is_count(successful) or not _is_count(failed):
            return None
        lines = policy.get("policy-string", [])
        if (
            type(lines) is not list
            or len(lines) > MAX_POLICY_LINES
            # (map and set run in C: a generator's frame per line was a tenth of this function)
            or not set(map(type, lines)) <= _STR_ONLY
            or max(map(len, lines), default=0) > MAX_TEXT
        ):
            return None
        items = entry.get("failure-details")
        details: list[FailureDetail] = []
        detailed = 0
        if items is not None:
            if type(items) is not list:
                return None
            details_read += len(items)
            if details_read > MAX_FAILURE_DETAILS:
                return None
            for item in items:
                if type(item) is not dict:
                    return None
                result_type = _given(item.get("result-type"))
                ip = _optional(item.get("sending-mta-ip"))
                mx = _optional(item.get("receiving-mx-hostname"))
                count = item.get("failed-session-count")
                if result_type is None or ip is None or mx is None or not _is_count(count):
                    return None
                detailed += count
                details.append(
                    FailureDetail(
                        result_type.lower(),
                        ip or "(not reported)",
                        mx.lower().rstrip(".") or "(not reported)",
                        count,
                    )
                )
        if detailed > failed:
            return None  # what _contradiction names
        policies.append(
            PolicyResult(
                policy_type, domain.lower().rstrip("."), tuple(lines), successful, failed, tuple(details)
            )
        )
    return Report(organization, report_id, start, end, contact, tuple(policies))
