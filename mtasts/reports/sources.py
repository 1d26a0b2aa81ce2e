"""Where reports are read from on disk: report files, directories, Maildir and mbox folders.

Every reader is a generator of `Found` (a report and where it came from) or `Rejected`
(what could not be read and why), one input at a time, so memory does not grow with the
number of reports and one bad input never stops the rest. Nothing here writes: Maildir
messages are read in place (not moved from `new/` to `cur/`, no flags added) and mbox files
are opened read-only. The IMAP reader (`imap`) yields the same items.
"""

from __future__ import annotations

import contextlib
import mailbox
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mtasts.reports.mail import (
    MAX_MESSAGE_BYTES,
    NotAReport,
    message_id,
    parse_message,
    report_attachments,
    shorten,
)
from mtasts.reports.model import GZIP_MAGIC, Report, ReportError, parse_report


@dataclass(frozen=True)
class Found:
    report: Report
    origin: str  # a path, `mbox#n`, or an IMAP URL with the message's UID (RFC 5092)


@dataclass(frozen=True)
class Rejected:
    origin: str
    reason: str
    message_id: str | None = None
    # True when a whole source (a path, a mailbox) could not be read, not just one message in it.
    whole_source: bool = False


Item = Found | Rejected


def read_paths(paths: Iterable[str]) -> Iterator[Item]:
    for path in paths:
        yield from read_path(Path(path))


def read_path(path: Path) -> Iterator[Item]:
    try:
        info = path.stat()
    except FileNotFoundError:
        missing = "a symbolic link to nothing" if path.is_symlink() else "no such file or directory"
        yield Rejected(str(path), missing, whole_source=True)
        return
    except OSError as error:
        yield Rejected(str(path), f"cannot read it: {error.strerror or error}", whole_source=True)
        return
    if stat.S_ISDIR(info.st_mode):
        yield from _walk(path, set(), 0)
    elif stat.S_ISREG(info.st_mode):
        yield from read_file(path)
    else:
        yield Rejected(str(path), f"not a regular file ({_kind(info.st_mode)}); skipped", whole_source=True)


def _kind(mode: int) -> str:
    kinds = {
        stat.S_IFIFO: "a FIFO",
        stat.S_IFCHR: "a character device",
        stat.S_IFBLK: "a block device",
        stat.S_IFDIR: "a folder",
    }
    return kinds.get(stat.S_IFMT(mode), "a socket" if stat.S_ISSOCK(mode) else "not a file")


# Folders walked below a path given. Mail stores nest a few (Maildir++ folders are one level,
# an archive by year and month a few more); the walk recurses per level, so 1,500 nested
# folders ended in RecursionError, and every item found that deep passed up through each.
MAX_FOLDER_DEPTH = 64


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _walk(directory: Path, seen: set[tuple[int, int]], depth: int) -> Iterator[Item]:
    """`directory` and everything under it, following symbolic links but never into a directory
    already read (a link to itself or to a parent would loop forever); each unreadable entry
    is named and the walk goes on. `depth`: folders above it in the walk, at most
    MAX_FOLDER_DEPTH; a folder deeper is named, not read."""
    if depth > MAX_FOLDER_DEPTH:
        reason = f"folders nested more than {MAX_FOLDER_DEPTH} deep; this one and those in it are not read"
        yield Rejected(str(directory), reason, whole_source=True)
        return
    try:
        info = directory.stat()
        if (info.st_dev, info.st_ino) in seen:
            return
        seen.add((info.st_dev, info.st_ino))
        if is_maildir(directory):
            yield from read_maildir(directory)
            yield from _maildir_folders(directory, seen, depth)
            return
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as error:
        yield Rejected(str(directory), f"cannot read it: {error.strerror or error}", whole_source=True)
        return
    # Entries are named as str(directory / name) names them, without a Path for each file.
    prefix = _prefix(str(directory))
    for entry in entries:
        path = prefix + entry.name
        # What the listing says an entry is (its d_type): no stat for a plain file or folder,
        # which is most of a run's system calls on a folder of small reports. A symbolic link,
        # or a file system without d_type, costs one stat as before; `_read_bounded` checks
        # again on the open descriptor, so a file swapped after the listing is still judged.
        try:
            mode = _DIRECTORY if entry.is_dir() else _REGULAR if entry.is_file() else os.stat(path).st_mode
        except OSError as error:
            yield Rejected(path, f"cannot read it: {error.strerror or error}", whole_source=True)
            continue
        if stat.S_ISDIR(mode):
            yield from _walk(Path(path), seen, depth + 1)
        elif entry.name.startswith("."):
            continue  # editors' and mail programs' own files; hidden folders are still walked
        elif stat.S_ISREG(mode):
            yield from _read_file(path, entry.name)
        else:
            yield Rejected(path, f"not a regular file ({_kind(mode)}); skipped")


_DIRECTORY, _REGULAR = stat.S_IFDIR, stat.S_IFREG


