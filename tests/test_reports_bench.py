"""The reports benchmark runs (a small version of it), and reading streams: memory does not
grow with the number of reports read."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

from bench.reports_benchmark import write_maildir
from mtasts.reports.sources import read_paths
from mtasts.reports.summary import summarise

BENCH = Path(__file__).resolve().parents[1] / "bench" / "reports_benchmark.py"


def test_the_benchmark_reads_every_report_it_wrote_and_prints_its_figures() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--reports", "400", "--runs", "1", "--counts-only"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "read 400 reports about 20 domains" in result.stdout
    for form in ("json", "json.gz", "maildir", "mbox"):
        assert f"\n{form} " in result.stdout, result.stdout
    assert "reports/s" in result.stdout and "grew" in result.stdout and "FAIL" not in result.stdout


def peak_while_reading(maildir: Path) -> int:
    tracemalloc.start()
    try:
        summary = summarise(read_paths([str(maildir)]))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        assert summary.reports > 0


def test_reading_five_times_the_reports_does_not_take_five_times_the_memory(tmp_path: Path) -> None:
    write_maildir(tmp_path / "small", 300)
    write_maildir(tmp_path / "large", 1500)
    small, large = peak_while_reading(tmp_path / "small"), peak_while_reading(tmp_path / "large")
    # What does grow, by design: one report id and one file name per report (about 600 bytes
    # with their set and list slots). Holding the parsed reports would cost several KiB each.
    assert large - small < 1_200 * 1_024, (small, large)
