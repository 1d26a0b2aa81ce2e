"""`python -m mtasts reports`: argument parsing, the sources to read, output and exit status.

Exit status: 0 every input was read and no session failed; 1 a session failed, an input
was rejected, a policies entry skipped, a report id came with different content, a path
held nothing to read, or (without `--stack`) domains past the first 1,000 were left
uncounted; 2 a usage error (no input, a bad date, a bad --imap URL, a missing password, a
bad stack file). With `--fail-on enforce` (the daily workflow), status 1 means only that
sessions failed under a policy in `mode: enforce` (mail refused), that a whole source (a
path, the mailbox) could not be read or held nothing, or that domains were left uncounted;
rejected messages are still listed. With `--stack`, only the stack's domain is summarised;
reports about others are listed as ignored and fail nothing."""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import secrets
import stat
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from mtasts.desired import desired_state
from mtasts.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from mtasts.policy import Mode
from mtasts.reports.html import html_page
from mtasts.reports.imap import (
    DEFAULT_DEADLINE,
    PASSWORD_VARIABLE,
    ImapLocation,
    ImapUrlError,
    check_password,
    parse_imap_url,
    read_imap,
)
from mtasts.reports.output import json_document, write_json, write_text
from mtasts.reports.sources import Item, Rejected, read_paths
from mtasts.reports.summary import Summary, summarise
from mtasts.reports.verdict import (
    DEFAULT_MIN_DAYS,
    DEFAULT_MIN_REPORTERS,
    StackAdvice,
    Thresholds,
    Verdict,
    enforce_verdict,
    enforced_failures,
    is_current,
    stack_advice,
)
from mtasts.scrub import scrub
from mtasts.stackfile import load_settings
from mtasts.trust import check_ca_file
from mtasts.visible import write_out


def add_reports_command(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "reports",
        help="summarise TLS reports (RFC 8460) and say whether enforce is safe",
        description=(
            "Read RFC 8460 aggregate reports from files (.json, .json.gz, mail messages), directories, "
            "Maildir and mbox folders and an IMAP mailbox (read-only), summarise them per policy domain "
            "and say whether mode enforce is safe. Exit status 0: everything read, no failed session; "
            "1: a failed session or a rejected input; 2: a usage error."
        ),
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="report files, mail files, directories, Maildir or mbox"
    )
    parser.add_argument(
        "--imap",
        action="append",
        default=[],
        metavar="URL",
        help=f"read a mailbox, e.g. imaps://user@host/INBOX; the password comes from ${PASSWORD_VARIABLE}",
    )
    parser.add_argument("--stack", help="compare with the mode of Pulumi.<stack>.yaml and say what to do")
    parser.add_argument("--since", metavar="DATE", help="only reports ending on or after DATE (YYYY-MM-DD)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--html", metavar="FILE", help="also write a self-contained page with charts to FILE")
    parser.add_argument(
        "--min-days", type=int, default=DEFAULT_MIN_DAYS, metavar="N",
        help=f"days the sts reports must span before enforce is safe (default {DEFAULT_MIN_DAYS})",
    )  # fmt: skip
    parser.add_argument(
        "--min-reporters", type=int, default=DEFAULT_MIN_REPORTERS, metavar="N",
        help=f"organizations that must have reported applying sts (default {DEFAULT_MIN_REPORTERS})",
    )  # fmt: skip
    parser.add_argument(
        "--fail-on", choices=("any", "enforce"), default="any",
        help="exit 1 on any failed session or rejected input (default), or only on failures under enforce",
    )  # fmt: skip
    parser.add_argument("--ca-file", metavar="PATH", help="trust these CA certificates for --imap")
    parser.add_argument(
        "--imap-timeout", type=float, default=DEFAULT_DEADLINE, metavar="SECONDS",
        help=f"give up on a mailbox that is not read after SECONDS in all (default {DEFAULT_DEADLINE:g})",
    )  # fmt: skip
    parser.set_defaults(run=run)
    return parser