def _maildir_folders(root: Path, seen: set[tuple[int, int]], depth: int) -> Iterator[Item]:
    """A Maildir's Maildir++ folders (`.TLS-Reports/`, as Dovecot and Courier keep the folders a
    Sieve rule files into), each read as a Maildir; the root's other entries (`tmp/`, index
    files) are the mail program's own."""
    try:
        with os.scandir(root) as scan:
            names = sorted(entry.name for entry in scan)
    except OSError as error:
        reason = f"cannot list its Maildir++ folders: {error.strerror or error}"
        yield Rejected(str(root), reason, whole_source=True)
        return
    prefix = _prefix(str(root))
    for name in names:
        if not name.startswith(".") or name in (".", ".."):
            continue
        folder = Path(prefix + name)
        try:
            is_folder = folder.is_dir() and is_maildir(folder)
        except OSError as error:
            yield Rejected(str(folder), f"cannot read it: {error.strerror or error}", whole_source=True)
            continue
        if is_folder:
            yield from _walk(folder, seen, depth + 1)


def _prefix(directory: str) -> str:
    """What `str(Path(directory) / name)` puts before `name` (a backslash on Windows)."""
    if directory == ".":
        return ""
    return directory if directory.endswith(("/", os.sep)) else directory + os.sep


def read_maildir(path: Path) -> Iterator[Item]:
    """Every message in `new/` and `cur/` (its Maildir++ folders are `_walk`'s), read in place:
    mailbox.Maildir would parse each one with the slow default email policy, and the files
    are all that is needed."""
    for sub in ("new", "cur"):
        try:
            with os.scandir(path / sub) as entries:
                names = sorted(entry.name for entry in entries if entry.name[0] != ".")
        except OSError as error:
            yield Rejected(str(path / sub), f"cannot read it: {error.strerror or error}", whole_source=True)
            continue
        prefix = _prefix(str(path / sub))
        for name in names:
            try:
                yield from _message_file(prefix + name)
            except FileNotFoundError:
                # Gone since the listing: the mailbox is live. Its mail program moves a message
                # from new/ to cur/ once it has been seen (cur/ is listed after new/ is read, so
                # it is read there), renames it within cur/ when its flags change (`unique:2,S`
                # to `unique:2,RS`: read under its new name, found by the unique part before the
                # colon), or expunges it. None of that is the input's fault.
                renamed = _renamed_in_cur(path, name) if sub == "cur" else None
                if renamed is not None:
                    with contextlib.suppress(FileNotFoundError):  # moved again: as good as expunged
                        yield from _message_file(prefix + renamed)


def _message_file(message_path: str) -> Iterator[Item]:
    """The reports in one message file, or why there are none; FileNotFoundError if it is gone."""
    try:
        raw = _read_bounded(message_path)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as error:
        yield Rejected(message_path, _reason(error))
        return
    yield from reports_in_message(raw, message_path)


def _renamed_in_cur(maildir: Path, name: str) -> str | None:
    """The name the message `name` has in cur/ now, if it is there under another."""
    unique = name.split(":", 1)[0]
    try:
        with os.scandir(maildir / "cur") as entries:
            others = [entry.name for entry in entries if entry.name != name]
    except OSError:
        return None
    return next((other for other in others if other.split(":", 1)[0] == unique), None)


def read_mbox(path: Path) -> Iterator[Item]:
    box = mailbox.mbox(path, create=False)
    try:
        yield from _mbox_items(_mailbox_messages(box), str(path))
    finally:
        box.close()


def _mailbox_messages(box: mailbox.mbox) -> Iterator[bytes]:
    for key in box.iterkeys():
        with box.get_file(key) as message:  # reads no more of a huge message than the limit
            yield message.read(MAX_MESSAGE_BYTES + 1)


def _mbox_items(messages: Iterable[bytes], path: str) -> Iterator[Item]:
    for number, raw in enumerate(messages, start=1):
        origin = f"{path}#{number}"
        if len(raw) > MAX_MESSAGE_BYTES:
            yield Rejected(origin, f"larger than any report mail ({MAX_MESSAGE_BYTES // 2**20} MiB); skipped")
            continue
        yield from reports_in_message(raw, origin)


_FROM_LINE = re.compile(rb"^From ", re.MULTILINE)


def mbox_messages(data: bytes, limit: int = MAX_MESSAGE_BYTES + 1) -> Iterator[bytes]:
    """The messages of an mbox already read whole, as `read_mbox` reads them from the file:
    at most `limit` bytes of each, cut where mailbox.mbox cuts them (its table of contents and
    `get_file`): from the line after each line that starts "From " to the next such line, less
    the empty line before it.

    A fast path: an mbox no larger than one message is read whole anyway to see what it is,
    and mailbox.mbox read it again line by line in Python to find the messages
    (tests/test_reports_sources.py compares the two on generated mboxes)."""
    starts = (match.start() for match in _FROM_LINE.finditer(data))
    start = next(starts, None)
    while start is not None:
        following = next(starts, None)
        end = len(data) if following is None else following
        stop = end - 1 if data[end - 2 : end] == b"\n\n" else end  # an empty line before
        newline = data.find(b"\n", start)
        body = len(data) if newline < 0 else newline + 1
        yield data[body : min(stop, body + limit)]
        start = following


