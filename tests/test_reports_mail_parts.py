"""Report mail is split into its parts as the standard library's own parser splits it, whatever
the boundary lines, line endings, nesting or defects (the split is a faster path, not a second
reading of MIME)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtasts.reports import mail
from mtasts.reports.mail import (
    NotAReport,
    _boundary,
    _filename,
    _one_level_parts,
    message_id,
    parse_message,
    report_attachments,
)
from tests.twin.reportmail import STYLES, make_report, report_mail


def what_is_read(message: Message) -> tuple[object, ...]:
    """Everything `reports` takes from a message."""
    try:
        attachments: object = [(a.name, a.data) for a in report_attachments(message)]
    except NotAReport as error:
        attachments = str(error)
    parts = [
        (part.get_content_type(), part.get_filename(), part.get_payload(decode=True), dict(part.items()))
        for part in message.walk()
        if not part.is_multipart()
    ]
    return message_id(message), attachments, parts, message.items(), message.get_unixfrom()


def stdlib(raw: bytes) -> Message:
    return BytesParser(policy=compat32).parsebytes(raw)


BOUNDARY = "=_b0und"
endings = st.sampled_from(["\r\n", "\n", "\r"])
boundary_line = st.tuples(
    st.sampled_from(["--" + BOUNDARY, "--" + BOUNDARY + "--", "--" + BOUNDARY + "x", "-" + BOUNDARY]),
    st.sampled_from(["", " ", "\t ", " --", "\x0c"]),
)
part_header = st.sampled_from(
    [
        "Content-Type: application/tlsrpt+gzip",
        'Content-Type: application/gzip; name="r.json.gz"',
        'Content-Disposition: attachment; filename="a!b!1!2.json.gz"',
        "Content-Transfer-Encoding: base64",
        "Content-Transfer-Encoding: 7bit",
        "Content-Type: text/plain",
        "Content-Type: application/tlsrpt+json",
        f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"',
        'Content-Type: multipart/alternative; boundary="inner"',
        "Content-Type: message/rfc822",
        "X-Odd: value",
    ]
)
odd_header = st.sampled_from(
    [
        "From a@example.com Thu Jan  1 00:00:00 2026",
        " folded onto the line before",
        "\tfolded with a tab",
        ": no field name",
        "X-Odd:value without a space",
        "Message-ID: <second@example.com>",
        "Subject: =?utf-8?q?caf=C3=A9?=",
        "Content-Type: text/plain",
    ]
)
body_line = st.sampled_from(
    ["H4sIAAAAAAAA/w==", '{"a": 1}', "", "--inner", "--inner--", "plain text", "From me"]
)
line = st.one_of(
    boundary_line.map(lambda t: t[0] + t[1]),
    part_header,
    body_line,
)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    ending = draw(endings)
    mixed = draw(st.booleans())
    outer = draw(
        st.sampled_from(
            [
                f'multipart/report; report-type="tlsrpt"; boundary="{BOUNDARY}"',
                f"multipart/mixed; boundary={BOUNDARY}",
                f'multipart/digest; boundary="{BOUNDARY}"',
                "multipart/mixed",
                "text/plain",
            ]
        )
    )
    head = [
        "From: a@example.com",
        "Message-ID: <x@example.com>",
        "Subject: report",
        f"Content-Type: {outer}",
    ]
    # Odd header lines where any may stand: each is read by its own rule (feedparser's).
    for _ in range(draw(st.integers(0, 3))):
        head.insert(draw(st.integers(0, len(head))), draw(odd_header))
    head.append(draw(st.sampled_from(["", "", "not a header line", "From me"])))
    lines = draw(st.lists(line, max_size=30))
    text = ""
    for item in head + lines:
        text += item + (draw(endings) if mixed else ending)
    return text.encode("utf-8", "surrogateescape")


@settings(max_examples=1500, deadline=None)
@given(messages())
def test_any_message_reads_as_the_standard_library_reads_it(raw: bytes) -> None:
    with mock.patch.object(mail, "MAX_MULTIPARTS", 10**6):  # the bound is tested on its own
        assert what_is_read(parse_message(raw)) == what_is_read(stdlib(raw))


def test_report_mail_of_every_sender_style_reads_as_the_standard_library_reads_it() -> None:
    for style in STYLES:
        raw = report_mail(make_report(date(2026, 1, 1), style=style), style)
        for variant in (raw, raw.replace(b"\r\n", b"\n"), raw + b"epilogue\r\n", raw.rstrip(b"\r\n-")):
            assert what_is_read(parse_message(variant)) == what_is_read(stdlib(variant)), style


def test_a_part_whose_last_header_looks_like_an_mbox_from_line_reads_as_the_stdlib_reads_it() -> None:
    for tail in ("\r\n\r\nbody\r\n", "\r\nbody\r\n", "\r\n"):
        raw = (
            f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"\r\n\r\n--{BOUNDARY}\r\n'
            f"Content-Type: text/plain\r\nFrom somebody{tail}--{BOUNDARY}--\r\n"
        ).encode()
        assert what_is_read(parse_message(raw)) == what_is_read(stdlib(raw)), tail


def test_headers_with_folded_misplaced_and_nameless_lines_read_as_the_stdlib_reads_them() -> None:
    for head in (
        " folded first\r\nSubject: x\r\n",
        "From a@example.com Thu Jan  1 00:00:00 2026\r\nSubject: x\r\n",
        "Subject: x\r\nFrom b@example.com\r\nTo: y\r\n",
        "Subject: x\r\n: nameless\r\n\tfolded\r\n",
        "Subject: x\r\nFrom b@example.com\r\n",
    ):
        for tail in ("\r\n", "body without a blank line\r\n", ""):
            raw = (
                f'{head}Content-Type: multipart/mixed; boundary="{BOUNDARY}"\r\n{tail}--{BOUNDARY}\r\n'
                f"Content-Type: application/tlsrpt+json\r\n\r\n{{}}\r\n--{BOUNDARY}--\r\n"
            ).encode()
            assert what_is_read(parse_message(raw)) == what_is_read(stdlib(raw)), (head, tail)


def test_report_mail_of_every_sender_style_takes_the_split_without_the_boundary_pattern() -> None:
    for style in STYLES:
        raw = report_mail(make_report(date(2026, 1, 1), style=style), style)
        headers = BytesParser(policy=compat32).parsebytes(raw, headersonly=True)
        parts = _one_level_parts(headers)
        assert parts is not None and len(parts) == 2, style


# Pieces of Content-Type and Content-Disposition values, plain and every kind of quoting.
value_pieces = st.sampled_from(
    [
        "multipart/mixed",
        "attachment",
        "boundary",
        "BOUNDARY",
        "filename",
        "name",
        "=",
        ";",
        " ",
        "\t",
        '"',
        "\\",
        "<",
        ">",
        "*",
        "*0",
        "'",
        "%41",
        "us-ascii''",
        "r.json.gz",
        "a b",
        "=_b0und",
        "\x1f",
        "é",
        "\udcff",
    ]
)
loose_values = st.lists(value_pieces, max_size=14).map("".join)
parameter_names = st.sampled_from(
    [
        "boundary",
        "BOUNDARY",
        " Boundary ",
        "filename",
        "FileName",
        "name",
        "x",
        "filename*",
        "name*0",
        "boundary*1*",
    ]
)
parameter_values = st.lists(
    st.sampled_from(['"', "a", "b c", ";", "\\", "<", ">", " ", "'", "*"]), max_size=6
).map("".join)
parameter_values |= st.sampled_from(['"a"', "<a>", '"<a>"', '"a\\\\b"', '"a\\"b"', '""', " <a> "])
parameters = st.lists(
    st.tuples(parameter_names, st.sampled_from(["=", " = ", ""]), parameter_values).map("".join), max_size=4
)
structured_values = st.tuples(
    st.sampled_from(["multipart/mixed", "attachment", " inline ", "filename", "boundary=x", '"q"']),
    parameters,
).map(lambda value: ";".join([value[0], *value[1]]))
header_values = loose_values | structured_values


@settings(max_examples=3000, deadline=None)
@given(
    content_type=st.none() | header_values,
    disposition=st.none() | header_values,
    again=st.none() | header_values,
)
def test_boundaries_and_file_names_read_as_the_standard_library_reads_them(
    content_type: str | None, disposition: str | None, again: str | None
) -> None:
    message = Message()
    for name, value in (
        ("Content-Type", content_type),
        ("Content-Disposition", disposition),
        ("content-type", again),
    ):
        if value is not None:
            message.set_raw(name, value)
    for mine, stdlib_reading in ((_boundary, Message.get_boundary), (_filename, Message.get_filename)):
        assert outcome(mine, message) == outcome(stdlib_reading, message)


def outcome(read: Callable[[Message], object], message: Message) -> object:
    try:
        return read(message)
    except (LookupError, ValueError, TypeError) as error:  # the stdlib's own, for odd RFC 2231 parts
        return type(error), str(error)


@settings(max_examples=400, deadline=None)
@given(
    raw=st.lists(st.sampled_from([b"\r", b"\n", b"-", b"x", b"\n--", b"\r--"]), max_size=24).map(b"".join),
    max_lines=st.integers(0, 16),
    max_boundaries=st.integers(0, 16),
)
def test_a_message_too_short_to_pass_a_bound_is_refused_exactly_when_counting_refuses_it(
    raw: bytes, max_lines: int, max_boundaries: int
) -> None:
    # `_shape_problem` skips counting a message too short to pass a bound; the bounds made
    # small, so short messages fall on both sides of them, it refuses what counting refuses.
    lines = raw.count(b"\n") + raw.count(b"\r") - raw.count(b"\r\n")
    boundaries = raw.count(b"\n--") + raw.count(b"\r--")
    with (
        mock.patch.object(mail, "MAX_LINES", max_lines),
        mock.patch.object(mail, "MAX_BOUNDARY_LINES", max_boundaries),
    ):
        problem = mail._shape_problem(raw)
    if lines > max_lines:
        assert problem is not None and f"{lines:,} lines" in problem
    elif boundaries > max_boundaries:
        assert problem is not None and f"{boundaries:,} lines that may open" in problem
    else:
        assert problem is None


def open_quote_mail(semicolons: int, ending: str = "\r\n") -> bytes:
    """A mail whose Content-Type has `semicolons` ";" after an open quote (what made the stdlib's
    parameter reading quadratic)."""
    head = f"From: a@b{ending}Message-ID: <q@x>{ending}MIME-Version: 1.0{ending}"
    content_type = 'Content-Type: multipart/mixed; boundary="BB' + ";" * semicolons
    body = f"{ending}{ending}--BB{ending}Content-Type: text/plain{ending}{ending}hi{ending}--BB--{ending}"
    return (head + content_type + body).encode()


def test_a_content_type_of_thousands_of_parameters_is_refused_before_the_stdlib_reads_it() -> None:
    # 400,000 ";" inside an open quote took the stdlib minutes (quadratic); refused unread,
    # so its size does not matter. Lone CR line endings are lines to feedparser too.
    for semicolons, ending in ((mail.MAX_HEADER_PARAMETERS + 1, "\r\n"), (400_000, "\n"), (400_000, "\r")):
        with pytest.raises(NotAReport, match=f"Content-Type header holding {semicolons + 1:,} ';'") as raised:
            parse_message(open_quote_mail(semicolons, ending))
        assert raised.value.message_id == "<q@x>"
    assert (
        parse_message(open_quote_mail(mail.MAX_HEADER_PARAMETERS - 2)).get_content_type() == "multipart/mixed"
    )


def test_a_part_header_of_thousands_of_parameters_refuses_the_mail_and_body_text_does_not() -> None:
    document = make_report(date(2026, 10, 1))
    raw = report_mail(document)
    folded = raw.replace(
        b"Content-Disposition: attachment;", b"Content-Disposition: attachment;\r\n " + b";" * 5000
    )
    with pytest.raises(NotAReport, match="Content-Disposition header holding 5,001 ';'"):
        parse_message(folded)  # a continuation line is the header's too (RFC 5322 §2.2.3)
    chatty = raw.replace(b"This is an", b"Dear postmaster" + b";" * 5000 + b"\r\nThis is an")
    assert len(report_attachments(parse_message(chatty))) == 1


def nested_mail(depth: int, lines: int = 10, ending: bytes = b"\n") -> bytes:
    """A mail of `depth` multipart/mixed nested in one another around a text part of `lines` lines."""
    head = b"From: a@b\nMessage-ID: <nest@x>\nContent-Type: multipart/mixed; boundary=b0\n\n"
    body = b"".join(
        b"--b%d\nContent-Type: multipart/mixed;\n boundary=b%d\n\n" % (i, i + 1) for i in range(depth - 1)
    )
    text = b"--b%d\nContent-Type: text/plain\n\n" % (depth - 1) + b"x\n" * lines
    return (head + body + text).replace(b"\n", ending)


def test_mail_nesting_more_multiparts_than_a_report_mail_is_refused_before_the_stdlib_parses_it() -> None:
    # feedparser checks each line against every boundary open around it: 900 levels over
    # 196,000 lines took 32 s. Refused by the count of multipart headers, whatever the lines.
    for depth, lines, ending in (
        (mail.MAX_MULTIPARTS + 1, 10, b"\n"),
        (900, 196_000, b"\n"),
        (900, 10, b"\r"),
    ):
        with pytest.raises(NotAReport, match=f"{depth:,} multipart parts nested or side by side") as raised:
            parse_message(nested_mail(depth, lines, ending))
        assert raised.value.message_id == "<nest@x>" and "at most" in str(raised.value)
    assert len(parse_message(nested_mail(mail.MAX_MULTIPARTS)).get_payload()) == 1


def test_a_report_forwarded_inside_a_wrapper_is_still_read() -> None:
    # multipart/mixed around a message/rfc822 holding the report mail: the stdlib's path.
    inner = report_mail(make_report(date(2026, 10, 1)))
    raw = (
        b"Message-ID: <fwd@x>\r\nContent-Type: multipart/mixed; boundary=w\r\n\r\n--w\r\n"
        b"Content-Type: text/plain\r\n\r\nsee below\r\n--w\r\nContent-Type: message/rfc822\r\n\r\n"
        + inner
        + b"\r\n--w--\r\n"
    )
    assert len(report_attachments(parse_message(raw))) == 1