def _since(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise UsageError(f"--since {raw!r} is not a date; expected YYYY-MM-DD, e.g. 2026-01-31") from None


def _check(args: argparse.Namespace) -> tuple[date | None, Thresholds, list[ImapLocation], str]:
    if not args.paths and not args.imap:
        raise UsageError(
            "no reports to read: name files, directories, Maildir or mbox folders, or --imap URL"
        )
    since = _since(args.since)
    for flag, value in (("--min-days", args.min_days), ("--min-reporters", args.min_reporters)):
        if not 1 <= value <= 3650:
            raise UsageError(f"{flag} {value} is not accepted; expected 1 to 3650")
    try:
        locations = [parse_imap_url(url) for url in args.imap]
    except ImapUrlError as error:
        raise UsageError(str(error)) from None
    password = os.environ.get(PASSWORD_VARIABLE, "")
    if locations and not password:
        raise UsageError(f"--imap needs the mailbox password in the environment variable {PASSWORD_VARIABLE}")
    if not 1 <= args.imap_timeout <= 86400:
        raise UsageError(f"--imap-timeout {args.imap_timeout:g} is not accepted; expected 1 to 86400 seconds")
    try:
        if locations:
            check_password(password)
    except ImapUrlError as error:
        raise UsageError(str(error)) from None
    check_ca_file(args.ca_file, used=bool(locations))  # the CA file is used for --imap alone
    if args.html is not None:
        # Said before any report is read: a mailbox may take minutes, and the page is written last.
        if Path(args.html).is_dir():
            raise UsageError(
                f"--html {args.html!r} is a folder: name the file to write the page to, "
                "e.g. --html tls-reports.html"
            )
        if not Path(args.html).resolve().parent.is_dir():
            raise UsageError(f"--html {args.html!r}: its folder does not exist")
        _refuse_page_among_inputs(args.html, args.paths)
    return since, Thresholds(args.min_days, args.min_reporters), locations, password


def _refuse_page_among_inputs(html: str, paths: list[str]) -> None:
    """The page may not replace an input (a report mail, an mbox) nor land in a folder that is
    read: the next run would read it as a report and reject it."""
    target = Path(html).resolve()
    for path in paths:
        source = Path(path).resolve()
        if target == source:
            raise UsageError(
                f"--html {html!r} is {path!r}, which is read for reports: the page would replace it; "
                "write the page elsewhere, e.g. --html tls-reports.html"
            )
        if source in target.parents:
            raise UsageError(
                f"--html {html!r} is inside {path!r}, which is read for reports: the next run would "
                "read the page as a report and reject it; write the page elsewhere, outside that folder"
            )


def _write_whole(path: str, text: str) -> None:
    """Write `text` to `path` whole or not at all.

    A regular file (or a new one) is replaced only once the new text is on disk, so a full
    disk or an interrupted run leaves the previous page, with its permissions; through a
    symlink, the file it names is replaced. A pipe or device (`/dev/stdout`) is written as is,
    and so is a file in a folder where no other file may be made (only the file is writable)."""
    data = text.encode("utf-8")
    try:
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        _write_in_place(path, data)
        return
    target = os.path.realpath(path)
    folder, name = os.path.split(target)
    temporary = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
    try:
        # The umask applies; O_BINARY: Windows' C library would write LF as CR LF otherwise.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except PermissionError:
        _write_in_place(path, data)
        return
    try:
        try:
            if mode is not None:
                os.chmod(temporary, stat.S_IMODE(mode))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _write_in_place(path: str, data: bytes) -> None:
    with open(path, "wb") as stream:
        stream.write(data)


def _items(
    args: argparse.Namespace, since: date | None, locations: list[ImapLocation], password: str
) -> Iterator[Item]:
    sources = [_path_items(path) for path in args.paths]
    sources += [
        read_imap(location, password, since=since, ca_file=args.ca_file, deadline=args.imap_timeout)
        for location in locations
    ]
    return itertools.chain.from_iterable(sources)


def _path_items(path: str) -> Iterator[Item]:
    """A path's items; a path that holds nothing to read says so, as a source that failed."""
    found = False
    for item in read_paths([path]):
        found = True
        yield item
    if not found:
        yield Rejected(
            path,
            "nothing found here: no report (.json, .json.gz), mail message, Maildir or mbox file; "
            "name the folder that holds the report mail",
            whole_source=True,
        )


def exit_status(summary: Summary, fail_on: str, advice: StackAdvice | None) -> int:
    # Domains past MAX_DOMAINS (without --stack) were not counted: a flood of made-up ones
    # read first would otherwise hide the real domain's failures behind status 0.
    crowded = summary.only is None and bool(summary.ignored)
    if fail_on == "enforce":
        refused = any(enforced_failures(domain) for domain in summary.domains.values())
        stack_domain = summary.domains.get(advice.domain) if advice is not None else None
        if advice is not None and advice.mode is Mode.ENFORCE and stack_domain is not None:
            refused = refused or stack_domain.sts_failed > 0
        unreadable = any(item.whole_source for item in summary.rejected)
        return EXIT_FAILED if refused or unreadable or crowded else EXIT_OK
    troubled = summary.rejected or summary.skipped or summary.collisions or crowded
    return EXIT_FAILED if summary.failed or troubled else EXIT_OK


def _scrubbed(value: Any, secret: str | None) -> Any:
    if not secret:
        return value
    if isinstance(value, str):
        return scrub(value, secret, redacted="[password]")
    if isinstance(value, dict):
        return {_scrubbed(key, secret): _scrubbed(item, secret) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrubbed(item, secret) for item in value]
    return value


def run(args: argparse.Namespace) -> int:
    try:
        since, thresholds, locations, password = _check(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    state = None
    if args.stack:  # StackFileError and ConfigError reach main(), which exits with status 2
        state = desired_state(load_settings(args.stack, Path(getattr(args, "project_dir", "."))))

    # With a stack, only its domain counts: anyone can send a report about another one.
    only = state.settings.domain.lower().rstrip(".") if state is not None else None
    summary = summarise(_items(args, since, locations, password), since, only)
    verdicts: dict[str, Verdict] = {
        name: enforce_verdict(domain, thresholds) for name, domain in summary.domains.items()
    }
    advice, served, current = None, None, {}
    if state is not None:
        name = state.settings.domain
        from mtasts.verify.mx_check import live_mx_today_sync  # the network side, loaded only for --stack

        mx_today = None if state.settings.retire else live_mx_today_sync(name)
        advice = stack_advice(
            args.stack, state.settings, summary.domains.get(name), verdicts.get(name), mx_today
        )
        served = state.policy
        if name in summary.domains:
            current = {
                name: {
                    seen.describe(): is_current(seen, served)
                    for seen in summary.domains[name].policies.values()
                }
            }

    # A server (or a report it serves) may echo the password: it is scrubbed from every output.
    secret = password if locations else None
    output = io.StringIO()
    if args.json:  # scrubbed string by string, so the document stays valid JSON
        write_json(output, _scrubbed(json_document(summary, verdicts, advice, served), secret))
        secret = None
    else:
        write_text(output, summary, verdicts, advice, served)
    write_out(scrub(output.getvalue(), secret, redacted="[password]"))
    if args.html:
        try:
            page = html_page(summary, verdicts, current)
            page = scrub(page, password if locations else None, redacted="[password]")
            _write_whole(args.html, page)
        except OSError as error:
            print(f"error: cannot write --html {args.html}: {error.strerror or error}", file=sys.stderr)
            return EXIT_USAGE
    return exit_status(summary, args.fail_on, advice)
