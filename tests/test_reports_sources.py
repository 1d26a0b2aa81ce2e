"""Reading reports from files, directories, Maildir and mbox: every shape counted once, nothing written."""

from __future__ import annotations

import base64
import json
import mailbox
import os
import shutil
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtasts.reports import sources
from mtasts.reports.sources import Found, Rejected, read_paths
from mtasts.reports.summary import summarise
from tests.twin.reportmail import days_ago, gz, make_report, recent_samples, report_mail


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/data/reports dated as if collected today: read_paths reads by the clock, and the
    parser refuses reports years old."""
    return recent_samples(tmp_path_factory.mktemp("samples"))


def mail(samples: Path) -> list[Path]:
    return sorted((samples / "mail").glob("*.eml"))


def good(samples: Path) -> list[Path]:
    return [path for path in mail(samples) if not path.name.startswith(("broken-", "not-"))]


def make_maildir(root: Path, messages: list[bytes]) -> Path:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    for number, raw in enumerate(messages):
        (root / ("new" if number % 2 else "cur") / f"{number}.M1P1.host:2,").write_bytes(raw)
    return root


def snapshot(root: Path) -> dict[str, tuple[int, float]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime) for p in sorted(root.rglob("*"))}


def test_each_sender_style_in_the_samples_is_read(samples: Path) -> None:
    items = list(read_paths(map(str, good(samples))))
    assert all(isinstance(item, Found) for item in items), items
    organizations = {item.report.organization for item in items if isinstance(item, Found)}
    assert organizations == {"Google Inc.", "Microsoft Corporation", "Example Networks", "Example Mail Co"}


def test_each_broken_sample_is_rejected_with_its_own_reason_and_message_id(samples: Path) -> None:
    rejected = {
        Path(item.origin).name: item
        for item in read_paths(map(str, mail(samples)))
        if isinstance(item, Rejected)
    }
    assert set(rejected) == {
        "broken-invalid-json.eml",
        "broken-missing-fields.eml",
        "broken-truncated-gzip.eml",
        "not-a-report.eml",
    }
    assert "not valid JSON" in rejected["broken-invalid-json.eml"].reason
    assert "'report-id' is missing" in rejected["broken-missing-fields.eml"].reason
    assert "truncated" in rejected["broken-truncated-gzip.eml"].reason
    assert "not a TLS report" in rejected["not-a-report.eml"].reason
    assert rejected["not-a-report.eml"].message_id == "<quota-warning-1@mail.example.com>"


def test_a_directory_is_read_recursively_and_report_files_count_like_mail(samples: Path) -> None:
    summary = summarise(read_paths([str(samples)]))
    assert set(summary.domains) == {"example.com", "example.org"}
    assert summary.domains["example.com"].reports == 5  # four mails and one .json.gz file
    assert len(summary.rejected) == 4  # the broken inputs did not stop the rest


def test_a_maildir_is_read_in_place_and_left_unchanged(tmp_path: Path, samples: Path) -> None:
    maildir = make_maildir(tmp_path / "Maildir", [path.read_bytes() for path in mail(samples)])
    before = snapshot(maildir)
    summary = summarise(read_paths([str(maildir)]))
    assert summary.reports == 4 and len(summary.rejected) == 4
    assert snapshot(maildir) == before


@pytest.mark.parametrize("action", ["seen", "flagged", "expunged"])
def test_a_live_maildir_whose_mail_program_moves_a_message_while_it_is_read_loses_nothing(
    tmp_path: Path, samples: Path, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    # Read while its mail program works, a message moved since the listing (new/ to cur/ once
    # seen, renamed in cur/ when its flags change) was "cannot read it: No such file or
    # directory", a rejected input (exit 1), and a renamed one was not counted at all.
    messages = [path.read_bytes() for path in good(samples)[:4]]
    maildir = make_maildir(tmp_path / "Maildir", messages)
    moved = {
        "seen": ("new/1.M1P1.host:2,", "cur/1.M1P1.host:2,S"),
        "flagged": ("cur/2.M1P1.host:2,", "cur/2.M1P1.host:2,RS"),
        "expunged": ("cur/2.M1P1.host:2,", None),
    }[action]
    read = sources._read_bounded
    done = []

    def mail_program_acts_first(path: str | Path) -> bytes:
        if not done and str(path) == str(maildir / moved[0]):
            done.append(path)
            if moved[1] is None:
                (maildir / moved[0]).unlink()
            else:
                (maildir / moved[0]).rename(maildir / moved[1])
        return read(path)

    monkeypatch.setattr(sources, "_read_bounded", mail_program_acts_first)
    items = list(read_paths([str(maildir)]))
    assert done, "the move was made"
    assert not [item for item in items if isinstance(item, Rejected)], items
    found = sorted(Path(item.origin).name for item in items if isinstance(item, Found))
    expected = {"seen": 4, "flagged": 4, "expunged": 3}[action]
    assert len(found) == expected, found
    if action == "flagged":
        assert "2.M1P1.host:2,RS" in found


def test_a_maildirs_maildir_plus_plus_folders_are_read_too(tmp_path: Path, samples: Path) -> None:
    """Dovecot and Courier keep folders inside the Maildir as `.Name/` (Maildir++): reports a
    Sieve rule files into `.TLS-Reports` are read when the Maildir itself is given, once each,
    and the folder's own folders too; a hidden directory that is not a Maildir is left alone."""
    first, second, third = (path.read_bytes() for path in good(samples)[:3])
    root = make_maildir(tmp_path / "Maildir", [first])
    make_maildir(root / ".TLS-Reports", [second])
    make_maildir(root / ".TLS-Reports.2026", [third])
    (root / ".TLS-Reports" / ".again").symlink_to("..")  # a loop back to the root
    (root / ".Loop").symlink_to(".")
    (root / ".notes").mkdir()
    shutil.copy(good(samples)[3], root / ".notes" / "not-read.eml")
    (root / "tmp" / "1.M2P2.host").write_bytes(first + b"being delivered")
    items = list(read_paths([str(root)]))
    found = sorted(str(Path(item.origin).relative_to(root)) for item in items if isinstance(item, Found))
    assert found == [
        ".TLS-Reports.2026/cur/0.M1P1.host:2,",
        ".TLS-Reports/cur/0.M1P1.host:2,",
        "cur/0.M1P1.host:2,",
    ]
    assert not [item for item in items if isinstance(item, Rejected)]


