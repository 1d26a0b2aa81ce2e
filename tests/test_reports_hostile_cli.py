"""`python -m mtasts reports` given reports that lie: what the text, --json and --html say,
and the exit status; text from reports shown escaped; paths that hold nothing; a closed pipe."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtasts.__main__ import main
from mtasts.reports.html import MAX_CHART_DAYS, chart, html_page
from mtasts.reports.model import ReportError, parse_report
from mtasts.reports.output import write_text
from mtasts.reports.sources import Found, Rejected
from mtasts.reports.summary import DomainSummary, summarise
from mtasts.reports.verdict import enforce_verdict, shown_domain
from tests.twin.reportmail import CURRENT_POLICY, gz, make_report, recent_samples, report_mail

REPO = Path(__file__).resolve().parents[1]
# Recent days, so that the reports are near the present whenever the tests run.
START = date.today() - timedelta(days=20)
STACK = """config:
  mta-sts:domain: example.com
  mta-sts:mode: {mode}
  mta-sts:tlsRpt:
    - mailto:tls-reports@example.com
"""
HOSTILE = "Evil\x1b[2J\r\nenforce: safe: forged line\u202eMOC.elpmaxe"


def write(folder: Path, document: dict[str, Any], name: str | None = None, style: str = "google") -> None:
    folder.mkdir(exist_ok=True)
    (folder / (name or f"{document['report-id']}.eml")).write_bytes(report_mail(document, style))


def clean_fortnight(folder: Path, **report: Any) -> None:
    for offset in range(14):
        for style in ("google", "microsoft"):
            write(folder, make_report(START + timedelta(days=offset), style=style, **report), style=style)


def reports(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["reports", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_forged_report_reusing_a_real_id_is_flagged_in_text_json_and_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mail = tmp_path / "mail"
    clean_fortnight(mail)
    day = START + timedelta(days=3)
    real = make_report(day, style="microsoft", failures={"certificate-expired": 40}, report_id="real-id-42")
    forged = make_report(day, style="microsoft", successful=4000, report_id="real-id-42")
    write(mail, real, "real.eml", "microsoft")
    write(mail, forged, "zz-forged.eml", "microsoft")
    page = tmp_path / "page.html"
    status, out, _ = reports(capsys, str(mail), "--html", str(page))
    assert status == 1
    assert "report ids sent with different content (1;" in out
    assert "real-id-42 about example.com:" in out and "real.eml" in out and "zz-forged.eml" in out
    assert "enforce: not yet" in out and "1 report id came with different content" in out
    assert "40 failed" in out or "40 sessions" in out
    html = page.read_text()
    assert "Report ids sent with different content (1)" in html and "real-id-42" in html
    status, out, _ = reports(capsys, str(mail), "--json")
    document = json.loads(out)
    [collision] = document["collisions"]
    assert collision["report_id"] == "real-id-42" and collision["domains"] == ["example.com"]
    assert document["domains"]["example.com"]["collisions"] == ["real-id-42"]
    assert document["domains"]["example.com"]["enforce_ready"] is False
    assert document["duplicates"] == 0


def test_with_a_stack_another_domains_failures_are_ignored_not_failing_enforce(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.prod.yaml").write_text(STACK.format(mode="enforce"))
    mail = tmp_path / "mail"
    clean_fortnight(mail)
    enforce = tuple(line.replace("testing", "enforce") for line in CURRENT_POLICY)
    victim = make_report(START, domain="victim.example", failures={"certificate-expired": 5}, policy=enforce)
    write(mail, victim, "victim.eml")
    argv = ["--project-dir", str(tmp_path), "reports", str(mail), "--stack", "prod", "--fail-on", "enforce"]
    status = main(argv)
    out = capsys.readouterr().out
    assert status == 0, out
    assert "ignored (not example.com, the stack's domain), not counted: victim.example 1 report(s)" in out
    assert main([*argv, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert list(document["domains"]) == ["example.com"] and document["ignored"] == {"victim.example": 1}


def test_text_from_reports_is_shown_escaped_in_the_terminal_and_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mail = tmp_path / "mail"
    document = make_report(START, organization=HOSTILE, failures={"certificate-expired": 1})
    document["policies"][0]["policy"]["policy-domain"] = "example.com\u202e\x1b]0;pwned\x07"
    document["policies"][0]["failure-details"][0]["receiving-mx-hostname"] = "mx\r\nforged: line"
    (mail).mkdir()
    (mail / "a\x1b[31mred\u2066.json.gz").write_bytes(gz(document))
    page = tmp_path / "page.html"
    _, out, _ = reports(capsys, str(mail), "--html", str(page))
    for text in (out, page.read_text()):
        assert not any(char in text for char in "\x1b\r\u202e\u2066\x07"), repr(text)
        assert "\\u202e" in text and "\\x1b" in text
    assert "\\r\\nenforce: safe: forged line" in out
    assert not any(line.startswith("enforce: safe") for line in out.splitlines())
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x\x1b[2J.json").write_text("{}")
    _, out, _ = reports(capsys, str(bad))
    assert "\x1b" not in out and "x\\x1b[2J.json" in out


def test_a_look_alike_policy_domain_is_shown_escaped_and_marked_in_the_terminal_and_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A Cyrillic small a (U+0430) and a Hangul filler (U+3164) are printable: shown as sent, a
    # forged domain judged safe read as the real one, failing, beside it.
    mail = tmp_path / "mail"
    mail.mkdir()
    real = make_report(START, failures={"certificate-expired": 7}, report_id="real")
    (mail / "real.json").write_text(json.dumps(real))
    for number, forged in enumerate(("ex\u0430mple.com", "example.com\u3164")):
        (mail / f"forged-{number}.json").write_text(json.dumps(make_report(START, domain=forged)))
    page = tmp_path / "page.html"
    _, out, _ = reports(capsys, str(mail), "--html", str(page))
    html = page.read_text()
    for text in (out, html):
        assert "\u0430" not in text and "\u3164" not in text
        assert "ex\\u0430mple.com (not ASCII)" in text and "example.com\\u3164 (not ASCII)" in text
    assert "\nexample.com: 1 report(s)" in out  # the real one, as it is


@given(first=st.text(max_size=40), second=st.text(max_size=40))
def test_a_policy_domain_outside_ascii_is_shown_in_ascii_marked_and_never_like_another(
    first: str, second: str
) -> None:
    shown = shown_domain(first)
    if not first.isascii():
        assert shown.isascii() and shown.endswith(" (not ASCII)")
    if first != second:
        assert shown != shown_domain(second)


def test_a_report_claiming_years_is_rejected_by_name_and_the_others_still_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mail = tmp_path / "mail"
    clean_fortnight(mail)
    lying = make_report(START, report_id="years")
    lying["date-range"] = {
        "start-datetime": "0001-01-01T00:00:00+01:00",
        "end-datetime": "9999-12-31T23:59:59Z",
    }
    (mail / "years.json").write_text(json.dumps(lying))
    huge = make_report(START, report_id="huge")
    (mail / "huge.json").write_text(
        json.dumps(huge).replace(
            '"total-successful-session-count": 100', '"total-successful-session-count": ' + "9" * 5000
        )
    )
    status, out, err = reports(capsys, str(mail))
    assert status == 1 and err == ""
    assert (
        "years.json: 'date-range.start-datetime' '0001-01-01T00:00:00+01:00' is outside the calendar" in out
    )
    assert "huge.json: the report holds a number thousands of digits long" in out
    assert "28 report(s) about 1 domain(s)" in out


def test_an_unusable_entry_is_skipped_and_said_and_the_rest_of_the_report_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = make_report(START, successful=77)
    document["policies"].append({"policy": {"policy-type": "no-policy-found"}, "summary": {}})
    (tmp_path / "r.json").write_text(json.dumps(document))
    status, out, _ = reports(capsys, str(tmp_path / "r.json"))
    assert status == 1
    assert "sessions: 77 successful" in out
    assert "policies entries skipped (1), the rest of each report counted:" in out
    assert "'policies[1].policy.policy-domain' is missing" in out


def test_a_path_that_holds_nothing_says_so_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    for argv in ([], ["--fail-on", "enforce"]):
        status, out, _ = reports(capsys, str(tmp_path / "empty"), *argv)
        assert status == 1
        assert f"{tmp_path / 'empty'}: nothing found here" in out


def test_a_json_gz_that_is_not_gzip_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.json.gz").write_text(json.dumps(make_report(START)))
    status, out, _ = reports(capsys, str(tmp_path / "r.json.gz"))
    assert status == 1 and "r.json.gz: named .gz but not gzip data" in out


def mtasts_command(argv: list[str], **fields: object) -> list[str]:
    """`python -m mtasts` with `argv`, each argument's {placeholders} filled from `fields`."""
    return [sys.executable, "-m", "mtasts", *(arg.format(**fields) for arg in argv)]


