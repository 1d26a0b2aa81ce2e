"""Report mail as senders send it (RFC 8460 §5.3): find the report attachments of a message.

A compliant message is `multipart/report; report-type=tlsrpt` carrying one
`application/tlsrpt+gzip` or `application/tlsrpt+json` part. Senders vary: some wrap the
report in `multipart/mixed`, some label it `application/gzip` or `application/octet-stream`
and rely on the file name (`sender!policy-domain!begin!end!id.json.gz`, §5.3). The message
type is therefore not checked; a part counts when its media type is a TLS-RPT one, or when
a generic type carries a report-like file name. Parsing uses the stdlib's compat32 policy,
which is several times faster than the default policy and tolerant of the same defects.

Anyone can mail the report address, so what is kept of a message is bounded: its Message-ID
and attachment names to `MAX_KEPT_CHARS`, at most `MAX_ATTACHMENTS` report parts (RFC 8460
§5.3 has one per message), and the subject shown to 60 characters. Junk mail with megabyte
headers costs a parse, never megabytes of output.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from email import errors
from email.message import Message
from email.parser import Parser
from email.policy import compat32

from mtasts.errors import MtaStsError
from mtasts.visible import clip

REPORT_MEDIA_TYPES = frozenset({"application/tlsrpt+gzip", "application/tlsrpt+json"})
# Generic types that real senders put on report attachments, accepted with a report file name.
LOOSE_MEDIA_TYPES = frozenset(
    {"application/gzip", "application/x-gzip", "application/json", "application/octet-stream"}
)
REPORT_SUFFIXES = (".json", ".json.gz", ".gz")
# Mail systems commonly refuse messages larger than this; a "report" bigger is not one.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
MAX_KEPT_CHARS = 200  # of a Message-ID or a file name: real ones are far shorter
MAX_ATTACHMENTS = 20
# A message's lines and the lines that may open a MIME part ("--"), counted before parsing:
# each line costs an object, each part a Message, hundreds of bytes from a few bytes of mail.
# The largest report (4 MiB, base64 in lines of 76) is some 73,000 lines; a report mail has
# a text part and the report (RFC 8460 §5.3), so a few boundary lines.
MAX_LINES = 200_000
MAX_BOUNDARY_LINES = 1_000
_HEAD_BYTES = 64 * 1024  # of a refused message, read for its Message-ID
# The ";" in one Content-Type or Content-Disposition header. The stdlib reads their parameters
# (email.message._parseparam) in time of its ";" count times the header's length: 400,000
# ";" after an open quote took minutes. A report mail's have a few (type, boundary, file
# name; RFC 2231 pieces of a long name), so more is refused, and a message holding no more
# in all costs at most this many passes over a header.
MAX_HEADER_PARAMETERS = 64
# Where such a header starts: a line's start, as feedparser cuts lines (at CR, LF or CRLF).
_PARAMETER_HEADER = re.compile(rb"(?:^|(?<=\r))(content-(?:type|disposition)):", re.IGNORECASE | re.MULTILINE)
# Multipart entities in a message the stdlib parses whole (anything but one level of parts).
# feedparser checks every line against the boundary of every multipart open around it, so
# its time is lines times nesting: 900 levels over 196,000 lines took 32 s. A report mail is
# multipart/report, at most wrapped once or forwarded (RFC 8460 §5.3): a few are plenty.
MAX_MULTIPARTS = 8
# A header's value: the rest of its line and any continuation lines (RFC 5322 §2.2.3).
_HEADER_VALUE = re.compile(rb"[^\r\n]*(?:(?:\r\n|\r|\n)[ \t][^\r\n]*)*")

_parser = Parser(policy=compat32)
# A line ending at the end of a part belongs to the boundary after it (RFC 2046 §5.1.1).
_FINAL_LINE_ENDING = re.compile(r"(\r\n|\r|\n)\Z")
# What feedparser takes for a header line (email.feedparser.headerRE).
_HEADER_LINE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")


class NotAReport(MtaStsError, ValueError):
    """A message that carries no TLS report; `message_id` when it was refused before parsing."""

    def __init__(self, reason: str, message_id: str | None = None) -> None:
        super().__init__(reason)
        self.message_id = message_id


@dataclass(frozen=True)
class Attachment:
    name: str  # the part's file name, or its media type when it has none
    data: bytes


def message_id(message: Message) -> str | None:
    value = message.get("Message-ID")
    if value is None:
        return None
    text = str(value)
    kept = " ".join(text[: MAX_KEPT_CHARS * 2].split())  # unfolded, of a bounded prefix
    if len(text) > MAX_KEPT_CHARS * 2:
        return f"{kept[:MAX_KEPT_CHARS]}…(+{len(text) - MAX_KEPT_CHARS:,} characters)"
    return shorten(kept) or None


def shorten(text: str, limit: int = MAX_KEPT_CHARS) -> str:
    """`text` cut to `limit` characters, with the one marker `mtasts.visible` writes."""
    return clip(text, limit)


def parse_message(raw: bytes) -> Message:
    """The message as the stdlib parses it (compat32), read the way BytesParser reads bytes.

    A multipart message with one level of parts (what report senders send) has its parts
    split here and each part parsed by the stdlib: for every multipart message, email.feedparser
    compiles a regular expression from its boundary, and boundaries are unique per message, so
    that compilation was a third of the time spent reading a Maildir. Anything else (nested
    parts, message/* parts, a missing closing boundary, repeated boundary lines, a digest) is
    parsed by the stdlib whole, so the result is the same either way.

    NotAReport, before any parsing, for a message of more lines or MIME parts than a report
    mail holds (`MAX_LINES`, `MAX_BOUNDARY_LINES`), a Content-Type or Content-Disposition
    of more parameters (`MAX_HEADER_PARAMETERS`), or, when the stdlib parses it whole, more
    multipart entities (`MAX_MULTIPARTS`): memory and time stay near its size.
    """
    problem = _shape_problem(raw)
    if problem is not None:
        head = _parser.parsestr(raw[:_HEAD_BYTES].decode("ascii", "surrogateescape"), headersonly=True)
        raise NotAReport(problem, message_id(head))
    text = raw.decode("ascii", "surrogateescape")
    # Lines as feedparser cuts them: CR, LF or CRLF, kept on the line.
    lines = io.StringIO(text, newline="").readlines()
    end = _header_lines(lines)
    message, pushed_back = _header_message(lines[:end])
    body = lines[end:]
    if body and body[0][:1] in ("\r", "\n"):
        body = body[1:]  # the blank line that ends the headers
    elif body:
        message.defects.append(errors.MissingHeaderBodySeparatorDefect())
    parts = _one_level_parts(message, pushed_back + body)
    if parts is None:
        problem = _nesting_problem(raw)
        if problem is not None:
            raise NotAReport(problem, message_id(message))
        return _parser.parsestr(text)
    payload: list[Message | str] = [*parts]
    message.set_payload(payload)
    return message


def _shape_problem(raw: bytes) -> str | None:
    """Why `raw` is refused unparsed, or None: lines cut at CR, LF or CRLF, as feedparser cuts them.

    Every line ending takes a byte and every line that may open a part three ("\n--"), so a
    message too short to pass a bound is not counted against it: the counting was a twentieth
    of the time spent on a typical report mail."""
    lines = 0 if len(raw) <= MAX_LINES else raw.count(b"\n") + raw.count(b"\r") - raw.count(b"\r\n")
    if lines > MAX_LINES:
        return (
            f"not a TLS report mail: {lines:,} lines, where one report (RFC 8460 §5.3) takes at most "
            f"{MAX_LINES:,}; not read"
        )
    boundaries = 0 if len(raw) < 3 * MAX_BOUNDARY_LINES else raw.count(b"\n--") + raw.count(b"\r--")
    if boundaries > MAX_BOUNDARY_LINES:
        return (
            f"not a TLS report mail: {boundaries:,} lines that may open MIME parts, where a report mail "
            f"(RFC 8460 §5.3) has a text part and the report (at most {MAX_BOUNDARY_LINES:,} are read); "
            "not read"
        )
    return _parameter_problem(raw)


def _parameter_problem(raw: bytes) -> str | None:
    """Why a Content-Type or Content-Disposition header of `raw` (the message's or a part's)
    is refused before the stdlib reads its parameters, or None.

    A fast path: a message holding no more ";" than one header may (nearly every one: base64
    holds none) has no header to look at."""
    if raw.count(b";") <= MAX_HEADER_PARAMETERS:
        return None
    for header in _PARAMETER_HEADER.finditer(raw):
        value = _HEADER_VALUE.match(raw, header.end())
        count = value.group().count(b";") if value else 0
        if count > MAX_HEADER_PARAMETERS:
            name = header.group(1).decode("ascii")
            return (
                f"not a TLS report mail: a {name} header holding {count:,} ';' (each may start a "
                f"parameter), where a report mail's hold a few (at most {MAX_HEADER_PARAMETERS} are read); "
                "not read"
            )
    return None


def _nesting_problem(raw: bytes) -> str | None:
    """Why `raw` is refused before the stdlib parses it whole, or None: more multipart
    Content-Types than `MAX_MULTIPARTS`. Only the stdlib's path pays for the count (one
    level of parts, what senders send, is split without it); it counts every such header
    line, in the body too, so it is never below the nesting feedparser would open."""
    multiparts = 0
    for header in _PARAMETER_HEADER.finditer(raw):
        if header.group(1).lower() != b"content-type":
            continue
        value = _HEADER_VALUE.match(raw, header.end())
        if value and value.group().split(b";", 1)[0].strip().lower().startswith(b"multipart/"):
            multiparts += 1
    if multiparts > MAX_MULTIPARTS:
        return (
            f"not a TLS report mail: {multiparts:,} multipart parts nested or side by side, where a "
            f"report mail (RFC 8460 §5.3) has one or two (at most {MAX_MULTIPARTS} are read); not read"
        )
    return None


def _header_lines(lines: list[str]) -> int:
    """How many of `lines` feedparser reads as the header block (it stops at the first other)."""
    end = 0
    while end < len(lines) and _HEADER_LINE.match(lines[end]):
        end += 1
    return end


def _header_message(lines: list[str]) -> tuple[Message, list[str]]:
    """What the stdlib's headersonly parse of these header lines gives: the message, and the
    line it hands back to the body (a last line that looks like an mbox "From " line).

    email.feedparser.FeedParser._parse_headers, line for line, without a parser: setting one
    up (its generator, its line buffer) and feeding it cost more than the headers
    (tests/test_reports_mail_parts.py compares the two on generated messages)."""
    message = Message()
    name, value_lines = "", []
    for number, line in enumerate(lines):
        if line[0] in " \t":  # a continuation line
            if not name:
                message.defects.append(errors.FirstHeaderLineIsContinuationDefect(line))
            else:
                value_lines.append(line)
            continue
        if name:
            message.set_raw(*compat32.header_source_parse(value_lines))
            name, value_lines = "", []
        if line.startswith("From "):
            if number == 0:
                message.set_unixfrom(_FINAL_LINE_ENDING.sub("", line))
            elif number == len(lines) - 1:
                return message, [line]
            else:
                message.defects.append(errors.MisplacedEnvelopeHeaderDefect(line))
            continue
        colon = line.find(":")
        if colon == 0:
            message.defects.append(errors.InvalidHeaderDefect("Missing header name."))
            continue
        name, value_lines = line[:colon], [line]
    if name:
        message.set_raw(*compat32.header_source_parse(value_lines))
    return message, []


def _one_level_parts(message: Message, lines: list[str] | None = None) -> list[Message] | None:
    """The parts of a multipart message split as email.feedparser splits them, or None.

    `lines`: the message's body in lines (by default, its payload cut into lines)."""
    content_type = message.get_content_type()
    if not content_type.startswith("multipart/") or content_type == "multipart/digest":
        return None
    boundary = _boundary(message)
    if lines is None:
        body = message.get_payload()
        lines = io.StringIO(body, newline="").readlines() if isinstance(body, str) else None
    if boundary is None or lines is None:
        return None
    separator = "--" + boundary
    parts: list[list[str]] = []
    current: list[str] | None = None  # None in the preamble
    after_boundary = False
    for line in lines:
        closing = _boundary_line(line, separator) if line.startswith(separator) else None
        if closing is None:
            if current is not None:
                current.append(line)
            after_boundary = False
            continue
        if after_boundary:
            return None  # feedparser skips repeated boundary lines in its own way
        after_boundary = True
        if current is not None:
            parts.append(current)
        if closing:
            break
        current = []
    else:
        return None  # no closing boundary
    messages = []
    for part_lines in parts:
        # The part's body (base64 of the report, most of the part) is kept whole, as
        # feedparser keeps it, rather than fed to a parser line by line.
        end = _header_lines(part_lines)
        part, pushed_back = _header_message(part_lines[:end])
        body = part_lines[end:]
        if body and body[0][:1] in ("\r", "\n"):
            body = body[1:]  # the blank line that ends the headers; any other line is body
        if part.get_content_maintype() in ("multipart", "message"):
            return None
        part.set_payload(_FINAL_LINE_ENDING.sub("", "".join(pushed_back + body)))
        messages.append(part)
    return messages or None


def _boundary_line(line: str, separator: str) -> bool | None:
    """True for the closing boundary, False for one between parts, None for any other line.

    feedparser's pattern: the separator, an optional "--", spaces or tabs, an optional line end.
    """
    if not line.startswith(separator):
        return None
    rest = line[len(separator) :]
    for ending in ("\r\n", "\r", "\n"):
        if rest.endswith(ending):
            rest = rest[: -len(ending)]
            break
    closing = rest.startswith("--")
    if closing:
        rest = rest[2:]
    return closing if rest.strip(" \t") == "" else None


_MISSING = object()
_NOT_PLAIN = re.compile(r"[\\<>*]")  # what only the stdlib's own parameter reading undoes


def _plain_param(message: Message, param: str, header: str) -> str | object | None:
    """`message.get_param(param, _MISSING, header)` for a header whose parameters need none of
    the stdlib's unquoting (quotes only around a whole value; no backslash, angle bracket,
    RFC 2231 `*` or non-ASCII), or None for any other header, which the stdlib reads.

    A fast path: get_param splits, unquotes, requotes and unquotes again on each call, and
    reading a message's boundary and its parts' file names took a fifth of a Maildir's time
    (tests/test_reports_mail_parts.py compares both on generated header values)."""
    value = message.get(header, _MISSING)
    if value is _MISSING:
        return _MISSING
    if type(value) is not str or not value.isascii() or _NOT_PLAIN.search(value):
        return None
    first, *rest = value.split(";")
    if "=" in first or '"' in first:
        return None
    if first.strip().lower() == param:  # a bare word, read as a parameter with no value
        return ""
    for segment in rest:
        name, _, text = segment.partition("=")
        if '"' in name:
            return None
        text = text.strip()
        if '"' in text:
            if text[0] != '"' or text[-1] != '"' or text.count('"') != 2:
                return None
            text = text[1:-1]
        if name.strip().lower() == param:
            return text
    return _MISSING


def _boundary(message: Message) -> str | None:
    """`message.get_boundary()`."""
    found = _plain_param(message, "boundary", "content-type")
    if found is None:
        return message.get_boundary()
    # collapse_rfc2231_value leaves a plain value (no quotes, no angle brackets) as it is.
    return None if found is _MISSING else str(found).rstrip()


def _filename(part: Message) -> str | None:
    """`part.get_filename()`."""
    found = _plain_param(part, "filename", "content-disposition")
    if found is _MISSING:
        found = _plain_param(part, "name", "content-type")
    if found is None:
        return part.get_filename()
    return None if found is _MISSING else str(found).strip()


def _report_label(part: Message) -> str:
    """The file name of a part whose media type says it is a report, or "" when the stdlib
    cannot read the name (RFC 2231 pieces it cannot order): the name only labels the report,
    so it does not reject it. On a generic type the name decides, and such an error stands."""
    try:
        return _filename(part) or ""
    except (LookupError, ValueError, TypeError):
        return ""


def report_attachments(message: Message) -> list[Attachment]:
    """The report parts of a message, decoded from their transfer encoding; NotAReport if none."""
    found: list[Attachment] = []
    extra = 0
    for part in message.walk():
        if part.is_multipart():
            continue
        media_type = part.get_content_type()
        if media_type not in REPORT_MEDIA_TYPES and media_type not in LOOSE_MEDIA_TYPES:
            continue  # no report: its file name is not read, so a broken one rejects nothing
        filename = _report_label(part) if media_type in REPORT_MEDIA_TYPES else _filename(part) or ""
        loose = media_type in LOOSE_MEDIA_TYPES and filename.lower().endswith(REPORT_SUFFIXES)
        if media_type in REPORT_MEDIA_TYPES or loose:
            if len(found) == MAX_ATTACHMENTS:
                extra += 1
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            found.append(Attachment(name=shorten(filename or media_type), data=data))
    if extra:
        raise NotAReport(
            f"not a TLS report mail: {len(found) + extra} report parts, where RFC 8460 §5.3 sends one "
            f"(at most {MAX_ATTACHMENTS} are read from a message); none read"
        )
    if not found:
        subject = " ".join(str(message.get("Subject", "")).split())
        shown = subject if len(subject) <= 60 else subject[:57] + "..."
        raise NotAReport(
            f"not a TLS report: no application/tlsrpt+gzip or application/tlsrpt+json part "
            f"(RFC 8460 §5.3; subject {shown!r})"
        )
    return found