def test_an_mbox_is_read_message_by_message(tmp_path: Path, samples: Path) -> None:
    box = mailbox.mbox(tmp_path / "reports.mbox")
    for path in mail(samples):
        box.add(path.read_bytes())
    box.close()
    summary = summarise(read_paths([str(tmp_path / "reports.mbox")]))
    assert summary.reports == 4
    assert sorted(item.origin.rsplit("#", 1)[1] for item in summary.rejected) == ["1", "2", "3", "8"]


def test_the_same_report_in_two_sources_and_twice_in_one_counts_once(tmp_path: Path, samples: Path) -> None:
    google = (samples / "mail" / "google.eml").read_bytes()
    maildir = make_maildir(tmp_path / "Maildir", [google, google])
    shutil.copy(samples / "mail" / "google.eml", tmp_path / "copy.eml")
    summary = summarise(read_paths([str(maildir), str(tmp_path / "copy.eml")]))
    assert summary.reports == 1 and summary.duplicates == 2
    assert summary.domains["example.com"].successful == 1184


def test_a_missing_path_is_rejected_as_a_whole_source_and_the_rest_is_read(
    tmp_path: Path, samples: Path
) -> None:
    items = list(read_paths([str(tmp_path / "nowhere"), str(good(samples)[0])]))
    assert isinstance(items[0], Rejected) and items[0].whole_source and "no such file" in items[0].reason
    assert isinstance(items[1], Found)


def test_a_file_that_is_neither_report_nor_mail_is_rejected_with_what_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("just some notes\n")
    [item] = read_paths([str(tmp_path / "notes.txt")])
    assert isinstance(item, Rejected) and "not a report (.json, .json.gz)" in item.reason


