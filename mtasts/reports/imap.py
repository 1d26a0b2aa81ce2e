"""Reading a TLS-RPT mailbox over IMAP, read-only: `imaps://user@host[:port]/folder`.

The folder is opened with EXAMINE and messages are fetched with `BODY.PEEK[]` (RFC 9051
§6.3.3, §6.4.5): the server sets no `\\Seen` flag, and nothing is ever stored, copied,
moved or expunged, so a mailbox shared with people or other tools is left exactly as it
was. `imap://` is accepted only with STARTTLS; the password never travels in clear and
never comes from the URL (it would show in process lists and CI logs): it is read from
an environment variable and appears in no message. Messages larger than
`MAX_MESSAGE_BYTES` are rejected by their RFC822.SIZE without being downloaded.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, unquote, urlsplit

from imapclient import imap_utf7

from mtasts.errors import MtaStsError
from mtasts.reports.mail import MAX_MESSAGE_BYTES
from mtasts.reports.sources import Item, Rejected, reports_in_message

PASSWORD_VARIABLE = "MTASTS_IMAP_PASSWORD"
DEFAULT_PORTS = {"imaps": 993, "imap": 143}
BATCH = 200  # UIDs per FETCH: few round trips, bounded memory
EXAMPLE = "imaps://tls-reports%40example.com@imap.example.com/INBOX"
_FETCH_HEAD = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapUrlError(MtaStsError, ValueError):
    """An IMAP URL that cannot be used; the message shows the accepted form."""


@dataclass(frozen=True)
class ImapLocation:
    scheme: str
    user: str
    host: str
    port: int
    folder: str

    def __str__(self) -> str:
        port = "" if self.port == DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{quote(self.user, safe='')}@{self.host}{port}/{quote(self.folder, safe='/')}"


def parse_imap_url(url: str) -> ImapLocation:
    """An RFC 5092 mailbox URL, checked; ImapUrlError says what is wrong and what is expected."""
    expected = f"expected imaps://USER@HOST[:PORT]/FOLDER, e.g. {EXAMPLE}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ImapUrlError(f"--imap {url!r} is not a URL ({error}); {expected}") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise ImapUrlError(f"--imap scheme {parts.scheme or '(none)'!r} is not accepted; {expected}")
    if parts.password is not None:
        raise ImapUrlError(
            f"--imap must not carry the password (it would show in process lists and logs); "
            f"remove it from the URL and set {PASSWORD_VARIABLE}"
        )
    if not parts.username:
        raise ImapUrlError(f"--imap names no user; {expected}")
    if not parts.hostname:
        raise ImapUrlError(f"--imap names no host; {expected}")
    if parts.query or parts.fragment:
        raise ImapUrlError(f"--imap takes no search or fragment (use --since to narrow); {expected}")
    folder = unquote(parts.path.strip("/")) or "INBOX"
    if any(not char.isprintable() for char in folder):
        raise ImapUrlError(
            f"--imap folder {folder!r} holds control characters; name the folder as it is shown"
        )
    return ImapLocation(
        scheme=parts.scheme,
        user=unquote(parts.username),
        host=parts.hostname,
        port=port or DEFAULT_PORTS[parts.scheme],
        folder=folder,
    )


def mailbox_argument(folder: str) -> str:
    """`folder` as IMAP sends it: modified UTF-7 for names outside ASCII (RFC 3501 §5.1.3,
    imapclient's codec), in a quoted string with its quotes and backslashes escaped."""
    encoded = imap_utf7.encode(folder).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_imap(
    location: ImapLocation,
    password: str,
    *,
    since: date | None = None,
    ca_file: str | None = None,
    timeout: float = 60.0,
) -> Iterator[Item]:
    """Every report in the folder (received on or after `since`, if given), one message at a time."""
    context = ssl.create_default_context(cafile=ca_file)
    client: imaplib.IMAP4 | None = None
    try:
        if location.scheme == "imaps":
            client = imaplib.IMAP4_SSL(location.host, location.port, ssl_context=context, timeout=timeout)
        else:
            client = imaplib.IMAP4(location.host, location.port, timeout=timeout)
            client.starttls(ssl_context=context)  # refuses to go on if the server does not offer it
        client.login(location.user, password)
        status, _ = client.select(mailbox_argument(location.folder), readonly=True)  # EXAMINE
        if status != "OK":
            yield Rejected(
                str(location), f"no folder {location.folder!r} on {location.host}", whole_source=True
            )
            return
        [validity] = client.response("UIDVALIDITY")[1] or [b"0"]
        base = f"{location};UIDVALIDITY={int(validity or 0)}"
        # SINCE compares the date the server received the message, which is after the
        # report's end; a report about days before `since` arrives no earlier than them.
        criteria = ("SINCE", since.strftime("%d-%b-%Y")) if since else ("ALL",)
        status, found = client.uid("SEARCH", *criteria)
        uids = found[0].split() if status == "OK" and found and found[0] else []
        for start in range(0, len(uids), BATCH):
            yield from _fetch_batch(client, uids[start : start + BATCH], base)
    except ssl.SSLCertVerificationError as error:
        yield Rejected(
            str(location), f"the server's certificate is not valid: {error.verify_message}", whole_source=True
        )
    except imaplib.IMAP4.error as error:
        yield Rejected(str(location), f"the IMAP server refused: {_text(error)}", whole_source=True)
    except (OSError, ssl.SSLError) as error:  # TimeoutError is an OSError
        yield Rejected(
            str(location), f"cannot reach {location.host}:{location.port}: {error}", whole_source=True
        )
    finally:
        if client is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()


def _text(error: Exception) -> str:
    text = str(error.args[0] if error.args else error)
    return text[2:-1] if text.startswith(("b'", 'b"')) else text


def _fetch_batch(client: imaplib.IMAP4, uids: list[bytes], base: str) -> Iterator[Item]:
    status, sized = client.uid("FETCH", b",".join(uids).decode(), "(RFC822.SIZE)")
    wanted = []
    for line in sized if status == "OK" else []:
        head = line[0] if isinstance(line, tuple) else line
        uid, size = _FETCH_HEAD.search(head or b""), _SIZE.search(head or b"")
        if uid is None or size is None:
            continue
        if int(size.group(1)) > MAX_MESSAGE_BYTES:
            yield Rejected(
                f"{base}/;UID={int(uid.group(1))}",
                f"{int(size.group(1))} bytes is larger than any report mail "
                f"({MAX_MESSAGE_BYTES // 2**20} MiB); not downloaded",
            )
        else:
            wanted.append(uid.group(1))
    if not wanted:
        return
    status, fetched = client.uid("FETCH", b",".join(wanted).decode(), "(BODY.PEEK[])")
    for part in fetched if status == "OK" else []:
        if not isinstance(part, tuple):
            continue  # the closing b")" of each response
        uid = _FETCH_HEAD.search(part[0])
        origin = f"{base}/;UID={int(uid.group(1)) if uid else '?'}"
        yield from reports_in_message(part[1], origin)
