"""What one report may claim (anyone can mail the rua address): numbers, dates, spans, how
many policies and failure details, how long its strings; and the odd but meaningful reports
real senders send. Every refusal names the report's field and why."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtasts.reports.model import (
    MAX_FAILURE_DETAILS,
    MAX_POLICIES,
    MAX_SESSIONS,
    MAX_TEXT,
    ReportError,
    parse_report,
    report_from_json,
)
from mtasts.reports.sources import Found
from mtasts.reports.summary import summarise
from tests.twin.reportmail import gz, make_report

DAY = date(2026, 10, 1)
NOW = datetime(2026, 10, 3, tzinfo=UTC)


def as_bytes(document: Any) -> bytes:
    return json.dumps(document).encode()


def refusal(document: Any, now: datetime = NOW) -> str:
    with pytest.raises(ReportError) as raised:
        parse_report(as_bytes(document), now=now)
    return str(raised.value)


def test_a_count_with_thousands_of_digits_is_refused_without_a_traceback() -> None:
    text = as_bytes(make_report(DAY)).replace(
        b'"total-successful-session-count": 100', b'"x": ' + b"9" * 5000
    )
    with pytest.raises(ReportError, match="thousands of digits"):
        parse_report(text.replace(b'"x"', b'"total-successful-session-count"'), now=NOW)


def test_a_count_no_day_of_mail_can_hold_is_refused_by_name() -> None:
    document = make_report(DAY)
    document["policies"][0]["summary"]["total-successful-session-count"] = 10**3000
    message = refusal(document)
    assert "'policies[0].summary.total-successful-session-count'" in message
    assert f"at most {MAX_SESSIONS:,} sessions" in message


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00+05:00"]
)
def test_a_date_outside_the_calendar_in_utc_is_refused_by_name(moment: str) -> None:
    document = make_report(DAY)
    document["date-range"]["start-datetime"] = moment
    assert f"'date-range.start-datetime' '{moment}' is outside the calendar once in UTC" in refusal(document)


def test_a_range_of_years_is_refused_for_its_span() -> None:
    document = make_report(DAY)
    document["date-range"] = {
        "start-datetime": "0001-01-01T00:00:00Z",
        "end-datetime": "9999-12-31T23:59:59Z",
    }
    message = refusal(document)
    assert "'date-range' spans 3,652,058 days" in message and "at most 7" in message


def test_a_report_about_days_long_past_or_to_come_is_refused() -> None:
    assert "years ago" in refusal(make_report(date(2019, 1, 1)))
    message = refusal(make_report(date(2026, 10, 20)))
    assert "'date-range.end-datetime' 2026-10-20T23:59:59Z is in the future (now is 2026-10-03" in message


def test_a_report_of_yesterday_is_read_and_now_is_what_it_is_measured_from() -> None:
    document = make_report(date(2026, 10, 2))
    assert parse_report(gz(document), now=NOW).start == datetime(2026, 10, 2, tzinfo=UTC)
    with pytest.raises(ReportError, match="in the future"):
        parse_report(gz(document), now=datetime(2026, 9, 1, tzinfo=UTC))


def test_too_many_policies_are_refused_before_any_is_read() -> None:
    document = make_report(DAY)
    document["policies"] = document["policies"] * (MAX_POLICIES + 1)
    assert f"'policies' holds {MAX_POLICIES + 1:,} entries; a report holds at most {MAX_POLICIES:,}" in (
        refusal(document)
    )


def test_too_many_failure_details_are_refused() -> None:
    document = make_report(DAY, failures={"certificate-expired": 1})
    entry = document["policies"][0]
    entry["failure-details"] = entry["failure-details"] * (MAX_FAILURE_DETAILS + 1)
    assert f"a report holds at most {MAX_FAILURE_DETAILS:,}" in refusal(document)


def test_a_huge_string_is_kept_cut_with_a_marker() -> None:
    document = make_report(DAY, organization="O" * 100_000)
    report = parse_report(as_bytes(document), now=NOW)
    assert report.organization.startswith("O" * MAX_TEXT)
    assert report.organization.endswith(f"…(+{100_000 - MAX_TEXT:,} characters)")


def test_a_lone_surrogate_is_read_as_the_replacement_character_and_the_report_counts() -> None:
    # json.dumps writes a lone surrogate as its \\ud800 escape; the raw UTF-8 form (ED A0 80)
    # is what surrogatepass decoding keeps. Neither can be written out as UTF-8 again.
    policy = ("version: STSv1", "mode: enforce\ud800", "mx: mail.example.com", "max_age: 604800")
    document = make_report(DAY, organization="Org\udc80\U0001f600", policy=policy, report_id="r-RAW")
    data = as_bytes(document).replace(b"RAW", "\ud800".encode("utf-8", "surrogatepass"))
    report = parse_report(data, now=NOW)
    assert report.organization == "Org\ufffd\U0001f600"  # a pair is one character, kept
    assert report.report_id == "r-\ufffd"
    assert report.policies[0].policy_string[1] == "mode: enforce\ufffd"
    [seen] = summarise([Found(report, "a.json")]).domains["example.com"].policies.values()
    assert seen.describe() == "sts (policy text unreadable)"  # and no UnicodeEncodeError
    json.dumps([report.organization, report.report_id, *report.policies[0].policy_string]).encode()
    assert parse_report(gz(document), now=NOW).organization == "Org\ufffd\U0001f600"


def test_a_lone_surrogate_is_replaced_in_reports_of_other_encodings_and_deep_inside() -> None:
    document = make_report(DAY, organization="Org\ud800")
    document["extra\udfff"] = [[["x\ud800"]]]  # unknown keys are not read, yet mended alike
    report = parse_report(json.dumps(document).encode("utf-16"), now=NOW)  # json.loads's path
    assert report.organization == "Org\ufffd"


def test_failure_details_counting_more_than_the_total_skip_their_entry_as_self_contradictory() -> None:
    # The summary said "0 failed" and the verdict "1,000 failed": neither is taken.
    document = make_report(DAY, failures={"certificate-expired": 1000})
    document["policies"][0]["summary"]["total-failure-session-count"] = 0
    message = refusal(document)
    assert (
        "'policies[0].failure-details' count 1,000 failed sessions, more than its "
        "'summary.total-failure-session-count' 0" in message
    )
    assert "RFC 8460 §4.4" in message and "contradicts itself" in message
    # One such entry among others is skipped and named; the others count.
    document["policies"].insert(0, make_report(DAY, domain="other.example")["policies"][0])
    report = parse_report(as_bytes(document), now=NOW)
    assert [policy.policy_domain for policy in report.policies] == ["other.example"]
    assert report.skipped and "'policies[1].failure-details' count 1,000" in report.skipped[0]


def test_failure_details_counting_fewer_than_the_total_are_read_as_sent() -> None:
    # RFC 8460 §4.4 does not require every failure to be detailed; the rest is "(not detailed)".
    document = make_report(DAY, failures={"certificate-expired": 10})
    document["policies"][0]["summary"]["total-failure-session-count"] = 25
    [policy] = parse_report(as_bytes(document), now=NOW).policies
    assert policy.failed == 25 and policy.failure_details[0].failed_session_count == 10


def test_an_empty_optional_string_means_not_given() -> None:
    # As a real sender sent it: a policy fetch error before any connection.
    document = make_report(DAY, failures={"sts-policy-fetch-error": 3})
    detail = document["policies"][0]["failure-details"][0]
    detail["sending-mta-ip"], detail["receiving-mx-hostname"] = "", " "
    document["contact-info"] = ""
    report = parse_report(as_bytes(document), now=NOW)
    [read] = report.policies[0].failure_details
    assert (read.sending_mta_ip, read.receiving_mx_hostname) == ("(not reported)", "(not reported)")
    assert report.skipped == ()


def test_an_unusable_policies_entry_is_skipped_and_named_and_the_others_count() -> None:
    document = make_report(DAY, successful=40)
    document["policies"].append(
        {
            "policy": {"policy-type": "no-policy-found"},
            "summary": {"total-successful-session-count": 1, "total-failure-session-count": 0},
        }
    )
    report = parse_report(as_bytes(document), now=NOW)
    assert [policy.successful for policy in report.policies] == [40]
    [skipped] = report.skipped
    assert "'policies[1].policy.policy-domain' is missing" in skipped


def test_a_report_whose_every_entry_is_unusable_is_refused_naming_each() -> None:
    document = make_report(DAY)
    del document["policies"][0]["policy"]["policy-domain"]
    assert "'policies[0].policy.policy-domain' is missing" in refusal(document)


def test_the_problems_named_are_bounded_and_the_rest_counted() -> None:
    document: dict[str, Any] = {"policies": [{"policy": {}, "summary": {}}] * 100}
    with pytest.raises(ReportError) as raised:
        report_from_json(document, NOW)
    assert len(raised.value.problems) == 21 and raised.value.problems[-1].startswith("and ")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(["sts", "tlsa", "2026-10-01T00:00:00Z", "0001-01-01T00:00:00+01:00", ""]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)
report_keys = st.sampled_from(
    [
        "organization-name",
        "report-id",
        "date-range",
        "start-datetime",
        "end-datetime",
        "policies",
        "policy",
        "summary",
        "policy-type",
        "policy-domain",
        "policy-string",
        "failure-details",
        "result-type",
        "failed-session-count",
        "total-successful-session-count",
        "total-failure-session-count",
        "sending-mta-ip",
    ]
)
report_like = st.recursive(
    json_values,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(report_keys, children, max_size=6),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(document=report_like)
def test_any_json_document_is_a_report_or_a_report_error_never_a_traceback(document: Any) -> None:
    try:
        report = report_from_json(document, NOW)
    except ReportError as error:
        assert error.problems
    else:
        assert report.policies and report.start <= report.end <= NOW + timedelta(days=1)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_are_a_report_or_a_report_error(data: bytes) -> None:
    with contextlib.suppress(ReportError):
        parse_report(data, now=NOW)


@settings(max_examples=100, deadline=None)
@given(
    field=st.sampled_from(["total-successful-session-count", "total-failure-session-count"]),
    value=st.integers(min_value=MAX_SESSIONS + 1) | st.integers(max_value=-1) | st.floats() | st.text(),
)
def test_a_count_that_is_not_one_never_counts(field: str, value: Any) -> None:
    document = make_report(DAY)
    document["policies"][0]["summary"][field] = value
    try:
        parse_report(as_bytes(document), now=NOW)
    except ReportError as error:
        assert f"'policies[0].summary.{field}'" in str(error)
    else:
        raise AssertionError(f"{value!r} was counted")
