"""Reading a TLS-RPT mailbox over IMAP, read-only: `imaps://user@host[:port]/folder`.

The folder is opened with EXAMINE and messages are fetched with `BODY.PEEK[]` (RFC 9051
§6.3.3, §6.4.5): the server sets no `\\Seen` flag, and nothing is ever stored, copied,
moved or expunged, so a mailbox shared with people or other tools is left exactly as it
was. `imap://` is accepted only with STARTTLS; the password never travels in clear and
never comes from the URL (it would show in process lists and CI logs): it is read from
an environment variable and is scrubbed from every message this module writes.

The server is not trusted. The whole read has a deadline (a server that sends one byte every
few seconds is cut off when it passes), and what the server may send is bounded per command:
a message announced (RFC822.SIZE) above `MAX_MESSAGE_BYTES` is not downloaded, a literal
larger than that, or an answer larger than its messages' announced sizes, drops the
connection and the messages concerned are read again one by one, so only the one that lied
is rejected. Answers that make no sense (two UIDVALIDITYs, a UID that is not a number) reject
the mailbox with what was answered. Leaves alone: what a message holds (`sources`, `mail`).
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from imapclient import imap_utf7

from mtasts.errors import MtaStsError
from mtasts.reports.mail import MAX_MESSAGE_BYTES, shorten
from mtasts.reports.sources import Item, Rejected, reports_in_message
from mtasts.scrub import scrub
from mtasts.trust import trusting_context

PASSWORD_VARIABLE = "MTASTS_IMAP_PASSWORD"
DEFAULT_PORTS = {"imaps": 993, "imap": 143}
EXAMPLE = "imaps://tls-reports%40example.com@imap.example.com/INBOX"
DEFAULT_DEADLINE = 300.0  # seconds for one mailbox; a daily read takes a few
OPERATION_TIMEOUT = 60.0  # seconds the server may stay silent
BATCH = 200  # UIDs per FETCH: few round trips
BATCH_BYTES = 8 * 2**20  # announced bytes per FETCH of bodies: bounded memory
ANSWER_SLACK = 16 * 1024  # bytes around each message's literal in a FETCH answer
SMALL_ANSWER = 4 * 2**20  # the most the greeting, LOGIN, EXAMINE or SEARCH may bring
LINE_LIMIT = 2**20  # imaplib's own limit is 1,000,000
MAX_REOPENS = 5  # connections dropped for oversized answers before giving up on the mailbox
# Literals in one answer: a FETCH of bodies brings one per message. imaplib keeps a tuple of
# two bytes objects for each, some 150 bytes from the 6 of an empty one (" {0}\r\n"), so a
# chain of them took 673 MB for a 32 MiB answer.
MAX_LITERALS = 2 * BATCH + 16
_UID = re.compile(rb"UID (\d{1,10})(?!\d)")
_SIZE_DIGITS = 15  # of a size read: a petabyte, past any limit, and never too long for int()
_SIZE = re.compile(rb"RFC822\.SIZE (\d{1,15})(?!\d)")
_SHOWN = 60  # characters of a server's odd answer shown in a message


class ImapUrlError(MtaStsError, ValueError):
    """An --imap URL or mailbox password that cannot be used; the message never holds the password."""


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


def _without_password(url: str) -> str:
    """`url` as it may be shown: a password between `user:` and `@` replaced by `***`."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    end = min((rest.find(char) for char in "/?#" if char in rest), default=len(rest))
    userinfo, at, hostport = rest[:end].rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    return f"{scheme}://{userinfo}{at}{hostport}{rest[end:]}"


def _control_at(text: str) -> int | None:
    return next((index for index, char in enumerate(text) if not char.isprintable()), None)


