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

_parser = Parser(policy=compat32)
# A line ending at the end of a part belongs to the boundary after it (RFC 2046 §5.1.1).
_FINAL_LINE_ENDING = re.compile(r"(\r\n|\r|\n)\Z")
# What feedparser takes for a header line (email.feedparser.headerRE).
_HEADER_LINE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")


class NotAReport(MtaStsError, ValueError):
    """A message that carries no TLS report."""


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
    """
    text = raw.decode("ascii", "surrogateescape")
    message = _parser.parsestr(text, headersonly=True)
    parts = _one_level_parts(message)
    if parts is None:
        return _parser.parsestr(text)
    payload: list[Message | str] = [*parts]
    message.set_payload(payload)
    return message


def _one_level_parts(message: Message) -> list[Message] | None:
    """The parts of a multipart message split as email.feedparser splits them, or None."""
    if message.get_content_maintype() != "multipart" or message.get_content_type() == "multipart/digest":
        return None
    boundary = message.get_boundary()
    body = message.get_payload()
    if boundary is None or not isinstance(body, str):
        return None
    separator = "--" + boundary
    parts: list[list[str]] = []
    current: list[str] | None = None  # None in the preamble
    after_boundary = False
    # Lines as feedparser cuts them: CR, LF or CRLF, kept on the line.
    for line in io.StringIO(body, newline="").readlines():
        closing = _boundary_line(line, separator)
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
    for lines in parts:
        # The stdlib parses the part's headers; its body (base64 of the report, most of the
        # part) is kept whole, as feedparser keeps it, rather than fed to it line by line.
        end = 0
        while end < len(lines) and _HEADER_LINE.match(lines[end]):
            end += 1
        body = lines[end:]
        if body and body[0][:1] in ("\r", "\n"):
            body = body[1:]  # the blank line that ends the headers; any other line is body
        part = _parser.parsestr("".join(lines[:end]), headersonly=True)
        if part.get_content_maintype() in ("multipart", "message"):
            return None
        # feedparser hands a trailing "From " line back to the body; headersonly keeps it there.
        pushed_back = part.get_payload()
        if not isinstance(pushed_back, str):
            return None
        part.set_payload(_FINAL_LINE_ENDING.sub("", pushed_back + "".join(body)))
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


def report_attachments(message: Message) -> list[Attachment]:
    """The report parts of a message, decoded from their transfer encoding; NotAReport if none."""
    found: list[Attachment] = []
    extra = 0
    for part in message.walk():
        if part.is_multipart():
            continue
        media_type = part.get_content_type()
        filename = part.get_filename() or ""
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
