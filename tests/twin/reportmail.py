"""Report mail as senders send it, built from RFC 8460 §4.4 JSON, for tests and the benchmark.

`make_report` writes the JSON a sender would (one organization, one day, one policy domain);
`report_mail` wraps it the way different senders do (RFC 8460 §5.3): `google` and
`microsoft` send `multipart/report; report-type=tlsrpt` with an `application/tlsrpt+gzip`
part named `sender!domain!begin!end[!id].json.gz` (Microsoft's day ends at the next
midnight, Google's at 23:59:59); `mixed-gzip` is a `multipart/mixed` message with an
`application/gzip` part; `json` attaches `application/tlsrpt+json` uncompressed. The
samples in tests/data/reports have the same shapes.

The parser refuses reports from more than five years ago or from the future (model.MAX_AGE,
CLOCK_SKEW), measured from the clock unless given `now`, so a test that reads reports by the
clock dates them from today: `days_ago` for built reports, `recent_samples` for a copy of the
samples with every date moved as many days on as they are old.
"""

from __future__ import annotations

import base64
import email.utils
import gzip
import hashlib
import json
import re
import textwrap
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

CURRENT_POLICY = (
    "version: STSv1",
    "mode: testing",
    "mx: mail.protonmail.ch",
    "mx: mailsec.protonmail.ch",
    "max_age: 604800",
)
STYLES = ("google", "microsoft", "mixed-gzip", "json")
_SENDERS = {
    "google": ("Google Inc.", "google.com", "noreply-smtp-tls-reporting@google.com"),
    "microsoft": (
        "Microsoft Corporation",
        "enterprise.protection.outlook.com",
        "tlsrpt-noreply@microsoft.com",
    ),
    "mixed-gzip": ("Example Networks", "mx.example.net", "tlsrpt@example.net"),
    "json": ("Example Mail Co", "mailco.example", "postmaster@mailco.example"),
}


def make_report(
    day: date,
    *,
    style: str = "google",
    domain: str = "example.com",
    successful: int = 100,
    failures: dict[str, int] | None = None,
    policy_type: str = "sts",
    policy: tuple[str, ...] = CURRENT_POLICY,
    report_id: str | None = None,
    organization: str | None = None,
) -> dict[str, Any]:
    """One day's report; `failures` maps result type → failed sessions (at mx mail.protonmail.ch)."""
    name, submitter, _ = _SENDERS[style]
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + (timedelta(days=1) if style == "microsoft" else timedelta(seconds=86_399))
    entry: dict[str, Any] = {
        "policy": {"policy-type": policy_type, "policy-domain": domain},
        "summary": {
            "total-successful-session-count": successful,
            "total-failure-session-count": sum((failures or {}).values()),
        },
    }
    if policy_type != "no-policy-found":
        entry["policy"]["policy-string"] = list(policy)
        entry["policy"]["mx-host"] = [line[4:] for line in policy if line.startswith("mx: ")]
    if failures:
        entry["failure-details"] = [
            {
                "result-type": result_type,
                "sending-mta-ip": "192.0.2.25",
                "receiving-mx-hostname": "mail.protonmail.ch",
                "failed-session-count": count,
            }
            for result_type, count in failures.items()
        ]
    return {
        "organization-name": organization or name,
        "date-range": {"start-datetime": _stamp(start), "end-datetime": _stamp(end)},
        "contact-info": _SENDERS[style][2],
        "report-id": report_id or f"{submitter}-{domain}-{day.isoformat()}",
        "policies": [entry],
    }


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def gz(report: dict[str, Any]) -> bytes:
    return gzip.compress(json.dumps(report, separators=(",", ":")).encode(), mtime=0)


def report_mail(report: dict[str, Any], style: str = "google", *, payload: bytes | None = None) -> bytes:
    """The message a sender of `style` would send for `report` (`payload`: replace the attachment)."""
    _, submitter, sender = _SENDERS[style]
    domain = report["policies"][0]["policy"]["policy-domain"]
    begin = int(datetime.fromisoformat(report["date-range"]["start-datetime"]).timestamp())
    end = int(datetime.fromisoformat(report["date-range"]["end-datetime"]).timestamp())
    name = f"{submitter}!{domain}!{begin}!{end}" + ("" if style == "microsoft" else "!001")
    if style == "json":
        media_type, filename = "application/tlsrpt+json", name + ".json"
        data = payload if payload is not None else json.dumps(report, indent=1).encode()
    else:
        media_type = "application/gzip" if style == "mixed-gzip" else "application/tlsrpt+gzip"
        filename, data = name + ".json.gz", payload if payload is not None else gz(report)
    boundary = "=_" + hashlib.sha1(report["report-id"].encode()).hexdigest()[:24]
    outer = "multipart/mixed" if style == "mixed-gzip" else 'multipart/report; report-type="tlsrpt"'
    received = datetime.fromtimestamp(end, UTC) + timedelta(hours=9)
    encoded = "\r\n".join(textwrap.wrap(base64.b64encode(data).decode(), 76))
    text = f"""From: {sender}
To: tls-reports@{domain}
Subject: Report Domain: {domain} Submitter: {submitter} Report-ID: <{report["report-id"]}>
TLS-Report-Domain: {domain}
TLS-Report-Submitter: {submitter}
Date: {received.strftime("%a, %d %b %Y %H:%M:%S +0000")}
Message-ID: <{report["report-id"]}@{submitter}>
MIME-Version: 1.0
Content-Type: {outer}; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset="UTF-8"

This is an aggregate TLS report from {submitter}

--{boundary}
Content-Type: {media_type}; name="{filename}"
Content-Disposition: attachment; filename="{filename}"
Content-Transfer-Encoding: base64

"""
    return text.replace("\n", "\r\n").encode() + encoded.encode() + f"\r\n--{boundary}--\r\n".encode()


