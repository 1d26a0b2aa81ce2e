"""Throughput and memory of `reports` reading a Maildir of report mail.

    .venv/bin/python bench/reports_benchmark.py [--reports 10000] [--target 2000]

Writes a Maildir of `--reports` messages (four senders' styles, 20 domains, a year of days,
one in twenty with failures; tests/twin/reportmail.py), then, in a fresh Python process,
reads and summarises it the way `python -m mtasts reports MAILDIR` does and prints reports
per second, the peak resident memory, and how much memory grew while reading. The reader
streams (one message at a time, counters only), so the growth stays small and does not
scale with the number of reports. Exits 1 when a report is miscounted or a target is missed.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def write_maildir(root: Path, count: int) -> None:
    from tests.twin.reportmail import STYLES, make_report, report_mail

    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    for number in range(count):
        style = STYLES[number % len(STYLES)]
        failures = {"certificate-host-mismatch": 1 + number % 7} if number % 20 == 0 else None
        document = make_report(
            date(2026, 1, 1) + timedelta(days=(number // 80) % 365),
            style=style,
            domain=f"d{number % 20:02d}.bench.example",
            successful=100 + number % 900,
            failures=failures,
            report_id=f"bench-{number:06d}",
        )
        (root / "cur" / f"{1_700_000_000 + number}.M{number}P1.bench:2,S").write_bytes(
            report_mail(document, style)
        )


def inside(maildir: str) -> None:
    """Runs in a fresh process: read and summarise, report figures as JSON."""
    from mtasts.reports.sources import read_paths
    from mtasts.reports.summary import summarise

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    summary = summarise(read_paths([maildir]))
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "reports": summary.reports,
                "rejected": len(summary.rejected),
                "domains": len(summary.domains),
                "seconds": seconds,
                "peak_kib": after,
                "growth_kib": after - before,
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--target", type=float, default=2_000.0, help="reports per second to reach (0: none)")
    parser.add_argument(
        "--max-growth-mib", type=float, default=64.0, help="memory growth allowed while reading"
    )
    parser.add_argument("--inside", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args.inside)
        return 0
    with tempfile.TemporaryDirectory(prefix="reports-bench-") as folder:
        maildir = Path(folder) / "Maildir"
        started = time.perf_counter()
        write_maildir(maildir, args.reports)
        print(f"wrote {args.reports:,} report messages in {time.perf_counter() - started:.1f} s")
        result = subprocess.run(
            [sys.executable, __file__, "--inside", str(maildir)], capture_output=True, text=True, check=True
        )
    figures = json.loads(result.stdout)
    rate = figures["reports"] / figures["seconds"] if figures["seconds"] else float("inf")
    growth = figures["growth_kib"] / 1024
    read = f"read {figures['reports']:,} reports about {figures['domains']} domains"
    print(f"{read} in {figures['seconds']:.2f} s")
    print(f"throughput: {rate:,.0f} reports/s (target {args.target:,.0f})")
    print(f"memory: peak {figures['peak_kib'] / 1024:.1f} MiB, grew {growth:.1f} MiB while reading")
    problems = []
    if figures["reports"] != args.reports or figures["rejected"]:
        problems.append(f"expected {args.reports} reports and no rejection, got {figures}")
    if args.target and rate < args.target:
        problems.append(f"{rate:,.0f} reports/s is below the target {args.target:,.0f}")
    if growth > args.max_growth_mib:
        problems.append(f"memory grew {growth:.1f} MiB, more than {args.max_growth_mib} MiB")
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
