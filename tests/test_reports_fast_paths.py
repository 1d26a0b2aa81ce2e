"""The fast paths of reading a report give what the straightforward ones give, on any input: the
JSON decoding (json.loads's result or its error), the well-formed report (the walk's
Report, or nothing and the walk names the problems), and orjson's reading of a well-formed
report (what json's reading gives, or nothing and json reads it as before)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from mtasts.reports import model
from mtasts.reports.model import (
    MAX_FAILURE_DETAILS,
    MAX_POLICY_LINES,
    MAX_SESSIONS,
    MAX_TEXT,
    Report,
    ReportError,
    _decode_json,
    _walked_report,
    _well_formed_report,
    parse_report,
    report_from_json,
)
from tests.twin.reportmail import STYLES, make_report

NOW = datetime(2026, 10, 3, tzinfo=UTC)
DAY = date(2026, 10, 1)


def outcome(read: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "read", read(*args)
    except (ValueError, RecursionError, ReportError) as error:
        return type(error).__name__, str(error)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)
blank = st.text(st.sampled_from(" \t\r\n\x0c\xa0\u2028"), max_size=3)


@st.composite
def json_bytes(draw: st.DrawFn) -> bytes:
    text = json.dumps(
        draw(json_values), indent=draw(st.sampled_from([None, 1])), ensure_ascii=draw(st.booleans())
    )
    text = draw(blank) + text + draw(blank) + draw(st.sampled_from(["", "x", "{}", "\ud800", "]"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32-be"]))
    data = text.encode(encoding, "surrogatepass")
    return data[: draw(st.integers(min_value=0, max_value=len(data)))] if draw(st.booleans()) else data


@settings(max_examples=600, deadline=None)
@given(data=json_bytes() | st.binary(max_size=40))
def test_json_is_decoded_as_json_loads_decodes_it_and_refused_with_its_error(data: bytes) -> None:
    mine, theirs = outcome(_decode_json, data), outcome(json.loads, data)
    assert repr(mine) == repr(theirs)


# What a report's fields are set to: well formed, odd but meaningful, and each kind of wrong.
field_values = st.sampled_from(
    [
        None,
        "",
        "  ",
        " padded ",
        "x" * (MAX_TEXT + 1),
        "sts",
        "STS",
        "tlsa",
        "no-policy-found",
        "dane",
        "Example.COM.",
        ".",
        "2026-10-01T00:00:00Z",
        "2026-10-01T12:00:00",
        "2026-10-02T01:00:00+02:00",
        "2026-09-20T00:00:00Z",
        "2020-01-01T00:00:00Z",
        "2026-10-09T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "not a date",
        -1,
        0,
        7,
        MAX_SESSIONS,
        MAX_SESSIONS + 1,
        True,
        1.0,
        [],
        {},
        ["version: STSv1", " mode: enforce "],
        ["line"] * (MAX_POLICY_LINES + 1),
        ["x" * (MAX_TEXT + 1)],
        ["ok", 3],
        [{}],
        [{"result-type": "certificate-expired", "failed-session-count": 2}],
    ]
)
# Either side of each bound on dates (NOW less MAX_AGE is 2021-09-29): span, age, clock skew.
moments = st.sampled_from(
    [
        "2026-10-01T00:00:00Z",
        "2026-10-01T23:59:59Z",
        "2026-09-24T00:00:00Z",
        "2026-09-23T23:59:59Z",
        "2021-09-28T23:59:59Z",
        "2021-09-29T00:00:00Z",
        "2021-10-05T00:00:00Z",
        "2026-10-04T00:00:00Z",
        "2026-10-04T00:00:01+00:00",
        "2026-10-04T02:00:01+02:00",
    ]
)
paths = st.sampled_from(
    [
        ("organization-name",),
        ("report-id",),
        ("contact-info",),
        ("date-range",),
        ("date-range", "start-datetime"),
        ("date-range", "end-datetime"),
        ("policies",),
        ("policies", 0),
        ("policies", 0, "policy"),
        ("policies", 0, "summary"),
        ("policies", 0, "failure-details"),
        ("policies", 0, "policy", "policy-type"),
        ("policies", 0, "policy", "policy-domain"),
        ("policies", 0, "policy", "policy-string"),
        ("policies", 0, "summary", "total-successful-session-count"),
        ("policies", 0, "summary", "total-failure-session-count"),
        ("policies", 0, "failure-details", 0),
        ("policies", 0, "failure-details", 0, "result-type"),
        ("policies", 0, "failure-details", 0, "sending-mta-ip"),
        ("policies", 0, "failure-details", 0, "receiving-mx-hostname"),
        ("policies", 0, "failure-details", 0, "failed-session-count"),
        ("policies", 1, "policy", "policy-domain"),
        ("policies", 1, "summary", "total-failure-session-count"),
    ]
)


def change(document: Any, path: tuple[str | int, ...], value: Any, remove: bool) -> None:
    *parents, last = path
    for step in parents:
        try:
            document = document[step]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(document, dict) and isinstance(last, str):
        if remove:
            document.pop(last, None)
        else:
            document[last] = copy.deepcopy(value)
    elif isinstance(document, list) and isinstance(last, int) and last < len(document):
        if remove:
            del document[last]
        else:
            document[last] = copy.deepcopy(value)


@st.composite
def reports(draw: st.DrawFn) -> Any:
    document = make_report(
        DAY,
        style=draw(st.sampled_from(STYLES)),
        failures=draw(st.sampled_from([None, {"certificate-expired": 3}, {"A": 1, "b": 2}])),
        policy_type=draw(st.sampled_from(["sts", "tlsa", "no-policy-found"])),
    )
    if draw(st.booleans()):
        second = copy.deepcopy(document["policies"][0])
        second["policy"]["policy-domain"] = "example.org"
        document["policies"].append(second)
    if draw(st.booleans()):
        document["date-range"] = {"start-datetime": draw(moments), "end-datetime": draw(moments)}
    if draw(st.integers(0, 9)) == 0:
        detail = {"result-type": "x", "failed-session-count": 1}
        document["policies"][0]["failure-details"] = [detail] * (MAX_FAILURE_DETAILS + 1)
    for path, value, remove in draw(st.lists(st.tuples(paths, field_values, st.booleans()), max_size=3)):
        change(document, path, value, remove)
    return document


@settings(max_examples=1500, deadline=None)
@given(document=reports())
def test_a_report_read_by_the_fast_path_is_the_report_the_walk_reads(document: Any) -> None:
    walked = outcome(_walked_report, document, NOW)
    fast = _well_formed_report(document, NOW)
    if fast is not None:
        assert walked == ("read", fast)
    assert outcome(report_from_json, document, NOW) == walked


def test_well_formed_reports_of_every_sender_style_take_the_fast_path() -> None:
    for style in STYLES:
        for failures in (None, {"certificate-expired": 3, "starttls-not-supported": 1}):
            document = make_report(DAY, style=style, failures=failures)
            fast = _well_formed_report(document, NOW)
            assert isinstance(fast, Report) and fast == _walked_report(document, NOW), style


def parse_as_json_reads(data: bytes, now: datetime) -> Report:
    """`parse_report` without orjson's fast path: json decodes every report."""
    with mock.patch.object(model, "_well_formed_at_once", return_value=None):
        return parse_report(data, now)


