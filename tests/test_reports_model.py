"""The RFC 8460 report parser and report mail (§4.4, §5.3): what is accepted, what is refused and why."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mtasts.reports.mail import NotAReport, parse_message, report_attachments
from mtasts.reports.model import (
    MAX_GZIP_MEMBERS,
    MAX_REPORT_BYTES,
    PolicyType,
    ReportError,
    gunzip,
    parse_report,
)
from tests.twin.reportmail import STYLES, days_ago, gz, make_report, report_mail

DAY = days_ago(2)  # read by the clock: parse_report refuses reports years old


def as_bytes(document: Any) -> bytes:
    return json.dumps(document).encode()


def test_the_rfc_example_report_is_read_with_every_failure_detail() -> None:
    # RFC 8460 §4.4's example, abridged to the fields the summary uses.
    document = {
        "organization-name": "Company-X",
        "date-range": {"start-datetime": "2016-04-01T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z"},
        "contact-info": "sts-reporting@company-x.example",
        "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
        "policies": [
            {
                "policy": {
                    "policy-type": "sts",
                    "policy-string": [
                        "version: STSv1",
                        "mode: testing",
                        "mx: *.mail.company-y.example",
                        "max_age: 86400",
                    ],
                    "policy-domain": "Company-Y.example.",
                    "mx-host": ["*.mail.company-y.example"],
                },
                "summary": {"total-successful-session-count": 5326, "total-failure-session-count": 303},
                "failure-details": [
                    {
                        "result-type": "certificate-expired",
                        "sending-mta-ip": "2001:db8:abcd:0012::1",
                        "receiving-mx-hostname": "mx1.mail.company-y.example",
                        "failed-session-count": 100,
                    },
                    {
                        "result-type": "starttls-not-supported",
                        "sending-mta-ip": "2001:db8:abcd:0013::1",
                        "receiving-mx-hostname": "mx2.mail.company-y.example",
                        "receiving-ip": "203.0.113.56",
                        "failed-session-count": 200,
                    },
                    {
                        "result-type": "validation-failure",
                        "sending-mta-ip": "198.51.100.62",
                        "receiving-ip": "203.0.113.58",
                        "receiving-mx-hostname": "mx-backup.mail.company-y.example",
                        "failed-session-count": 3,
                        "failure-reason-code": "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED",
                    },
                ],
            }
        ],
    }
    report = parse_report(as_bytes(document), now=datetime(2016, 4, 2, 12, tzinfo=UTC))
    [policy] = report.policies
    assert report.start == datetime(2016, 4, 1, tzinfo=UTC)
    assert policy.policy_domain == "company-y.example"  # case and the root dot do not split a domain
    assert policy.policy_type is PolicyType.STS and (policy.successful, policy.failed) == (5326, 303)
    assert [(d.result_type, d.failed_session_count) for d in policy.failure_details] == [
        ("certificate-expired", 100),
        ("starttls-not-supported", 200),
        ("validation-failure", 3),
    ]


def test_a_gzip_report_and_a_plain_one_read_the_same() -> None:
    document = make_report(DAY, failures={"certificate-host-mismatch": 2})
    assert parse_report(gz(document)) == parse_report(as_bytes(document))


@pytest.mark.parametrize("policy_type", ["sts", "tlsa", "no-policy-found"])
def test_every_rfc_policy_type_is_accepted(policy_type: str) -> None:
    report = parse_report(gz(make_report(DAY, policy_type=policy_type)))
    assert report.policies[0].policy_type.value == policy_type


def test_an_unknown_policy_type_is_refused_with_the_accepted_ones() -> None:
    with pytest.raises(ReportError, match=r"policy-type' 'dane' is not one of sts, tlsa, no-policy-found"):
        parse_report(gz(make_report(DAY, policy_type="dane")))


def test_a_result_type_outside_the_rfc_list_is_kept_as_sent() -> None:
    report = parse_report(gz(make_report(DAY, failures={"some-future-result": 1})))
    assert report.policies[0].failure_details[0].result_type == "some-future-result"


def test_a_report_missing_required_fields_names_every_one() -> None:
    document = make_report(DAY)
    del document["report-id"], document["date-range"]["end-datetime"]
    document["policies"][0]["summary"]["total-failure-session-count"] = -1
    with pytest.raises(ReportError) as raised:
        parse_report(as_bytes(document))
    problems = " | ".join(raised.value.problems)
    assert "'report-id' is missing" in problems
    assert "'date-range.end-datetime' is missing" in problems
    assert "'policies[0].summary.total-failure-session-count' is -1; expected a session count" in problems


def test_a_date_range_that_ends_before_it_starts_is_refused() -> None:
    document = make_report(DAY)
    document["date-range"]["end-datetime"] = f"{DAY - timedelta(days=1)}T00:00:00Z"
    with pytest.raises(ReportError, match=r"ends .* before it starts"):
        parse_report(as_bytes(document))


def test_date_times_with_fractions_or_offsets_are_read_in_utc() -> None:
    document = make_report(DAY)
    document["date-range"] = {
        "start-datetime": "2026-10-01T02:00:00.000+02:00",
        "end-datetime": "2026-10-01T23:59:59",
    }
    report = parse_report(as_bytes(document), now=datetime(2026, 10, 2, tzinfo=UTC))
    assert report.start == datetime(2026, 10, 1, tzinfo=UTC)
    assert report.end == datetime(2026, 10, 1, 23, 59, 59, tzinfo=UTC)


def test_invalid_json_and_truncated_gzip_say_which() -> None:
    with pytest.raises(ReportError, match="not valid JSON"):
        parse_report(b'{"organization-name": "x", ')
    data = gz(make_report(DAY))
    with pytest.raises(ReportError, match="truncated"):
        parse_report(data[: len(data) // 2])


def test_a_gzip_bomb_is_refused_before_it_fills_memory() -> None:
    bomb = gzip.compress(b" " * (MAX_REPORT_BYTES + 1024))
    assert len(bomb) < MAX_REPORT_BYTES // 100
    with pytest.raises(ReportError, match="inflates past 4 MiB"):
        parse_report(bomb)
    assert gunzip(gzip.compress(b"{}"), limit=2) == b"{}"


def test_a_gzip_of_several_members_is_read_whole() -> None:
    # RFC 1952 §2.2: a gzip file is a series of members; `cat a.gz b.gz` holds both halves.
    document = make_report(DAY, failures={"certificate-host-mismatch": 2})
    text = as_bytes(document)
    half = len(text) // 2
    members = gzip.compress(text[:half]) + gzip.compress(text[half:])
    assert parse_report(members) == parse_report(text)
    assert parse_report(gz(document) + b"\n\0") == parse_report(text)  # trailing bytes, as gzip(1)


def test_a_gzip_of_thousands_of_empty_members_is_refused_by_its_member_count() -> None:
    # Each member was inflated from a copy of the bytes after it: 320,000 empty members
    # (6 MB) took minutes. The bound does not depend on the members' sizes.
    text = as_bytes(make_report(DAY))
    empty = gzip.compress(b"", mtime=0)
    assert parse_report(gzip.compress(text) + empty * (MAX_GZIP_MEMBERS - 1)) == parse_report(text)
    for count in (MAX_GZIP_MEMBERS, 100_000):  # one member past the bound, and the flood
        with pytest.raises(ReportError, match=f"more than {MAX_GZIP_MEMBERS} members; a report is one"):
            parse_report(gzip.compress(text) + empty * count)


def test_the_bound_counts_every_member_of_a_gzip() -> None:
    member = gzip.compress(b" " * (1024 * 1024))
    with pytest.raises(ReportError, match="inflates past 4 MiB"):
        parse_report(member * 5 + gzip.compress(b"{}"))
    assert gunzip(gzip.compress(b"{") + gzip.compress(b"}"), limit=2) == b"{}"
    with pytest.raises(ReportError, match="inflates past"):
        gunzip(gzip.compress(b"{") + gzip.compress(b"}"), limit=1)
    with pytest.raises(ReportError, match="truncated"):
        gunzip(gzip.compress(b"{") + gzip.compress(b"}")[:-4])


@given(
    successful=st.integers(0, 10**9),
    failures=st.dictionaries(
        st.sampled_from(["certificate-expired", "starttls-not-supported"]), st.integers(0, 10**6)
    ),
    style=st.sampled_from(STYLES),
)
def test_a_report_mail_in_any_sender_style_gives_back_the_sessions_it_carries(
    successful: int, failures: dict[str, int], style: str
) -> None:
    document = make_report(DAY, style=style, successful=successful, failures=failures)
    [attachment] = report_attachments(parse_message(report_mail(document, style)))
    [policy] = parse_report(attachment.data).policies
    assert (policy.successful, policy.failed) == (successful, sum(failures.values()))


def test_a_message_without_a_report_part_is_not_a_report_and_says_its_subject() -> None:
    message = parse_message(
        b"Subject: Your mailbox is almost full\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    )
    with pytest.raises(NotAReport, match=r"application/tlsrpt\+gzip.*'Your mailbox is almost full'"):
        report_attachments(message)


def test_a_generic_attachment_counts_only_with_a_report_file_name() -> None:
    document = make_report(DAY, style="mixed-gzip")
    mail = report_mail(document, "mixed-gzip")
    assert len(report_attachments(parse_message(mail))) == 1
    renamed = mail.replace(b".json.gz", b".pdf")
    with pytest.raises(NotAReport):
        report_attachments(parse_message(renamed))
