"""Throughput of `verify` against checkdmarc's `check_mta_sts`, on a twin with real round trips.

    sudo .venv/bin/python bench/verify_benchmark.py [--domains 200] [--delay 0.025]

Builds a deployment twin (tests/twin: NSD and nginx in a private network namespace) holding
`--domains` domains, with a delaying proxy in front of every server address adding `--delay`
seconds each way, so every DNS or HTTPS round trip costs 50 ms as it does to real resolvers
and web hosts. As on the real hosts, each GitHub Pages policy host has four A records and one AAAA
record (`verify` fetches the policy from every one of them) and each Netlify host one A
record. Then, in one run inside the namespace, checks every domain with
`mtasts.verify.verify_domains` (all checks, concurrently) and with checkdmarc's
`check_mta_sts` one domain after another, and prints domains per second for each, the
ratio, `verify`'s CPU per domain, the floor (one domain's time alone, once per wave of
`concurrency` domains) and how far above it `verify` is, and whether both reach the same
verdict (valid or not) for every domain. `--no-peer` times `verify` alone (for 1,000 domains,
where checkdmarc takes minutes).

One domain in ten carries a fault both validators must reject (no record, a 404, a
redirect, a bad certificate, a syntax error...), so the verdict comparison means something.
Needs root (network namespaces), nsd and nginx, like the real-server tests. Not a test: it
prints figures and exits 1 only when a verdict is wrong: a faulted domain that passes, a
sound one that fails, or checkdmarc disagreeing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

# Faults after which both a strict sender and checkdmarc find no usable policy.
REJECTED_BY_BOTH = (
    "no-discovery-record",
    "two-discovery-records",
    "invalid-id",
    "policy-404",
    "policy-redirect",
    "certificate-other-host",
    "certificate-expired",
    "policy-syntax-error",
    "max-age-out-of-range",
)


def build_sites(count: int) -> list[Any]:
    from dataclasses import replace

    from mtasts.config import Hosting, parse_settings
    from mtasts.desired import desired_state
    from tests.twin import FAULTS, WEB_ADDRESS, WEB_ADDRESSES_V4, WEB_ADDRESSES_V6, site_from_state

    addresses = {
        Hosting.GITHUB_PAGES: (*WEB_ADDRESSES_V4, WEB_ADDRESSES_V6[0]),
        Hosting.NETLIFY: (WEB_ADDRESS,),
    }

    sites = []
    for index in range(count):
        config: dict[str, Any] = {
            "domain": f"d{index:04d}.bench.example",
            "hosting": ("netlify", "github-pages")[index % 2],
            "mode": ("testing", "enforce", "none")[index % 3],
            "mx": ["mail.protonmail.ch", "mailsec.protonmail.ch"] if index % 4 else ["*.protonmail.ch"],
        }
        if index % 5:
            config["tlsRpt"] = [
                f"mailto:tls@d{index:04d}.bench.example",
                "https://reports.bench.example/tlsrpt",
            ]
        site = site_from_state(desired_state(parse_settings(config)))
        site = replace(site, addresses=addresses[site.hosting])
        if index % 10 == 9:
            site = FAULTS[REJECTED_BY_BOTH[(index // 10) % len(REJECTED_BY_BOTH)]](site)
        sites.append(site)
    return sites


CONCURRENCY = 100


def _timed(work: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def inside(domains: list[str], nameserver: str, ca_file: str, peer: bool) -> dict[str, Any]:
    """Runs in the namespace: both validators over the same domains, timed."""
    from mtasts.verify import VerifyOptions, verify_domains

    options = VerifyOptions(nameserver=nameserver, ca_file=ca_file, timeout=10.0, concurrency=CONCURRENCY)
    # The floor: one valid domain alone takes its round trips and nothing else; at the
    # benchmark's concurrency the domains go in ceil(n / concurrency) such waves at best.
    single = min(_timed(lambda: asyncio.run(verify_domains(domains[:1], options)))[0] for _ in range(3))
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    verify_seconds, reports = _timed(lambda: asyncio.run(verify_domains(domains, options)))
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("ru_utime", "ru_stime"))

    checkdmarc_seconds, checkdmarc = 0.0, {}
    if peer:
        from checkdmarc.mta_sts import check_mta_sts

        started = time.perf_counter()
        checkdmarc = {
            domain: check_mta_sts(domain, nameservers=[nameserver], timeout=10.0) for domain in domains
        }
        checkdmarc_seconds = time.perf_counter() - started
    return {
        "floor_seconds": single * -(-len(domains) // CONCURRENCY),
        "single_seconds": single,
        "cpu_ms_per_domain": cpu / len(domains) * 1000,
        "verify_seconds": verify_seconds,
        "checkdmarc_seconds": checkdmarc_seconds,
        "verify_valid": {report.domain: not report.failed for report in reports},
        "checkdmarc_valid": {domain: bool(result["valid"]) for domain, result in checkdmarc.items()},
        "checks_per_domain": sorted({finding.check for report in reports for finding in report.findings}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.025, help="seconds added each way (default 0.025)")
    parser.add_argument("--no-peer", action="store_true", help="time verify alone (checkdmarc takes minutes)")
    parser.add_argument(
        "--inside", nargs=3, metavar=("NAMESERVER", "CA_FILE", "PEER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.inside:
        domains = sys.stdin.read().split()
        nameserver, ca_file, peer = args.inside
        json.dump(inside(domains, nameserver, ca_file, peer == "peer"), sys.stdout)
        return 0

    from tests.twin import Twin, missing_requirements

    missing = missing_requirements()
    if missing:
        print(f"cannot run: {missing}", file=sys.stderr)
        return 2
    sites = build_sites(args.domains)
    valid = {site.domain for index, site in enumerate(sites) if index % 10 != 9}
    domains = [site.domain for site in sites]
    host_addresses = sum(len(site.addresses) for site in sites)
    print(
        f"twin: {len(domains)} domains, {host_addresses} policy host addresses, "
        f"{args.delay * 1000:g} ms added each way (round trip {args.delay * 2000:g} ms)"
    )
    with Twin(sites, delay=args.delay) as twin:
        result = twin.python_run(
            [
                str(Path(__file__).resolve()),
                "--inside",
                twin.dns_address,
                str(twin.ca_file),
                "none" if args.no_peer else "peer",
            ],
            input="\n".join(domains),
            timeout=3600,
        )
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return 2
    figures = json.loads(result.stdout)
    verify_rate = len(domains) / figures["verify_seconds"]
    # Every faulted domain (one in ten) must fail and every other pass, as before any change.
    wrong = [site.domain for site in sites if figures["verify_valid"][site.domain] != (site.domain in valid)]
    invalid = sum(not valid for valid in figures["verify_valid"].values())
    seconds, floor = figures["verify_seconds"], figures["floor_seconds"]
    print(
        f"verify      {seconds:7.2f} s  {verify_rate:8.1f} domains/s  (concurrency {CONCURRENCY}), "
        f"{figures['cpu_ms_per_domain']:.1f} ms CPU per domain"
    )
    print(
        f"floor       {floor:7.2f} s  (one domain alone {figures['single_seconds']:.2f} s, in waves of "
        f"{CONCURRENCY}): verify takes {seconds / floor:.1f} x the floor (target: at most 3 x)"
    )
    print(f"              checks: {', '.join(figures['checks_per_domain'])}")
    print(
        f"verdicts    {'as built' if not wrong else 'WRONG'}: {len(domains) - invalid} valid, "
        f"{invalid} invalid by verify" + (f"; wrong: {', '.join(wrong)}" if wrong else "")
    )
    if args.no_peer:
        return 1 if wrong else 0
    checkdmarc_rate = len(domains) / figures["checkdmarc_seconds"]
    differing = [d for d in domains if figures["verify_valid"][d] != figures["checkdmarc_valid"][d]]
    print(
        f"checkdmarc  {figures['checkdmarc_seconds']:7.2f} s  {checkdmarc_rate:8.1f} domains/s  "
        "(one after another)"
    )
    print(f"ratio       {verify_rate / checkdmarc_rate:7.1f} x  (target: at least 40 x)")
    print(
        f"verdicts    {'identical' if not differing else 'DIFFERENT'} to checkdmarc's"
        + (f"; differing: {', '.join(differing)}" if differing else "")
    )
    return 1 if differing or wrong else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
