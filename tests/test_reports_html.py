"""`--html FILE`: the page is self-contained and renders its charts in a real browser.

Chromium from Debian runs headless on the file: its console must stay silent (every console
message, a script error or a Content-Security-Policy refusal of something loaded from
outside, is logged to stderr with `CONSOLE`), the DOM must hold one bar per day and domain
and the failure table, and a screenshot must show the chart's green and red bars. The
console check first proves it catches a page that breaks those rules.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import timedelta
from pathlib import Path

import pytest

from mtasts.__main__ import main
from mtasts.reports.html import FAILURE_COLOUR, SUCCESS_COLOUR, html_page
from mtasts.reports.model import parse_report
from mtasts.reports.sources import Found
from mtasts.reports.summary import summarise
from mtasts.reports.verdict import enforce_verdict
from tests.twin.reportmail import days_ago, gz, make_report

CHROMIUM = shutil.which("chromium")
chromium_marks = [
    pytest.mark.servers,
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("MTASTS_REQUIRE_SERVERS"),
        reason="chromium is not installed (scripts/test installs it as root)",
    ),
]
START = days_ago(20)  # read by the clock: parse_report refuses reports years old


def browse(page: Path, *flags: str, size: str = "1000,1600") -> subprocess.CompletedProcess[str]:
    assert CHROMIUM, "chromium is not installed; scripts/test installs Debian's chromium as root"
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # as root (CI) Chromium's sandbox cannot start
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--force-color-profile=srgb",
            f"--window-size={size}",
            *flags,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=page.parent,
        check=False,
    )


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def pixels(png: bytes) -> list[tuple[int, int, int]]:
    """The RGB pixels of an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    offset, data, header = 8, b"", b""
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, body = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        header = body if kind == b"IHDR" else header
        data += body if kind == b"IDAT" else b""
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0
    size = 3 if colour == 2 else 4
    raw, stride, previous, out = zlib.decompress(data), width * size, bytearray(width * size), []
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - size] if i >= size else 0
            up, corner = previous[i], previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        out += [tuple(line[i : i + 3]) for i in range(0, stride, size)]  # type: ignore[misc]
        previous = line
    return out


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def write_page(folder: Path) -> Path:
    (folder / "mail").mkdir()
    for offset in range(10):
        failures = {"certificate-host-mismatch": offset % 3} if offset % 3 else {}
        for style in ("google", "microsoft"):
            document = make_report(
                START + timedelta(days=offset), style=style, successful=500 + 10 * offset, failures=failures
            )
            (folder / "mail" / f"{document['report-id']}.json.gz").write_bytes(gz(document))
    page = folder / "page.html"
    assert main(["reports", str(folder / "mail"), "--html", str(page)]) == 1  # sessions failed
    return page


def test_the_page_loads_nothing_and_escapes_what_senders_wrote() -> None:
    document = make_report(START, organization="<script>alert(1)</script>", failures={"<b>bold</b>": 1})
    report = parse_report(gz(document))
    summary = summarise([Found(report, "x")])
    page = html_page(summary, {name: enforce_verdict(domain) for name, domain in summary.domains.items()})
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert not re.search(r"""(src|href)\s*=|url\(|@import""", page)
    assert "default-src 'none'" in page


def test_a_policy_the_stack_no_longer_serves_is_marked() -> None:
    old = ("version: STSv1", "mode: testing", "mx: mail.protonmail.ch", "max_age: 86400")
    summary = summarise([Found(parse_report(gz(make_report(START, policy=old))), "x")])
    verdicts = {name: enforce_verdict(domain) for name, domain in summary.domains.items()}
    described = "sts mode testing, mx mail.protonmail.ch, max_age 86400"
    marked = html_page(summary, verdicts, {"example.com": {described: False}})
    assert f"<tr class=old><td>{described} (not what the stack serves now)</td>" in marked
    assert "not what the stack serves now" not in html_page(summary, verdicts)
    assert "<h1>TLS reports: 1 report about 1 domain</h1>" in marked


class TestInChromium:
    pytestmark = chromium_marks

    def test_the_console_check_catches_a_script_error_and_a_blocked_outside_load(
        self, tmp_path: Path
    ) -> None:
        bad = tmp_path / "bad.html"
        bad.write_text(
            "<!DOCTYPE html><meta http-equiv='Content-Security-Policy' content=\"default-src 'none'\">"
            "<img src='https://example.com/x.png'><p>x</p>"
        )
        assert any(
            "Content Security Policy" in line for line in console_messages(browse(bad, "--dump-dom").stderr)
        )
        broken = tmp_path / "broken.html"
        broken.write_text("<!DOCTYPE html><script>undefinedFunction()</script>")
        assert any("ReferenceError" in line for line in console_messages(browse(broken, "--dump-dom").stderr))

    def test_the_page_renders_a_bar_per_day_and_the_failure_table_with_a_silent_console(
        self, tmp_path: Path
    ) -> None:
        page = write_page(tmp_path)
        result = browse(page, "--dump-dom")
        assert console_messages(result.stderr) == []
        dom = result.stdout
        assert dom.count('<rect class="successful"') == 10 and dom.count('<rect class="failed"') == 10
        # Two organizations' sessions on the third day.
        assert f"{START + timedelta(days=2)}: 1,040 successful" in dom
        assert '<td>result type</td><td>certificate-host-mismatch</td><td class="n">18</td>' in dom

    def test_the_screenshot_shows_the_green_and_red_bars(self, tmp_path: Path) -> None:
        page = write_page(tmp_path)
        # The first domain's chart fits in the first 700 pixels; a smaller shot decodes faster.
        result = browse(page, f"--screenshot={tmp_path / 'shot.png'}", "--hide-scrollbars", size="800,700")
        assert console_messages(result.stderr) == []
        counts = {SUCCESS_COLOUR: 0, FAILURE_COLOUR: 0}
        targets = {colour: rgb(colour) for colour in counts}
        for pixel in pixels((tmp_path / "shot.png").read_bytes()):
            for colour, target in targets.items():
                if all(abs(a - b) <= 6 for a, b in zip(pixel, target, strict=True)):
                    counts[colour] += 1
        assert counts[SUCCESS_COLOUR] > 5_000 and counts[FAILURE_COLOUR] > 1_000, counts