def days_ago(days: int, today: date | None = None) -> date:
    """The day `days` before `today` (default: today in UTC, the parser's clock)."""
    return (today or datetime.now(UTC).date()) - timedelta(days=days)


SAMPLES = Path(__file__).resolve().parents[1] / "data" / "reports"
# The day the samples were collected: the last of them (not-a-report.eml) arrived on it, the
# last report covers three days before it.
SAMPLES_DAY = date(2026, 10, 6)


def recent_samples(destination: Path, today: date | None = None) -> Path:
    """tests/data/reports copied into `destination`, collected `today` (default: today in UTC)
    rather than on SAMPLES_DAY: every date and time in them moved on by the same whole days.

    Moved: the dates in the JSON (plain, gzip, in files or attached to mail), the `Date:` and
    `Subject:` headers and the Unix times in file and attachment names. A part that does not
    decompress stays as it is (it is a sample of a broken report). Returns `destination`."""
    shift = (today or datetime.now(UTC).date()) - SAMPLES_DAY
    for path in sorted(SAMPLES.rglob("*")):
        if path.is_file():
            target = destination / _moved_times(path.relative_to(SAMPLES).as_posix(), shift)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            if path.name.endswith(".eml"):
                data = _moved_mail(data, shift)
            elif path.name.endswith((".json", ".json.gz")):
                data = _moved_report(data, shift)
            target.write_bytes(data)
    return destination


_ISO_DATE = re.compile(rb"(?<![0-9])[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])")
_UNIX_TIME = re.compile(r"(?<=!)[0-9]{10}(?=[!.])")  # sender!domain!begin!end[!id].json[.gz]
_DATE_HEADER = re.compile(rb"^Date: ([^\r\n]*)", re.MULTILINE)
_BASE64_PART = re.compile(rb"(Content-Transfer-Encoding: base64\r?\n\r?\n)([A-Za-z0-9+/=\r\n]+?)(?=\r?\n--)")


def _moved_times(name: str, shift: timedelta) -> str:
    return _UNIX_TIME.sub(lambda match: str(int(match[0]) + int(shift.total_seconds())), name)


def _moved_dates(data: bytes, shift: timedelta) -> bytes:
    def moved(match: re.Match[bytes]) -> bytes:
        return (date.fromisoformat(match[0].decode()) + shift).isoformat().encode()

    return _ISO_DATE.sub(moved, data)


def _moved_report(data: bytes, shift: timedelta) -> bytes:
    """A report's bytes with its dates moved; gzip stays gzip, a broken gzip stays as it is."""
    if not data.startswith(b"\x1f\x8b"):
        return _moved_dates(data, shift)
    try:
        text = gzip.decompress(data)
    except (EOFError, OSError, zlib.error):
        return data
    moved = _moved_dates(text, shift)
    return data if moved == text else gzip.compress(moved, mtime=0)


def _moved_mail(raw: bytes, shift: timedelta) -> bytes:
    newline = b"\r\n" if b"\r\n" in raw else b"\n"

    def date_header(match: re.Match[bytes]) -> bytes:
        if not shift:  # as it was, weekday and all
            return match[0]
        moment = email.utils.parsedate_to_datetime(match[1].decode()) + shift
        return b"Date: " + email.utils.format_datetime(moment).encode()

    def part(match: re.Match[bytes]) -> bytes:
        data = base64.b64decode(match[2])
        moved = _moved_report(data, shift)
        if moved == data:
            return match[0]
        lines = textwrap.wrap(base64.b64encode(moved).decode(), 76)
        return match[1] + newline.join(line.encode() for line in lines)

    raw = _DATE_HEADER.sub(date_header, raw)
    raw = _moved_times(raw.decode("ascii"), shift).encode("ascii")
    return _moved_dates(_BASE64_PART.sub(part, raw), shift)
