"""Where reports are read from on disk: report files, directories, Maildir and mbox folders.

Every reader is a generator of `Found` (a report and where it came from) or `Rejected`
(what could not be read and why), one input at a time, so memory does not grow with the
number of reports and one bad input never stops the rest. Nothing here writes: Maildir
messages are read in place (not moved from `new/` to `cur/`, no flags added) and mbox files
are opened read-only. The IMAP reader (`imap`) yields the same items.
"""

from __future__ import annotations

import mailbox
import os
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
        if path.is_dir():
            yield from read_maildir(path) if is_maildir(path) else _read_directory(path)
        elif path.is_file():
            yield from read_file(path)
        else:
            yield Rejected(str(path), "no such file or directory", whole_source=True)
    except OSError as error:
        yield Rejected(str(path), f"cannot read it: {error.strerror or error}", whole_source=True)


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _read_directory(directory: Path) -> Iterator[Item]:
    # scandir gives each entry's type with its name, so the walk itself stats nothing; names
    # sort as strings (the order sorting the paths gave, at a fraction of the cost).
    with os.scandir(directory) as scan:
        entries = sorted((entry.name, entry.is_dir(), entry.is_file()) for entry in scan)
    for name, is_dir, is_file in entries:
        entry = directory / name
        if is_dir:
            yield from read_maildir(entry) if is_maildir(entry) else _read_directory(entry)
        elif is_file and not name.startswith("."):
            yield from read_file(entry)


def read_maildir(path: Path) -> Iterator[Item]:
    """Every message in `new/` and `cur/`, read in place (mailbox.Maildir would parse each
    one with the slow default email policy; the files are all that is needed)."""
    for sub in ("new", "cur"):
        with os.scandir(path / sub) as entries:
            names = sorted(entry.name for entry in entries if entry.is_file() and entry.name[0] != ".")
        for name in names:
            message_path = path / sub / name
            try:
                raw = _read_bounded(message_path)
            except (OSError, ValueError) as error:
                yield Rejected(str(message_path), str(error))
                continue
            yield from reports_in_message(raw, str(message_path))


def read_mbox(path: Path) -> Iterator[Item]:
    box = mailbox.mbox(path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            origin = f"{path}#{number}"
            with box.get_file(key) as message:  # reads no more of a huge message than the limit
                raw = message.read(MAX_MESSAGE_BYTES + 1)
            if len(raw) > MAX_MESSAGE_BYTES:
                yield Rejected(
                    origin, f"larger than any report mail ({MAX_MESSAGE_BYTES // 2**20} MiB); skipped"
                )
                continue
            yield from reports_in_message(raw, origin)
    finally:
        box.close()


def read_file(path: Path) -> Iterator[Item]:
    """A report (`.json`, `.json.gz`), one message (`.eml`, or headers first), or an mbox."""
    # One open per file: the first bytes say what it is, and the rest is read from the same
    # stream (a folder of report files is mostly this function).
    head = None
    try:
        with open(path, "rb") as stream:
            head = stream.read(5)
            raw = b"" if head.startswith(b"From ") else head + _read_rest_bounded(stream)
    except (OSError, ValueError) as error:
        if head is None:  # could not open or read it at all
            yield Rejected(str(path), f"cannot read it: {getattr(error, 'strerror', None) or error}")
        else:
            yield Rejected(str(path), str(error))
        return
    if head.startswith(b"From "):
        yield from read_mbox(path)
        return
    if head.startswith(GZIP_MAGIC) or raw.lstrip()[:1] in (b"{", b"[") or path.suffix == ".json":
        yield _report(raw, str(path))
    elif b":" in raw.split(b"\n", 1)[0]:
        yield from reports_in_message(raw, str(path))
    else:
        yield Rejected(str(path), "not a report (.json, .json.gz), a mail message, a Maildir or an mbox file")


def reports_in_message(raw: bytes, origin: str) -> Iterator[Item]:
    """The reports in one mail message, or why there are none."""
    identifier = None
    try:
        message = parse_message(raw)
        identifier = message_id(message)
        attachments = report_attachments(message)
    except NotAReport as error:
        yield Rejected(origin, str(error), identifier)
        return
    # Hostile or broken MIME: parts nested thousands deep, header values in unknown charsets.
    except (RecursionError, LookupError, ValueError) as error:
        yield Rejected(origin, f"not a readable mail message: {type(error).__name__}: {error}", identifier)
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


def _read_bounded(path: Path) -> bytes:
    with open(path, "rb") as stream:
        return _read_rest_bounded(stream)


def _read_rest_bounded(stream: BinaryIO) -> bytes:
    size = os.fstat(stream.fileno()).st_size  # of the open file: no second look-up by name
    if size > MAX_MESSAGE_BYTES:
        raise ValueError(
            f"{size} bytes is larger than any report or report mail "
            f"({MAX_MESSAGE_BYTES // 2**20} MiB); skipped"
        )
    return stream.read()