# What a report's extension fields may hold, of every JSON kind: numbers past 64 bits (orjson
# reads them as floats), lone surrogates (orjson refuses them), NaN and infinities (json's).
unusual = st.sampled_from([10**30, -(10**25), 2**64, 2**63, 1e308, "\ud800", "\udfff x", "ok"])
extension_values = st.recursive(
    json_values | unusual | st.floats(), lambda children: st.lists(children, max_size=3), max_leaves=6
)


@settings(max_examples=1500, deadline=None)
@given(
    document=reports(),
    extension=extension_values,
    count=st.sampled_from([None, 10**30, 2**64 - 1, 2**64, 1e3]),
    odd=st.none() | st.tuples(paths, unusual),
    ascii_only=st.booleans(),
)
def test_a_report_orjson_reads_is_the_report_json_reads(
    document: Any, extension: Any, count: Any, odd: tuple[tuple[str | int, ...], Any] | None, ascii_only: bool
) -> None:
    if isinstance(document, dict):
        document["x-extension"] = extension
        if count is not None:
            change(document, ("policies", 0, "summary", "total-successful-session-count"), count, False)
    if odd is not None:  # an unusual value where a reader looks
        change(document, *odd, False)
    data = json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert repr(outcome(parse_report, data, NOW)) == repr(outcome(parse_as_json_reads, data, NOW))


@settings(max_examples=600, deadline=None)
@given(data=json_bytes() | st.binary(max_size=40))
def test_any_bytes_read_as_a_report_read_as_json_reads_them(data: bytes) -> None:
    assert repr(outcome(parse_report, data, NOW)) == repr(outcome(parse_as_json_reads, data, NOW))


def test_a_well_formed_report_is_read_without_json() -> None:
    # The fast path is taken (a regression here is only slower, so it is checked by itself).
    data = json.dumps(make_report(DAY, style=STYLES[0])).encode()
    with mock.patch.object(model, "_decode_json", side_effect=AssertionError("json decoded it")):
        report = parse_report(data, NOW)
    assert report == parse_as_json_reads(data, NOW)