def run_into(stdout: Any, command: list[str]) -> subprocess.CompletedProcess[str]:
    """`command` run from the repository with its output into `stdout`, its errors read back."""
    return subprocess.run(
        command, cwd=REPO, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["reports", "{samples}/mail"],
        ["reports", "{samples}/mail", "--json"],
        ["--project-dir", "{project}", "render", "--stack", "prod"],
    ],
)
def test_a_closed_output_ends_the_run_quietly(argv: list[str], tmp_path: Path) -> None:
    (tmp_path / "Pulumi.prod.yaml").write_text(STACK.format(mode="testing"))
    samples = recent_samples(tmp_path / "samples")  # read by the clock, as if collected today
    read, write_end = os.pipe()
    os.close(read)
    try:
        result = run_into(write_end, mtasts_command(argv, project=tmp_path, samples=samples))
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert result.returncode == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["reports", "{samples}/mail"],
        ["reports", "{samples}/mail", "--json"],
        ["--project-dir", "{project}", "render", "--stack", "prod"],
        ["verify", "--help"],
        ["verify"],  # a usage error, said on the error stream
    ],
)
@pytest.mark.parametrize("closed", [1, 2])
def test_a_command_started_with_a_closed_stream_runs_as_into_dev_null(
    argv: list[str], closed: int, tmp_path: Path
) -> None:
    # `... >&-` (or a service manager) starts Python with sys.stdout or sys.stderr None, and
    # the first write ended the command with an AttributeError traceback, whatever it found.
    (tmp_path / "Pulumi.prod.yaml").write_text(STACK.format(mode="testing"))
    samples = recent_samples(tmp_path / "samples")
    command = mtasts_command(argv, project=tmp_path, samples=samples)
    into_dev_null = subprocess.run(command, cwd=REPO, capture_output=True, timeout=60, check=False)
    with_closed = subprocess.run(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE if closed == 2 else None,
        stderr=subprocess.PIPE if closed == 1 else None,
        preexec_fn=lambda: os.close(closed),
        timeout=60,
        check=False,
    )
    said = (with_closed.stdout or b"") + (with_closed.stderr or b"")
    assert b"Traceback" not in said, said
    assert with_closed.returncode == into_dev_null.returncode, said