def parse_imap_url(url: str) -> ImapLocation:
    """An RFC 5092 mailbox URL, checked; ImapUrlError says what is wrong and what is expected."""
    expected = f"expected imaps://USER@HOST[:PORT]/FOLDER, e.g. {EXAMPLE}"
    shown = _without_password(url)
    # CR/LF would reach the wire as IMAP commands of their own (in LOGIN or EXAMINE).
    if (at := _control_at(url)) is not None:
        raise ImapUrlError(
            f"--imap {shown!r} holds a control character at position {at + 1}; "
            f"write the URL on one line, without tabs or line breaks; {expected}"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        reason = str(error).replace(url, shown)
        raise ImapUrlError(f"--imap {shown!r} is not a URL ({reason}); {expected}") from None
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
    if port == 0:
        raise ImapUrlError(f"--imap {shown!r}: port 0 is not a port; expected 1 to 65535 or none")
    if parts.query or parts.fragment:
        raise ImapUrlError(f"--imap takes no search or fragment (use --since to narrow); {expected}")
    user = unquote(parts.username)
    folder = unquote(parts.path.strip("/")) or "INBOX"
    for what, value in (("user name", user), ("folder", folder)):
        if (at := _control_at(value)) is not None:
            raise ImapUrlError(
                f"--imap {what} holds a control character at position {at + 1} once decoded "
                f"(a %0D, %0A or the like); name the {what} as it is shown"
            )
    if not user.isascii():
        raise ImapUrlError(
            f"--imap user name {user!r} holds characters outside ASCII, which IMAP LOGIN cannot send "
            "(RFC 3501 §6.2.3); use the mailbox's ASCII login name"
        )
    return ImapLocation(
        scheme=parts.scheme,
        user=user,
        host=parts.hostname,
        port=port or DEFAULT_PORTS[parts.scheme],
        folder=folder,
    )


def check_password(password: str) -> None:
    """ImapUrlError unless IMAP LOGIN can send `password`; the message gives positions, never characters."""
    control = _control_at(password)
    if control is not None:
        raise ImapUrlError(
            f"{PASSWORD_VARIABLE} holds a control character at position {control + 1} of {len(password)} "
            "(a line break read from a file, say); set it to the password alone"
        )
    outside = next((index for index, char in enumerate(password) if not char.isascii()), None)
    if outside is not None:
        raise ImapUrlError(
            f"{PASSWORD_VARIABLE} holds a character outside ASCII at position {outside + 1} of "
            f"{len(password)}, which IMAP LOGIN cannot send (RFC 3501 §6.2.3); use an app password "
            "or one of ASCII characters"
        )


def mailbox_argument(folder: str) -> str:
    """`folder` as IMAP sends it: modified UTF-7 for names outside ASCII (RFC 3501 §5.1.3,
    imapclient's codec), in a quoted string with its quotes and backslashes escaped."""
    encoded = imap_utf7.encode(folder).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- The connection: a deadline and a byte budget over imaplib -----------------------------


class _Oversized(Exception):
    """The server sent more than the current command may bring; the connection is out of step.

    Not an imaplib error, so imaplib lets it through unchanged.
    """

    def __init__(self, literal: int | None, limit: int, reason: str | None = None) -> None:
        super().__init__(literal, limit)
        self.literal, self.limit, self.reason = literal, limit, reason

    def describe(self) -> str:
        if self.reason is not None:
            return self.reason
        if self.literal is not None:
            return f"the server began a literal of {self.literal} bytes where at most {self.limit} may come"
        return f"the server sent more than {self.limit} bytes in one answer"


class _Odd(ValueError):
    """An answer that makes no sense (RFC 9051); the message shows what was answered."""


class _NoFolder(Exception):
    pass


class _Deadline:
    """The time left for one mailbox; when it runs out every watched socket is shut down, which
    ends a read that is blocked or trickling (a per-read timeout cannot, one byte at a time)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds
        self._fired = False
        self._watched: list[tuple[threading.Timer, socket.socket]] = []

    def remaining(self) -> float:
        return max(0.0, self._at - time.monotonic())

    @property
    def expired(self) -> bool:
        return self._fired or time.monotonic() >= self._at

    def watch(self, sock: socket.socket) -> None:
        spare = sock.dup()  # shutdown(2) acts on the connection, whatever wraps `sock` later

        def fire() -> None:
            self._fired = True
            with contextlib.suppress(OSError):
                spare.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(self.remaining(), fire)
        timer.daemon = True
        self._watched.append((timer, spare))
        timer.start()

    def close(self) -> None:
        for timer, spare in self._watched:
            timer.cancel()
            spare.close()
        self._watched.clear()


class _Bounded:
    """`read` and `readline` of imaplib.IMAP4, held to `budget` bytes per command."""

    budget = SMALL_ANSWER  # bytes still allowed
    answer_limit = SMALL_ANSWER  # bytes allowed in all, for the message
    literal_limit = MAX_MESSAGE_BYTES
    literals = MAX_LITERALS  # literals still allowed
    file: Any

    def read(self, size: int) -> bytes:
        if size > min(self.literal_limit, self.budget):
            raise _Oversized(size, min(self.literal_limit, self.budget))
        self.literals -= 1
        if self.literals < 0:  # imaplib reads every literal, and only literals, with read()
            raise _Oversized(
                None, self.answer_limit, f"the server sent more than {MAX_LITERALS} literals in one answer"
            )
        self.budget -= size
        return bytes(self.file.read(size))

    def readline(self) -> bytes:
        line = bytes(self.file.readline(min(LINE_LIMIT, self.budget) + 1))
        if len(line) > self.budget:
            raise _Oversized(None, self.answer_limit)
        if len(line) > LINE_LIMIT:
            raise imaplib.IMAP4.error(f"the server sent a line longer than {LINE_LIMIT} bytes")
        if line.endswith(b"}\r\n"):
            self._check_literal_size(line)
        self.budget -= len(line)
        return line

    def _check_literal_size(self, line: bytes) -> None:
        """_Oversized for a line announcing a literal (`{size}`, RFC 9051 §4) of more than
        _SIZE_DIGITS digits, far past any limit: imaplib reads it with int(), which refuses more than
        4,300 digits with a ValueError that would end the read of the whole mailbox. As
        _Oversized, only the message it came with is rejected."""
        digits = line[line.rfind(b"{") + 1 : -3]
        significant = digits.lstrip(b"0")
        if digits.isdigit() and len(significant) > _SIZE_DIGITS:
            limit = min(self.literal_limit, self.budget)
            reason = (
                f"the server began a literal whose size is a {len(significant):,}-digit number "
                f"where at most {limit} bytes may come"
            )
            raise _Oversized(None, limit, reason)


class _Plain(_Bounded, imaplib.IMAP4):
    def __init__(self, host: str, port: int, timeout: float, watch: Callable[[socket.socket], None]) -> None:
        self._watch = watch
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock: socket.socket = imaplib.IMAP4._create_socket(self, timeout)  # type: ignore[attr-defined]
        self._watch(sock)
        return sock


class _Tls(_Bounded, imaplib.IMAP4_SSL):
    def __init__(
        self,
        host: str,
        port: int,
        context: ssl.SSLContext,
        timeout: float,
        watch: Callable[[socket.socket], None],
    ) -> None:
        self._watch = watch
        super().__init__(host, port, ssl_context=context, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock: socket.socket = imaplib.IMAP4._create_socket(self, timeout)  # type: ignore[attr-defined]
        self._watch(sock)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def _shown(value: object) -> str:
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    return repr(shorten(text, _SHOWN))


@dataclass
class _Mailbox:
    """One folder on one server, opened read-only; reopened after an answer too large to stay in step with."""

    location: ImapLocation
    password: str
    context: ssl.SSLContext
    deadline: _Deadline
    timeout: float
    validity: int | None = None
    reopens: int = 0
    client: imaplib.IMAP4 | None = field(default=None, repr=False)

    def open(self) -> int | None:
        if self.deadline.expired:
            raise TimeoutError("no time left")
        timeout = max(0.1, min(self.timeout, self.deadline.remaining()))
        where = self.location
        if where.scheme == "imaps":
            self.client = _Tls(where.host, where.port, self.context, timeout, self.deadline.watch)
        else:
            self.client = _Plain(where.host, where.port, timeout, self.deadline.watch)
            self.client.starttls(ssl_context=self.context)  # refuses to go on if the server does not offer it
        client = self._command()
        client.login(where.user, self.password)
        client = self._command()
        status, _ = client.select(mailbox_argument(where.folder), readonly=True)  # EXAMINE
        if status != "OK":
            raise _NoFolder()
        validity = _uidvalidity(client.response("UIDVALIDITY")[1])
        if self.validity is not None and validity != self.validity:
            raise _Odd(f"the folder's UIDVALIDITY changed from {self.validity} to {validity} during the read")
        self.validity = validity
        return validity

    def reopen(self) -> None:
        """A new connection after an oversized answer; the old one is mid-literal, so no LOGOUT on it."""
        if self.client is not None:
            with contextlib.suppress(OSError):
                self.client.shutdown()
            self.client = None
        self.reopens += 1
        if self.reopens > MAX_REOPENS:
            raise _Odd(f"the server sent {self.reopens} answers larger than announced; stopped reconnecting")
        self.open()

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError, _Oversized, ValueError):
                self._command().logout()
            with contextlib.suppress(OSError):
                self.client.shutdown()
            self.client = None

    def _command(self, budget: int = SMALL_ANSWER, literal_limit: int = 64 * 1024) -> imaplib.IMAP4:
        """The client, with the bytes the next command's answer may bring."""
        assert self.client is not None
        self.client.untagged_responses = {}  # only the answer to the next command is kept
        self.client.budget = self.client.answer_limit = budget  # type: ignore[attr-defined]
        self.client.literal_limit = literal_limit  # type: ignore[attr-defined]
        self.client.literals = MAX_LITERALS  # type: ignore[attr-defined]
        return self.client

    def search(self, since: date | None) -> list[int]:
        # SINCE compares the date the server received the message, which is after the
        # report's end; a report about days before `since` arrives no earlier than them.
        criteria = ("SINCE", since.strftime("%d-%b-%Y")) if since else ("ALL",)
        status, found = self._command().uid("SEARCH", *criteria)
        if status != "OK":
            raise imaplib.IMAP4.error(f"SEARCH answered {status}")
        uids: set[int] = set()
        for line in found:
            for word in (line if isinstance(line, bytes) else b"").split():
                uid = _nz_number(word)
                if uid is None:
                    raise _Odd(
                        f"the server answered SEARCH with {_shown(word)}, which is not a UID (1 to 2^32-1)"
                    )
                uids.add(uid)
        return sorted(uids)

    def still_there(self, uids: list[int]) -> set[int]:
        """Which of `uids` the folder still holds (UID SEARCH UID); all of them when the
        server does not say, so that nothing it left out goes unnamed."""
        try:
            status, found = self._command().uid("SEARCH", "UID", _uid_set(uids))
        except imaplib.IMAP4.abort:
            raise  # the connection broke: the mailbox's read ends, as for any other command
        except imaplib.IMAP4.error:  # BAD: a server that does not know the command
            return set(uids)
        if status != "OK":
            return set(uids)
        lines = [line for line in found if isinstance(line, bytes)]
        return set(uids) & {_nz_number(word) for line in lines for word in line.split()}

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """UID → announced RFC822.SIZE, for the UIDs asked about and answered."""
        status, answer = self._command().uid("FETCH", _uid_set(uids), "(RFC822.SIZE)")
        wanted, sizes = set(uids), {}
        for line in answer if status == "OK" else []:
            head = line[0] if isinstance(line, tuple) else line
            uid, size = _UID.search(head or b""), _SIZE.search(head or b"")
            if uid is not None and size is not None and int(uid.group(1)) in wanted:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def bodies(self, uids: list[int], budget: int) -> dict[int, bytes]:
        """UID → the message, for the UIDs asked about; _Oversized when the answer passes `budget`."""
        client = self._command(budget, MAX_MESSAGE_BYTES)
        status, answer = client.uid("FETCH", _uid_set(uids), "(BODY.PEEK[])")
        wanted, found = set(uids), dict[int, bytes]()
        for part in answer if status == "OK" else []:
            if isinstance(part, tuple):  # (b"* 5 FETCH (UID 12 BODY[] {n}", message); b")" follows
                uid = _UID.search(part[0])
                if uid is not None and int(uid.group(1)) in wanted:
                    found.setdefault(int(uid.group(1)), part[1])
        return found


def _uid_set(uids: list[int]) -> str:
    return ",".join(map(str, uids))


def _uidvalidity(values: list[Any]) -> int | None:
    """The folder's one UIDVALIDITY (RFC 9051 §2.3.1.1), None when the server sent none."""
    given = {value for value in values if value is not None}
    if not given:
        return None
    if len(given) > 1:
        shown = ", ".join(sorted(_shown(value) for value in given)[:3])
        raise _Odd(f"the server answered EXAMINE with {len(given)} different UIDVALIDITYs ({shown})")
    [value] = given
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    validity = _nz_number(text.encode("ascii", "replace"))
    if validity is None:
        raise _Odd(f"the server answered EXAMINE with UIDVALIDITY {_shown(text)}, not a number (1 to 2^32-1)")
    return validity


def _nz_number(word: bytes) -> int | None:
    """`word` as a UID or UIDVALIDITY (RFC 9051 §2.3.1.1, nz-number: 1 to 2^32-1), or None.

    ASCII digits only; leading zeros are read past (the grammar has none, yet the value is
    plain) and the rest is bounded to 10 digits before int() reads it, so a word of
    thousands of digits is "not a UID", not int()'s ValueError, and 10^11 is not taken for
    its first 11 digits."""
    digits = word.lstrip(b"0")
    if not word.isdigit() or not digits or len(digits) > 10:
        return None
    number = int(digits)
    return number if number < 2**32 else None


# --- Reading ------------------------------------------------------------------------------


def read_imap(
    location: ImapLocation,
    password: str,
    *,
    since: date | None = None,
    ca_file: str | None = None,
    timeout: float = OPERATION_TIMEOUT,
    deadline: float = DEFAULT_DEADLINE,
) -> Iterator[Item]:
    """Every report in the folder (received on or after `since`, if given), within `deadline` seconds."""
    clock = _Deadline(deadline)
    box = _Mailbox(location, password, trusting_context(ca_file), clock, timeout)
    progress = _Progress()
    where = str(location)
    try:
        for item in _read(box, since, progress):
            yield _scrubbed(item, password)
    except ssl.SSLCertVerificationError as error:
        reason = f"the server's certificate is not valid: {error.verify_message}"
        yield Rejected(where, reason, whole_source=True)
    except _NoFolder:
        yield Rejected(where, f"no folder {location.folder!r} on {location.host}", whole_source=True)
    except Exception as error:  # the server is hostile: no answer may end in a traceback
        reason = _failure(error, clock, location, progress)
        yield Rejected(where, scrub(reason, password, redacted="[password]"), whole_source=True)
    finally:
        box.close()
        clock.close()


@dataclass
class _Progress:
    found: int | None = None  # messages the search found
    done: int = 0


def _failure(error: Exception, clock: _Deadline, location: ImapLocation, progress: _Progress) -> str:
    if clock.expired and isinstance(error, (imaplib.IMAP4.error, OSError, ValueError)):
        found = progress.found
        left = "" if found is None else f"; {found - progress.done} of {found} messages not read"
        return (
            f"gave up after {clock.seconds:g} s (--imap-timeout): {location.host}:{location.port} "
            f"answered too slowly{left}"
        )
    if isinstance(error, _Odd):
        return f"the IMAP server's answer makes no sense: {error}"
    if isinstance(error, _Oversized):
        return f"{error.describe()}; not read"
    if isinstance(error, imaplib.IMAP4.abort) or (isinstance(error, OSError) and progress.found is not None):
        # Not a refusal (NO, BAD: credentials, the folder): the connection ended under the
        # read, by EOF, a reset or an unexpected BYE, which is worth running again.
        detail = _text(error) if isinstance(error, imaplib.IMAP4.abort) else (error.strerror or str(error))
        found = progress.found
        if found is None:
            return f"the connection to {location.host}:{location.port} broke off ({shorten(detail, 300)})"
        return (
            f"the connection to {location.host}:{location.port} broke off while the messages were "
            f"fetched ({shorten(detail, 300)}): {progress.done} of {found} messages read and counted, "
            f"{found - progress.done} not; run it again to read them"
        )
    if isinstance(error, imaplib.IMAP4.error):
        return f"the IMAP server refused: {shorten(_text(error), 300)}"
    if isinstance(error, (OSError, ssl.SSLError)):  # TimeoutError is an OSError
        return f"cannot reach {location.host}:{location.port}: {shorten(str(error), 300)}"
    return f"the IMAP server's answer could not be read ({type(error).__name__}: {shorten(str(error), 300)})"


def _text(error: Exception) -> str:
    text = str(error.args[0] if error.args else error)
    return text[2:-1] if text.startswith(("b'", 'b"')) else text


def _scrubbed(item: Item, password: str) -> Item:
    if isinstance(item, Rejected):
        reason = scrub(item.reason, password, redacted="[password]")
        if reason != item.reason:
            return Rejected(item.origin, reason, item.message_id, item.whole_source)
    return item


def _read(box: _Mailbox, since: date | None, progress: _Progress) -> Iterator[Item]:
    validity = box.open()
    base = f"{box.location}" + ("" if validity is None else f";UIDVALIDITY={validity}")
    uids = box.search(since)
    progress.found = len(uids)
    for start in range(0, len(uids), BATCH):
        chunk = uids[start : start + BATCH]
        sizes = box.sizes(chunk)
        batches: list[list[int]] = []
        filled = BATCH_BYTES
        for uid in chunk:
            announced = sizes.get(uid, MAX_MESSAGE_BYTES)
            if announced > MAX_MESSAGE_BYTES:
                progress.done += 1
                yield Rejected(
                    f"{base}/;UID={uid}",
                    f"{announced} bytes is larger than any report mail ({MAX_MESSAGE_BYTES // 2**20} MiB); "
                    "not downloaded",
                )
            elif filled + announced <= BATCH_BYTES:
                batches[-1].append(uid)
                filled += announced
            else:
                batches.append([uid])
                filled = announced
        while batches:
            batch = batches.pop(0)
            if len(batch) == 1:
                budget = MAX_MESSAGE_BYTES + ANSWER_SLACK
            else:
                budget = sum(sizes[uid] for uid in batch) + ANSWER_SLACK * len(batch)
            try:
                found = box.bodies(batch, budget)
            except _Oversized as error:
                box.reopen()
                if len(batch) > 1:  # read them one by one, so only the one that lied is rejected
                    batches[:0] = [[uid] for uid in batch]
                    continue
                [uid] = batch
                progress.done += 1
                yield Rejected(
                    f"{base}/;UID={uid}",
                    f"announced as {sizes.get(uid, '(no size)')} bytes (RFC822.SIZE), but {error.describe()} "
                    f"(the most a report mail may take is {MAX_MESSAGE_BYTES // 2**20} MiB); not read",
                )
                continue
            missing = [uid for uid in batch if uid not in found]
            # Expunged meanwhile by another client of a live mailbox (gone, as it should be),
            # or left out by a server that skips what it was asked for (named).
            left_out = box.still_there(missing) if missing else set()
            for uid in batch:
                progress.done += 1
                if uid in found:
                    yield from reports_in_message(found.pop(uid), f"{base}/;UID={uid}")
                elif uid in left_out:
                    yield Rejected(f"{base}/;UID={uid}", "the server sent no message for this UID; not read")