def test_an_oversized_file_is_refused_without_being_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json.gz"
    with huge.open("wb") as stream:
        stream.truncate(33 * 1024 * 1024)  # sparse: no disk or memory used
    with huge.open("r+b") as stream:
        stream.write(b"\x1f\x8b")
    [item] = read_paths([str(huge)])
    assert isinstance(item, Rejected) and "larger than any report" in item.reason


def test_since_leaves_out_reports_that_ended_before_it(tmp_path: Path) -> None:
    for day in (1, 2, 3):
        (tmp_path / f"r{day}.json.gz").write_bytes(gz(make_report(days_ago(10 - day))))
    summary = summarise(read_paths([str(tmp_path)]), since=days_ago(8))
    assert summary.left_out == 1 and summary.domains["example.com"].first == days_ago(8)


def test_a_report_mail_with_two_report_parts_yields_both(tmp_path: Path) -> None:
    first = report_mail(make_report(days_ago(2)))
    second = make_report(days_ago(1))
    boundary = first.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    attachment = (
        b"--" + boundary + b'\r\nContent-Type: application/tlsrpt+gzip; name="two.json.gz"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(gz(second)) + b"\r\n"
    )
    both = first.replace(b"--" + boundary + b"--", attachment + b"--" + boundary + b"--")
    (tmp_path / "both.eml").write_bytes(both)
    items = list(read_paths([str(tmp_path / "both.eml")]))
    assert [type(item) for item in items] == [Found, Found]
    assert items[1].origin.endswith("(two.json.gz)")


def test_mime_nested_thousands_deep_is_rejected_and_the_next_message_still_read(
    tmp_path: Path, samples: Path
) -> None:
    nesting = b"".join(
        f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
        for level in range(3000)
    )
    (tmp_path / "a-deep.eml").write_bytes(
        b"Subject: deep\r\n" + nesting + b"Content-Type: text/plain\r\n\r\nx\r\n"
    )
    shutil.copy(good(samples)[0], tmp_path / "b-good.eml")
    first, second = read_paths([str(tmp_path)])
    # 3,000 boundary lines: refused by MAX_BOUNDARY_LINES before the parser could recurse.
    assert isinstance(first, Rejected) and "3,000 lines that may open MIME parts" in first.reason
    assert isinstance(second, Found)


def test_folders_nested_past_the_bound_are_named_and_never_a_traceback(tmp_path: Path, samples: Path) -> None:
    # 1,500 levels ended the walk (recursive) in RecursionError; the bound stops it far sooner,
    # so 200 show it (and stay within what shutil.rmtree, which recurses too, can remove).
    shutil.copy(good(samples)[0], tmp_path / "top.eml")
    deep = tmp_path
    for level in range(1, 201):
        deep = deep / "d"
        deep.mkdir()
        if level == sources.MAX_FOLDER_DEPTH:
            shutil.copy(good(samples)[1], deep / "deepest-read.eml")
    shutil.copy(good(samples)[2], deep / "too-deep.eml")
    rejected, *found = read_paths([str(tmp_path)])  # "d" is walked before "top.eml"
    bottom = str(tmp_path) + "/d" * sources.MAX_FOLDER_DEPTH
    assert [item.origin for item in found] == [bottom + "/deepest-read.eml", str(tmp_path / "top.eml")]
    assert all(isinstance(item, Found) for item in found)
    assert isinstance(rejected, Rejected) and rejected.whole_source
    assert rejected.origin == str(tmp_path) + "/d" * (sources.MAX_FOLDER_DEPTH + 1)
    assert f"folders nested more than {sources.MAX_FOLDER_DEPTH} deep" in rejected.reason