@pytest.mark.parametrize("argv", [["reports", "{samples}/mail"], ["reports", "{samples}/mail", "--json"]])
def test_output_to_a_full_disk_says_it_is_incomplete(argv: list[str], tmp_path: Path) -> None:
    # `> file` on a full disk (here /dev/full, which refuses every write) ended the run with an
    # OSError traceback.
    samples = recent_samples(tmp_path / "samples")
    with open("/dev/full", "w") as full:
        result = run_into(full, mtasts_command(argv, samples=samples))
    assert result.stderr == "error: cannot write the output (No space left on device): it is incomplete\n"
    assert result.returncode == 1


def test_junk_mail_with_megabyte_headers_makes_a_few_lines_of_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = b"Message-ID: <" + b"m" * 2_000_000 + b">\r\nSubject: " + b"s" * 2_000_000 + b"\r\n\r\nhello\r\n"
    mail = tmp_path / "mail"
    mail.mkdir()
    for number in range(3):
        (mail / f"junk{number}.eml").write_bytes(junk)
    page = tmp_path / "page.html"
    status, out, _ = reports(capsys, str(mail), "--html", str(page), "--json")
    assert status == 1 and len(out) < 20_000 and page.stat().st_size < 30_000
    status, out, _ = reports(capsys, str(mail))
    assert len(out) < 10_000 and "characters)" in out


