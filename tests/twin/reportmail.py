"""Report mail as senders send it, built from RFC 8460 §4.4 JSON, for tests and the benchmark.

`make_report` writes the JSON a sender would (one organization, one day, one policy domain);
`report_mail` wraps it the way different senders do (RFC 8460 §5.3): `google` and
`microsoft` send `multipart/report; report-type=tlsrpt` with an `application/tlsrpt+gzip`
part named `sender!domain!begin!end[!id].json.gz` (Microsoft's day ends at the next
midnight, Google's at 23:59:59); `mixed-gzip` is a `multipart/mixed` message with an
`application/gzip` part; `json` attaches `application/tlsrpt+json` uncompressed. The
samples in tests/data/reports have the same shapes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import textwrap
from datetime import UTC, date, datetime, timedelta
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
