"""The RFC 8460 aggregate report: its JSON (§4.4) read into frozen values, and nothing else.

`parse_report(data)` takes the bytes of one report, gzip-compressed (`application/tlsrpt+gzip`)
or not (`application/tlsrpt+json`), and returns a `Report` or raises `ReportError` naming
every problem. Decompression is bounded: a report that inflates past `MAX_REPORT_BYTES` is
refused before it is held in memory. Unknown keys are ignored and unknown `result-type`
values kept as sent (§4.3 lets the registry grow); the fields the RFC requires are required.
Where the reports come from (files, mail, IMAP) lives in `sources` and `imap`.
"""

from __future__ import annotations

import enum
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mtasts.errors import ProblemsError

# The largest decompressed report accepted. Real senders aggregate per day and per
# (result type, MX host, sending IP), so even busy domains stay far below this; a gzip
# bomb (1 GiB of zeros is 1 MiB compressed) stops here instead of filling memory.
MAX_REPORT_BYTES = 16 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


class PolicyType(enum.StrEnum):
    """RFC 8460 §4.3 `policy-type`: what the sender applied to the session."""

    STS = "sts"
    TLSA = "tlsa"
    NO_POLICY_FOUND = "no-policy-found"


class ReportError(ProblemsError):
    """Bytes that are not a usable RFC 8460 report; `problems` lists every reason."""


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
    """One aggregate report: one organization, one date range, one or more policies."""

    organization: str
    report_id: str
    start: datetime
    end: datetime
    contact: str
    policies: tuple[PolicyResult, ...]


def parse_report(data: bytes) -> Report:
    """A report from its bytes, gzip-compressed or plain JSON (§5.3 allows both)."""
    if data.startswith(GZIP_MAGIC):
        data = gunzip(data)
    elif len(data) > MAX_REPORT_BYTES:
        raise ReportError([f"the report is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB"])
    try:
        document = json.loads(data)
    except UnicodeDecodeError:
        raise ReportError(["the report is not UTF-8 text (nor gzip)"]) from None
    except json.JSONDecodeError as error:
        raise ReportError([f"the report is not valid JSON: {error}"]) from None
    except RecursionError:
        raise ReportError(["the report nests JSON arrays or objects too deeply to be a report"]) from None
    return report_from_json(document)


def gunzip(data: bytes, limit: int = MAX_REPORT_BYTES) -> bytes:
    """Inflate one gzip member, refusing truncated data and output past `limit` bytes."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise ReportError([f"the gzip data is corrupt: {error}"]) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise ReportError([f"the report inflates past {limit // (1024 * 1024)} MiB; refused"])
    if not inflater.eof:
        raise ReportError(["the gzip data is truncated (the attachment was cut short)"])
    return out


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
        value = self.value.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if value is not None or required:
            self.problems.append(f"'{self._name(key)}' is {_shown(value)}; expected a non-empty string")
        return ""

    def count(self, key: str) -> int:
        value = self.value.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        self.problems.append(f"'{self._name(key)}' is {_shown(value)}; expected a session count (0 or more)")
        return 0

    def when(self, key: str) -> datetime:
        raw = self.text(key)
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            if raw:
                self.problems.append(f"'{self._name(key)}' {raw!r} is not an RFC 3339 date-time")
            return datetime.min.replace(tzinfo=UTC)
        # RFC 3339 date-times carry an offset; a sender that leaves it out means UTC.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def objects(self, key: str, *, required: bool = True) -> list[_Fields]:
        value = self.value.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or (required and not value):
            self.problems.append(f"'{self._name(key)}' is {_shown(value)}; expected a non-empty list")
            return []
        return [
            _Fields(item, f"{self._name(key)}[{index}]", self.problems) for index, item in enumerate(value)
        ]

    def child(self, key: str) -> _Fields:
        """A nested object; when it is missing, its own required fields say so."""
        return _Fields(self.value.get(key, {}), self._name(key), self.problems)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.value.get(key, [])
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        self.problems.append(f"'{self._name(key)}' is {_shown(value)}; expected a list of strings")
        return ()


def _shown(value: Any) -> str:
    if value is None:
        return "missing"
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def report_from_json(document: Any) -> Report:
    """A Report from a decoded JSON document (§4.4), or ReportError with every problem."""
    problems: list[str] = []
    top = _Fields(document, "", problems)
    dates = top.child("date-range")
    start, end = dates.when("start-datetime"), dates.when("end-datetime")
    report = Report(
        organization=top.text("organization-name"),
        report_id=top.text("report-id"),
        start=start,
        end=end,
        # Required by §4.4, yet some senders leave it out; nothing here depends on it.
        contact=top.text("contact-info", required=False),
        policies=tuple(_policy_result(entry) for entry in top.objects("policies")),
    )
    if not problems and end < start:
        problems.append(f"'date-range' ends ({end:%Y-%m-%dT%H:%M:%SZ}) before it starts")
    if problems:
        raise ReportError(problems)
    return report


# A dict, not a walk over the enum: this runs for every policy of every report.
_POLICY_TYPES = {kind.value: kind for kind in PolicyType}


def _policy_result(entry: _Fields) -> PolicyResult:
    policy, summary = entry.child("policy"), entry.child("summary")
    raw_type = policy.text("policy-type")
    policy_type = _POLICY_TYPES.get(raw_type.lower())
    if policy_type is None and raw_type:
        expected = ", ".join(kind.value for kind in PolicyType)
        policy.problems.append(f"'{policy.where}.policy-type' {raw_type!r} is not one of {expected}")
    details = tuple(
        FailureDetail(
            result_type=detail.text("result-type").lower(),
            # Both are optional in §4.4 (a failure before connecting has no MX host or IP).
            sending_mta_ip=detail.text("sending-mta-ip", required=False) or "(not reported)",
            receiving_mx_hostname=(
                detail.text("receiving-mx-hostname", required=False).lower().rstrip(".") or "(not reported)"
            ),
            failed_session_count=detail.count("failed-session-count"),
        )
        for detail in entry.objects("failure-details", required=False)
    )
    return PolicyResult(
        policy_type=policy_type or PolicyType.NO_POLICY_FOUND,
        policy_domain=policy.text("policy-domain").lower().rstrip("."),
        policy_string=policy.strings("policy-string") if "policy-string" in policy.value else (),
        successful=summary.count("total-successful-session-count"),
        failed=summary.count("total-failure-session-count"),
        failure_details=details,
    )