def test_the_chart_shows_a_bounded_number_of_days_however_many_the_reports_cover() -> None:
    domain = DomainSummary("example.com")
    for offset in range(1500):
        domain.daily[START - timedelta(days=offset)] = [1, 0]
    bars = chart(domain).count('<rect class="successful"')
    assert bars == MAX_CHART_DAYS


def test_the_page_stays_small_however_many_domains_have_a_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two reports of 1,000 domains each, 400 days apart, drew 800 bars per domain: a page of
    # 100 MB from 600 kB of reports. The bars the page draws are bounded in all.
    mail = tmp_path / "mail"
    mail.mkdir()
    for number, day in enumerate((START - timedelta(days=MAX_CHART_DAYS - 1), START)):
        document = make_report(day, report_id=f"many-{number}")
        entry = document["policies"][0]
        document["policies"] = [
            {**entry, "policy": {**entry["policy"], "policy-domain": f"d{n}.example"}} for n in range(1000)
        ]
        (mail / f"many-{number}.json").write_text(json.dumps(document))
    page = tmp_path / "page.html"
    assert main(["reports", str(mail), "--html", str(page)]) == 0
    html = page.read_text()
    assert len(html) < 8_000_000, len(html)
    assert html.count("<svg") == 1000 and html.count(f"<title>{START}: 100 successful</title>") == 1000


@settings(max_examples=60, deadline=None)
@given(
    organization=st.text(min_size=1, max_size=40),
    domain=st.text(min_size=1, max_size=40),
    mx=st.text(max_size=40),
)
def test_whatever_text_a_report_holds_every_output_line_is_printable(
    organization: str, domain: str, mx: str
) -> None:
    document = make_report(START, organization=organization, failures={"certificate-expired": 1})
    document["policies"][0]["policy"]["policy-domain"] = domain
    document["policies"][0]["failure-details"][0]["receiving-mx-hostname"] = mx
    try:
        items = [Found(parse_report(gz(document)), f"{organization}.eml")]
    except ReportError as error:
        items = [Rejected(f"{organization}.eml", str(error), message_id=domain)]
    summary = summarise(items)
    verdicts = {name: enforce_verdict(entry) for name, entry in summary.domains.items()}
    out = io.StringIO()
    write_text(out, summary, verdicts)
    page = html_page(summary, verdicts)
    for text in (out.getvalue(), page):
        assert all(char.isprintable() or char == "\n" for char in text), text


def test_a_stack_in_enforce_is_not_told_all_is_well_while_a_report_id_collides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.prod.yaml").write_text(STACK.format(mode="enforce"))
    mail = tmp_path / "mail"
    write(mail, make_report(START, report_id="same", successful=10), "one.eml")
    write(mail, make_report(START, report_id="same", successful=20), "two.eml")
    status = main(["--project-dir", str(tmp_path), "reports", str(mail), "--stack", "prod"])
    out = capsys.readouterr().out
    assert status == 1 and "already in enforce" not in out
    assert "1 report id came with different content (listed below)" in out


# --html never destroys what it is given: not an input, not the page it replaces.