def test_json_nested_too_deeply_is_rejected_as_no_report(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    [item] = read_paths([str(tmp_path / "deep.json")])
    assert isinstance(item, Rejected) and "nests JSON arrays or objects too deeply" in item.reason


def test_an_oversized_message_in_an_mbox_is_skipped_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    monkeypatch.setattr(sources, "MAX_MESSAGE_BYTES", 4_000)
    box = mailbox.mbox(tmp_path / "reports.mbox")
    box.add(good(samples)[0].read_bytes())
    box.add(b"Subject: huge\r\n\r\n" + b"x" * 10_000)
    box.add(good(samples)[1].read_bytes())
    box.close()
    items = list(read_paths([str(tmp_path / "reports.mbox")]))
    assert [type(item) for item in items] == [Found, Rejected, Found]
    assert "larger than any report mail" in items[1].reason  # type: ignore[union-attr]


# --- Odd paths: loops, unreadable folders, FIFOs and devices -------------------------------


def run_reader_script(script: str, *, timeout: float = 30) -> list[list[str]]:
    """`script` (which prints one JSON line per item) in a child process, bounded in time."""
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


LIST_ITEMS = """
import json, sys
from mtasts.reports.sources import Found, read_paths
for item in read_paths(sys.argv[1:]):
    print(json.dumps([type(item).__name__, item.origin, getattr(item, "reason", ""), item.whole_source
                      if hasattr(item, "whole_source") else False]))
"""


def test_symbolic_links_that_loop_are_followed_once_and_never_forever(tmp_path: Path, samples: Path) -> None:
    root = tmp_path / "reports"
    (root / "sub").mkdir(parents=True)
    shutil.copy(good(samples)[0], root / "sub" / "a.eml")
    for name in ("self-1", "self-2", "self-3"):
        (root / name).symlink_to(".")
        (root / "sub" / name).symlink_to("..")
    script = LIST_ITEMS.replace("read_paths(sys.argv[1:])", f"read_paths([{str(root)!r}])")
    items = run_reader_script(script, timeout=30)
    assert [(kind, Path(origin).name) for kind, origin, *_ in items] == [("Found", "a.eml")]


def items_as_nobody(path: Path) -> list[tuple[str, str, str, bool]]:
    """read_paths([path]) in a forked child that runs as `nobody` when this is root (root reads
    any folder whatever its mode), as (kind, origin, reason, whole_source) tuples."""
    import json
    import os

    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            rows = [
                [type(item).__name__, item.origin, getattr(item, "reason", ""), item.whole_source]
                if isinstance(item, Rejected)
                else ["Found", item.origin, "", False]
                for item in read_paths([str(path)])
            ]
            os.write(write_end, json.dumps(rows).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as stream:
        data = stream.read()
    os.waitpid(child, 0)
    return [tuple(row) for row in json.loads(data)]


def test_an_unreadable_folder_is_named_and_everything_readable_around_it_is_read(samples: Path) -> None:
    import os
    import tempfile

    # A folder of its own that `nobody` can reach: pytest's tmp_path is private to its user.
    with tempfile.TemporaryDirectory(prefix="mtasts-walk-") as top:
        root = Path(top)
        root.chmod(0o755)
        for name in ("a", "b-locked", "c"):
            (root / name).mkdir()
        shutil.copy(good(samples)[0], root / "a" / "1.eml")
        shutil.copy(good(samples)[1], root / "b-locked" / "2.eml")
        shutil.copy(good(samples)[2], root / "c" / "3.eml")
        (root / "c" / "unreadable.eml").write_bytes(good(samples)[3].read_bytes())
        for path in root.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        (root / "b-locked").chmod(0o000)
        (root / "c" / "unreadable.eml").chmod(0o000)
        if os.geteuid() != 0 and os.access(root / "b-locked", os.R_OK):
            pytest.skip("this user reads folders whatever their mode")
        items = items_as_nobody(root)
        (root / "b-locked").chmod(0o755)
    found = [Path(origin).name for kind, origin, *_ in items if kind == "Found"]
    rejected = {Path(row[1]).name: (row[2], row[3]) for row in items if row[0] == "Rejected"}
    assert found == ["1.eml", "3.eml"]
    assert rejected == {
        "b-locked": ("cannot read it: Permission denied", True),
        "unreadable.eml": ("cannot read it: Permission denied", False),
    }


def test_a_locked_maildir_plus_plus_folder_is_named_and_the_others_are_read(samples: Path) -> None:
    import os
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mtasts-maildir-") as top:
        root = make_maildir(Path(top) / "Maildir", [good(samples)[0].read_bytes()])
        make_maildir(root / ".Locked", [good(samples)[1].read_bytes()])
        make_maildir(root / ".TLS-Reports", [good(samples)[2].read_bytes()])
        for path in [Path(top), *Path(top).rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (root / ".Locked" / "cur").chmod(0o000)
        if os.geteuid() != 0 and os.access(root / ".Locked" / "cur", os.R_OK):
            pytest.skip("this user reads folders whatever their mode")
        items = items_as_nobody(root)
        (root / ".Locked" / "cur").chmod(0o755)
    found = [str(Path(origin).relative_to(root)) for kind, origin, *_ in items if kind == "Found"]
    rejected = [
        (str(Path(row[1]).relative_to(root)), row[2], row[3]) for row in items if row[0] == "Rejected"
    ]
    assert found == ["cur/0.M1P1.host:2,", ".TLS-Reports/cur/0.M1P1.host:2,"]
    assert rejected == [(".Locked/cur", "cannot read it: Permission denied", True)]


def test_a_fifo_given_as_a_path_is_not_a_regular_file_and_is_never_opened_for_a_wait(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "reports.fifo"
    os.mkfifo(fifo)
    [item] = read_paths([str(fifo)])  # opening a FIFO for reading would wait for a writer
    assert isinstance(item, Rejected) and item.whole_source
    assert item.reason == "not a regular file (a FIFO); skipped"


def test_a_device_given_as_a_path_is_not_a_regular_file() -> None:
    [item] = read_paths(["/dev/null"])
    assert isinstance(item, Rejected) and item.reason == "not a regular file (a character device); skipped"


def test_a_fifo_inside_a_folder_is_named_and_the_rest_is_read(tmp_path: Path, samples: Path) -> None:
    import os

    os.mkfifo(tmp_path / "a.fifo")
    shutil.copy(good(samples)[0], tmp_path / "b.eml")
    first, second = read_paths([str(tmp_path)])
    assert isinstance(first, Rejected) and first.origin.endswith("a.fifo") and "a FIFO" in first.reason
    assert isinstance(second, Found)


def test_a_file_swapped_for_a_fifo_after_it_was_listed_is_refused_without_waiting(tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "swapped.eml"
    os.mkfifo(fifo)
    items: list[object] = []
    # read_file is what the walk calls after its check; a plain open() would wait for a writer.
    reader = threading.Thread(target=lambda: items.extend(sources.read_file(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():
        with open(fifo, "wb"):  # a writer releases the blocked reader
            pass
        pytest.fail("reading the FIFO waited for a writer")
    [item] = items
    assert isinstance(item, Rejected) and "not a regular file (a FIFO)" in item.reason


def test_a_link_to_nothing_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "dangling.eml").symlink_to(tmp_path / "gone.eml")
    [item] = read_paths([str(tmp_path / "dangling.eml")])
    assert isinstance(item, Rejected) and item.reason == "a symbolic link to nothing"


def test_a_folder_is_walked_by_what_its_listing_says_each_entry_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The listing's d_type tells plain files and folders apart without a stat each (most of a
    # run's system calls on a folder of small reports); links and odd entries are still judged.
    inner = tmp_path / "inner"
    inner.mkdir()
    for number in range(20):
        (tmp_path / f"r{number:02d}.json").write_bytes(json.dumps(make_report(days_ago(1))).encode())
    (inner / "deep.json").write_bytes(json.dumps(make_report(days_ago(2))).encode())
    (tmp_path / "link.json").symlink_to(tmp_path / "r00.json")
    (tmp_path / "folder-link").symlink_to(inner)
    (tmp_path / "dangling.json").symlink_to(tmp_path / "gone.json")
    os.mkfifo(tmp_path / "pipe")
    stats: list[str] = []
    real_stat = os.stat

    def counted_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        stats.append(str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counted_stat)
    items = list(read_paths([str(tmp_path)]))
    found = sorted(Path(i.origin).relative_to(tmp_path).as_posix() for i in items if isinstance(i, Found))
    # `inner` is read once, through the link listed first
    assert found == ["folder-link/deep.json", "link.json"] + [f"r{n:02d}.json" for n in range(20)]
    rejected = {Path(item.origin).name: item.reason for item in items if isinstance(item, Rejected)}
    assert rejected == {
        "dangling.json": "cannot read it: No such file or directory",
        "pipe": "not a regular file (a FIFO); skipped",
    }
    # One stat per folder walked (its identity, against loops), one for each entry the
    # listing cannot settle; none for the 21 plain report files.
    assert not [path for path in stats if Path(path).name.startswith("r") or path.endswith("deep.json")]


# --- Junk mail: what is kept of it is bounded ----------------------------------------------


def test_junk_mail_with_megabyte_headers_keeps_a_few_hundred_characters(tmp_path: Path) -> None:
    huge = "x" * 2**20
    (tmp_path / "junk.eml").write_text(
        f"Message-ID: <{huge}@spam.example>\r\nSubject: {huge}\r\n"
        f'Content-Type: application/tlsrpt+gzip; name="{huge}.json.gz"\r\n\r\nnot gzip\r\n'
    )
    [item] = read_paths([str(tmp_path / "junk.eml")])
    assert isinstance(item, Rejected) and item.message_id is not None
    assert len(item.message_id) < 300 and len(item.origin) < 400 and len(item.reason) < 600
    assert item.message_id.endswith(f"…(+{len(huge) + 15 - 200:,} characters)")


def test_a_message_with_hundreds_of_report_parts_is_rejected_whole() -> None:
    raw = report_mail(make_report(days_ago(1)))
    boundary = raw.split(b'boundary="', 1)[1].split(b'"', 1)[0]
    part = b"--" + boundary + b'\r\nContent-Type: application/tlsrpt+json; name="r.json"\r\n\r\n{}\r\n'
    many = raw.replace(b"--" + boundary + b"--", part * 500 + b"--" + boundary + b"--")
    items = list(sources.reports_in_message(many, "many.eml"))
    [item] = items
    assert isinstance(item, Rejected) and "501 report parts" in item.reason and "at most 20" in item.reason


def test_hidden_folders_are_walked_and_hidden_files_are_not(tmp_path: Path, samples: Path) -> None:
    (tmp_path / ".Reports").mkdir()  # a Maildir++ folder's name, or an export's
    shutil.copy(good(samples)[0], tmp_path / ".Reports" / "a.eml")
    shutil.copy(good(samples)[1], tmp_path / ".half-written.eml")
    [item] = read_paths([str(tmp_path)])
    assert isinstance(item, Found) and item.origin.endswith(".Reports/a.eml")


mbox_lines = st.sampled_from(
    [
        b"From reports@example.com Thu Jan  1 00:00:00 2026\n",
        b"From \n",
        b"From x",
        b">From quoted\n",
        b"From:header\n",
        b"\n",
        b"\r\n",
        b"\n\n",
        b"body line\n",
        b"no newline at the end",
        b" From indented\n",
    ]
)


@settings(max_examples=500, deadline=None)
@given(lines=st.lists(mbox_lines, max_size=12), limit=st.sampled_from([3, 40, 10_000]))
def test_an_mbox_read_whole_is_cut_into_the_messages_mailbox_reads(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], limit: int
) -> None:
    data = b"".join(lines)
    path = tmp_path_factory.mktemp("mbox") / "box"
    path.write_bytes(data)
    box = mailbox.mbox(path, create=False)
    try:
        expected = []
        for key in box.iterkeys():
            with box.get_file(key) as message:
                expected.append(message.read(limit))
    finally:
        box.close()
    assert list(sources.mbox_messages(data, limit)) == expected


def test_a_part_whose_rfc_2231_name_parts_the_stdlib_cannot_order_is_rejected_not_a_traceback() -> None:
    hostile = (
        b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: application/gzip; name*; name*0=x\r\n\r\nabc\r\n--b--\r\n"
    )
    [item] = sources.reports_in_message(hostile, "hostile.eml")
    assert isinstance(item, Rejected) and "not a readable mail message: TypeError" in item.reason


def test_a_text_part_whose_name_the_stdlib_cannot_read_does_not_hide_the_report_beside_it() -> None:
    # Only a report part's file name matters (RFC 8460 §5.3); a broken one on the text part
    # used to reject the whole mail.
    report = base64.b64encode(gz(make_report(days_ago(1)))).decode()
    mail = (
        'From: a@example.com\r\nContent-Type: multipart/report; report-type=tlsrpt; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; name*; name*0=x\r\n\r\nThis is a TLS report.\r\n"
        "--b\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{report}\r\n--b--\r\n"
    ).encode()
    [item] = sources.reports_in_message(mail, "report.eml")
    assert isinstance(item, Found), item


def test_a_report_part_of_a_report_media_type_is_read_even_when_its_file_name_is_broken() -> None:
    # The media type says it is a report (RFC 8460 §5.3); the name only labels it, so a name the
    # stdlib cannot read is replaced by the media type instead of rejecting the report.
    report = base64.b64encode(gz(make_report(days_ago(1)))).decode()
    mail = (
        'From: a@example.com\r\nContent-Type: multipart/report; report-type=tlsrpt; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nThis is a TLS report.\r\n"
        "--b\r\nContent-Type: application/tlsrpt+gzip; name*; name*0=x\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{report}\r\n--b--\r\n"
    ).encode()
    [item] = sources.reports_in_message(mail, "report.eml")
    assert isinstance(item, Found), item


def _peak_of_reading(raw: bytes) -> tuple[list[sources.Item], int]:
    tracemalloc.start()
    try:
        items = list(sources.reports_in_message(raw, "junk.eml"))
        return items, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("shape", "body", "said"),
    [
        # A million tiny parts (one level: the split done here), or after a message/rfc822
        # part (the stdlib's parser), or a million header lines: each a few bytes of the
        # message, each an object of hundreds of bytes once parsed.
        ("parts", b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"--b\r\nx\r\n" * 2**16, "MIME"),
        (
            "nested parts",
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
            + b"--b\r\nx\r\n" * 2**16,
            "MIME",
        ),
        ("header lines", b"a:\r\n" * 2**18 + b"\r\nx\r\n", "lines"),
    ],
)
def test_a_message_of_countless_tiny_parts_or_lines_is_refused_in_bounded_memory(
    shape: str, body: bytes, said: str
) -> None:
    # Under 1 MiB, far under MAX_MESSAGE_BYTES: read as it was, 32 MiB of it took gigabytes and a minute.
    raw = b"Message-ID: <junk@spam.example>\r\n" + body + b"--b--\r\n"
    items, peak = _peak_of_reading(raw)
    assert peak < 8 * len(raw), f"{shape}: {peak:,} bytes to read a message of {len(raw):,}"
    [item] = items
    assert isinstance(item, Rejected) and item.message_id == "<junk@spam.example>", shape
    assert "not a TLS report mail" in item.reason and said in item.reason and "RFC 8460 §5.3" in item.reason


def test_the_largest_report_a_message_may_carry_is_still_read_within_the_bounds() -> None:
    # A plain JSON report just under the 4 MiB bound, in base64 lines of 76: some 73,000 lines.
    document = make_report(days_ago(1))
    data = json.dumps(document).encode()
    data += b" " * (4 * 2**20 - 100 - len(data))
    [item] = sources.reports_in_message(report_mail(document, "json", payload=data), "big.eml")
    assert isinstance(item, Found)


@pytest.mark.parametrize("separator", ["/", "\\"])
def test_a_folder_s_files_are_named_as_the_system_joins_paths(
    separator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Names are joined as strings, not Paths (a Path per file cost as much as a report); on
    # Windows str(Path) joins with a backslash, and the names shown must read the same.
    from pathlib import PurePosixPath, PureWindowsPath

    monkeypatch.setattr(sources.os, "sep", separator)
    pure = PurePosixPath if separator == "/" else PureWindowsPath
    for folder in (["reports"], ["C:\\", "mail", "tls"] if separator == "\\" else ["/", "srv", "tls"]):
        directory = str(pure(*folder))
        assert sources._prefix(directory) + "r.json" == str(pure(directory) / "r.json")