def read_file(path: Path) -> Iterator[Item]:
    """A report (`.json`, `.json.gz`), one message (`.eml`, or headers first), or an mbox."""
    return _read_file(str(path), path.name)


def _read_file(path: str, name: str) -> Iterator[Item]:
    """`read_file` of the file `path` (as str(Path) spells it), whose last component is `name`."""
    try:
        raw = _read_bounded(path)
    except _TooLarge as error:
        # An mbox holds many messages; it may be larger than one, and is read message by message.
        try:
            with open_regular(Path(path)) as stream:
                head = stream.read(5)
        except (OSError, ValueError) as again:
            yield Rejected(path, _reason(again))
            return
        if head.startswith(b"From "):
            yield from read_mbox(Path(path))
        else:
            yield Rejected(path, str(error))
        return
    except (OSError, ValueError) as error:
        yield Rejected(path, _reason(error))
        return
    suffix = _suffix(name)
    if raw.startswith(b"From "):
        yield from _mbox_items(mbox_messages(raw), path)
    elif suffix.lower() == ".gz" and not raw.startswith(GZIP_MAGIC):
        yield Rejected(path, "named .gz but not gzip data (it does not start with the gzip magic 1f 8b)")
    elif raw.startswith(GZIP_MAGIC) or raw.lstrip()[:1] in (b"{", b"[") or suffix == ".json":
        yield _report(raw, path)
    elif b":" in raw.split(b"\n", 1)[0]:
        yield from reports_in_message(raw, path)
    else:
        yield Rejected(path, "not a report (.json, .json.gz), a mail message, a Maildir or an mbox file")


def _suffix(name: str) -> str:
    """`PurePath(name).suffix`: from the last dot, unless the name starts or ends with it."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def reports_in_message(raw: bytes, origin: str) -> Iterator[Item]:
    """The reports in one mail message, or why there are none."""
    identifier = None
    try:
        message = parse_message(raw)
        identifier = message_id(message)
        attachments = report_attachments(message)
    except NotAReport as error:
        yield Rejected(origin, str(error), identifier or error.message_id)
        return
    # Hostile or broken MIME: parts nested thousands deep, header values in unknown charsets,
    # RFC 2231 parameter parts the stdlib cannot order (`name*; name*0=x`: a TypeError).
    except (RecursionError, LookupError, ValueError, TypeError) as error:
        reason = shorten(f"not a readable mail message: {type(error).__name__}: {error}", 300)
        yield Rejected(origin, reason, identifier)
        return
    for attachment in attachments:
        where = origin if len(attachments) == 1 else f"{origin} ({attachment.name})"
        found = _report(attachment.data, where)
        if isinstance(found, Rejected):
            found = Rejected(where, f"{attachment.name}: {found.reason}", identifier)
        yield found


def _report(data: bytes, origin: str) -> Item:
    try:
        return Found(parse_report(data), origin)
    except ReportError as error:
        return Rejected(origin, str(error))


class _TooLarge(ValueError):
    def __init__(self, size: int) -> None:
        super().__init__(_too_large(size))


def _reason(error: Exception) -> str:
    if isinstance(error, OSError):
        return f"cannot read it: {error.strerror or error}"
    return str(error)


def _too_large(size: int) -> str:
    limit = MAX_MESSAGE_BYTES // 2**20
    return f"{size} bytes is larger than any report or report mail ({limit} MiB); skipped"


# O_NONBLOCK: opening a FIFO (a file swapped for one after it was listed) returns at once
# instead of waiting for a writer; O_NOCTTY: a terminal device never becomes ours. O_BINARY:
# Windows' C library reads a descriptor in text mode otherwise, turning CR LF into LF and
# stopping at a Ctrl-Z, which would garble every gzip report (other systems have no such mode).
_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
)


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading, if it is a regular file. O_NONBLOCK: opening a FIFO (a file
    swapped for one after it was listed) returns at once instead of waiting for a writer."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"not a regular file ({_kind(mode)}); skipped")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_bounded(path: str | Path) -> bytes:
    """The file's bytes; _TooLarge past `MAX_MESSAGE_BYTES`, also for a file that grows while read.

    On the descriptor (`os.read`), not a file object: a buffered reader per file cost as much
    as reading a report."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"not a regular file ({_kind(info.st_mode)}); skipped")
        if info.st_size > MAX_MESSAGE_BYTES:
            raise _TooLarge(info.st_size)
        # As many bytes as the file holds, and one more to see it grew (reading MAX + 1 would
        # allocate 32 MiB for every file); past that, up to one byte more than the limit.
        chunks, read, wanted = [], 0, info.st_size + 1
        while read < wanted:
            chunk = os.read(fd, wanted - read)
            if not chunk:
                break
            chunks.append(chunk)
            read += len(chunk)
            if read > info.st_size:
                wanted = MAX_MESSAGE_BYTES + 1
    finally:
        os.close(fd)
    if read > MAX_MESSAGE_BYTES:
        raise _TooLarge(read)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