@pytest.mark.parametrize("target", ["mail/first.eml", "mail/page.html", "reports.mbox", "link.html"])
def test_html_onto_or_into_an_input_is_refused_and_nothing_is_written(
    target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--html mail/first.eml` replaced that report mail with the page: the report was lost, and
    # a page written into a folder that is read was rejected as "not a report" on the next run.
    mail = tmp_path / "mail"
    write(mail, make_report(START, style="google"), name="first.eml")
    mbox = tmp_path / "reports.mbox"
    mbox.write_bytes(b"From x Thu Jan  1 00:00:00 2026\n" + report_mail(make_report(START), "google"))
    (tmp_path / "link.html").symlink_to(mail / "first.eml")
    before = {path: path.read_bytes() for path in (mail / "first.eml", mbox)}
    status, out, err = reports(capsys, str(mail), str(mbox), "--html", str(tmp_path / target))
    assert status == 2 and out == ""
    assert "is read for reports" in err and "write the page elsewhere" in err
    assert {path: path.read_bytes() for path in before} == before
    assert sorted(path.name for path in mail.iterdir()) == ["first.eml"]


def mail_and_last_weeks_page(folder: Path) -> tuple[Path, Path]:
    """A folder of one report mail, and the page an earlier run wrote."""
    mail = folder / "mail"
    write(mail, make_report(START, style="google"))
    page = folder / "tls.html"
    page.write_text("last week's page")
    return mail, page


def test_a_page_that_cannot_be_written_whole_leaves_the_previous_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page was written in place: a full disk part way through left half a page where last
    # week's whole one had been.
    mail, page = mail_and_last_weeks_page(tmp_path)
    page.chmod(0o640)
    real_write = os.write

    def disk_full_after_a_kilobyte(fd: int, data: Any) -> int:
        if len(data) > 1024:
            real_write(fd, bytes(data[:1024]))
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", disk_full_after_a_kilobyte)
    status, _, err = reports(capsys, str(mail), "--html", str(page))
    monkeypatch.undo()
    assert status == 2 and f"cannot write --html {page}: No space left on device" in err
    assert page.read_text() == "last week's page"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mail", "tls.html"]  # no leftover
    status, _, _ = reports(capsys, str(mail), "--html", str(page))
    assert "<!DOCTYPE html>" in page.read_text() and page.stat().st_mode & 0o777 == 0o640


def test_html_to_a_pipe_or_device_is_written_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--html /dev/stdout | ssh host 'cat > page.html'`: not a file to replace, so written as is.
    mail = tmp_path / "mail"
    write(mail, make_report(START, style="google"))
    read_end, write_end = os.pipe()
    received: list[bytes] = []

    def drain() -> None:  # the page may be larger than the pipe holds
        received.append(b"".join(iter(lambda: os.read(read_end, 65536), b"")))

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        status, _, err = reports(capsys, str(mail), "--html", f"/dev/fd/{write_end}")
        assert status == 0
    finally:
        os.close(write_end)
        reader.join(10)
        os.close(read_end)
    assert err == "" and received[0].startswith(b"<!DOCTYPE html>")


def test_a_page_in_a_folder_that_takes_no_new_file_is_written_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A page someone may write in a folder they may not add to (a web server's, say): it
    # cannot be replaced whole, but it can still be written, as it always was.
    mail, page = mail_and_last_weeks_page(tmp_path)
    real_open = os.open

    def no_new_files(name: str, flags: int, mode: int = 0o777) -> int:
        if flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied")
        return real_open(name, flags, mode)

    monkeypatch.setattr(os, "open", no_new_files)
    status, _, err = reports(capsys, str(mail), "--html", str(page))
    monkeypatch.undo()
    assert status == 0 and err == "" and page.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_names_the_output_cannot_encode_are_escaped_not_a_traceback(
    encoding: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Any sender names its organization: "Ünïcødé ☃" in a report ended `reports` with
    # UnicodeEncodeError once the output was a Windows file (cp1252) or PYTHONIOENCODING=ascii.
    mail = tmp_path / "mail"
    write(mail, make_report(START, style="google", organization="Ünïcødé ☃ Mail"))
    out = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    monkeypatch.setattr("sys.stdout", out)
    status = main(["reports", str(mail)])
    out.flush()
    text = out.buffer.getvalue().decode(encoding)  # type: ignore[attr-defined]
    assert status == 0 and "1 report(s) about 1 domain(s)" in text
    assert "\\u2603 Mail" in text
    assert ("Ünïcødé" if encoding == "cp1252" else "\\xdcn\\xefc\\xf8d\\xe9") in text
