"""Throughput of `verify` against checkdmarc's `check_mta_sts` and `check_mx`, on a twin with real
round trips.

    sudo .venv/bin/python bench/verify_benchmark.py [--domains 200] [--delay 0.025] [--no-peers]
    sudo .venv/bin/python bench/verify_benchmark.py --instructions
    sudo .venv/bin/python bench/verify_benchmark.py --profile

Builds a deployment twin (tests/twin: NSD and nginx in a private network namespace) holding
`--domains` domains, with a delaying proxy in front of every server address adding `--delay`
seconds each way, so every DNS or HTTPS round trip costs 50 ms as it does to real resolvers
and web hosts. As on the real hosts, each GitHub Pages policy host has four A records and one AAAA
record (`verify` fetches the policy from every one of them) and each Netlify host one A
record. Every domain is Proton-style: its two MX hosts (mail.protonmail.ch and
mailsec.protonmail.ch) have three A records each, every one a real Postfix listener with
STARTTLS behind the same delay. Then, in one run inside the namespace, checks every domain
with `mtasts.verify.verify_domains` (all checks, concurrently) without and with the MX check
(`--smtp off`/`on`, the best of two runs each), and with checkdmarc's `check_mta_sts` and
`check_mx` (STARTTLS tested) one domain after another, and prints domains per second for
each, the ratios against the goals, and whether both reach the same verdict (valid or not) for
every domain. The twin's servers run on a CPU apart from the measured runs when there are two
or more (`apart_from_twin`). `--no-peers` leaves checkdmarc out, for runs too long for it (`--domains 1000`).
`--instructions` times nothing: it counts the instructions `verify` runs per domain under
valgrind's cachegrind (`count_instructions`), a figure the host's speed does not change.
`--profile` times nothing either: it samples one run with py-spy and prints where its time
went (`profile`), to start from before changing anything.

One domain in ten carries a fault both validators must reject (no record, a 404, a
redirect, a bad certificate, a syntax error...), so the verdict comparison means something.
Needs root (network namespaces), nsd, nginx and postfix, like the real-server tests. Not a test: it
prints figures (with `verify`'s CPU per domain and the round-trip floor: one domain alone, once
per wave of 100) and exits 1 only when the verdicts differ from checkdmarc's or from the faults
built in.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# Proton's two MX hosts (every site's MX), three Postfix addresses each.
MX_ADDRESSES = (("10.53.2.1", "10.53.2.2", "10.53.2.3"), ("10.53.2.4", "10.53.2.5", "10.53.2.6"))


def mail_servers(ca: Any, delayed: bool) -> tuple[list[Any], list[Any]]:
    """(the Postfix listeners, the MX hosts' A records naming them or their delaying fronts)."""
    from mtasts.constants import PROTON_MX
    from mtasts.records import DnsRecord
    from tests.twin.mail import Listener
    from tests.twin.servers import mail_front

    listeners, records = [], []
    for host, addresses in zip(PROTON_MX, MX_ADDRESSES, strict=True):
        cert = ca.issue_cert(host)
        for address in addresses:
            listeners.append(Listener(address, cert))
            shown = mail_front(address) if delayed else address
            records.append(DnsRecord(f"mx-{address}", host, "A", shown, 3600))
    return listeners, records


# The goals: CPU per domain, the time against the round-trip floor, the speed against
# checkdmarc, the MX check's cost, and the time for 1,000 domains.
CPU_MS_TARGET = 5.0
FLOOR_TARGET = 3.0
RATIO_TARGET = 40.0
MX_COST_TARGET = 1.3
THOUSAND_SECONDS_TARGET = 6.0
RUNS = 2


def host_speed(domain: str, nameserver: str, ca_file: str, count: int = 20) -> dict[str, float]:
    """What this host's CPU makes of work that is not ours: one TLS handshake alone with a
    policy host of the twin, on a blocking socket, and a fixed pure-Python loop. Printed beside
    the figures, so that runs on hosts of different speeds can be compared; what the handshakes
    of a run cost is `HandshakeClock`'s."""
    import socket
    import ssl
    import timeit

    import dns.resolver

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [nameserver]
    host = f"mta-sts.{domain}"
    address = resolver.resolve(host, "A")[0].to_text()
    context = ssl.create_default_context(cafile=ca_file)
    handshake = 0.0
    for _ in range(count):
        with socket.create_connection((address, 443), timeout=10) as sock:
            tls = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
            cpu = time.process_time()  # the handshake alone: waiting for the server costs no CPU
            tls.do_handshake()
            handshake += time.process_time() - cpu
            tls.close()
    handshake = handshake / count * 1000
    loop = min(timeit.repeat(lambda: sum(range(100_000)), number=10, repeat=5)) / 10 * 1000
    return {"handshake_cpu_ms": handshake, "python_loop_ms": loop}


class HandshakeClock:
    """The CPU that OpenSSL's handshakes take inside a run, and how many there were: each
    `SSLObject.do_handshake` call timed as it runs (verify's fetches drive OpenSSL through
    memory BIOs, so a call never waits on the network). A handshake alone on a blocking
    socket (`host_speed`) costs about twice as much CPU, the socket's system calls and the
    first handshake of a context in it, so it is not what a run's handshakes cost."""

    def __init__(self) -> None:
        self.seconds, self.handshakes = 0.0, 0

    def __enter__(self) -> HandshakeClock:
        import ssl

        self._original = original = ssl.SSLObject.do_handshake

        def timed(tls: ssl.SSLObject) -> None:
            cpu = time.process_time()
            try:
                original(tls)
            except ssl.SSLWantReadError:
                raise  # the handshake goes on once the server's flight is in
            except BaseException:
                self.handshakes += 1  # refused: it still cost its share
                raise
            else:
                self.handshakes += 1
            finally:
                self.seconds += time.process_time() - cpu

        ssl.SSLObject.do_handshake = timed  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        import ssl

        ssl.SSLObject.do_handshake = self._original  # type: ignore[method-assign]


def inside(domains: list[str], nameserver: str, ca_file: str, peers: bool) -> dict[str, Any]:
    """Runs in the namespace: both validators over the same domains, timed."""
    from checkdmarc.mta_sts import check_mta_sts
    from checkdmarc.smtp import check_mx

    from mtasts.verify import VerifyOptions, verify_domains

    timings: dict[str, float] = {}
    reports = {}
    # The floor: one sound domain alone takes its round trips and nothing else; at the
    # benchmark's concurrency the domains go in ceil(n / 100) such waves at best.
    alone = VerifyOptions(nameserver=nameserver, ca_file=ca_file, timeout=10.0, concurrency=100, smtp="off")
    single = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        asyncio.run(verify_domains(domains[:1], alone))
        single = min(single, time.perf_counter() - started)
    for smtp in ("off", "on"):
        options = VerifyOptions(
            nameserver=nameserver, ca_file=ca_file, timeout=10.0, concurrency=100, smtp=smtp
        )
        for _ in range(RUNS):  # the best of RUNS: the other engineers' jobs come and go
            cpu = time.process_time()
            started = time.perf_counter()
            with HandshakeClock() as clock:
                reports[smtp] = asyncio.run(verify_domains(domains, options))
            seconds = time.perf_counter() - started
            if seconds < timings.get(smtp, float("inf")):
                timings[smtp] = seconds
                timings[f"cpu-{smtp}"] = time.process_time() - cpu
                timings[f"handshake-cpu-{smtp}"] = clock.seconds
                timings[f"handshakes-{smtp}"] = clock.handshakes
    with_mx = reports["on"]
    figures: dict[str, Any] = {
        **host_speed(domains[0], nameserver, ca_file),
        "verify_seconds": timings["off"],
        "cpu_ms_per_domain": timings["cpu-off"] / len(domains) * 1000,
        "run_handshake_ms_per_domain": timings["handshake-cpu-off"] / len(domains) * 1000,
        "run_handshakes": timings["handshakes-off"],
        "single_seconds": single,
        "floor_seconds": single * -(-len(domains) // 100),
        "verify_mx_seconds": timings["on"],
        "verify_valid": {report.domain: not report.failed for report in with_mx},
        "checks_per_domain": sorted({finding.check for report in with_mx for finding in report.findings}),
        "mx_probes_passed": sum(
            entry.outcome.value == "passed" for report in with_mx for entry in report.mx_tls
        ),
        "mx_entries": sum(len(report.mx_tls) for report in with_mx),
    }
    if not peers:
        return figures

    started = time.perf_counter()
    checkdmarc = {domain: check_mta_sts(domain, nameservers=[nameserver], timeout=10.0) for domain in domains}
    checkdmarc_seconds = time.perf_counter() - started
    started = time.perf_counter()
    mx = {
        domain: check_mx(domain, check_mx_tls=True, nameservers=[nameserver], timeout=10.0)
        for domain in domains
    }
    checkdmarc_mx_seconds = time.perf_counter() - started
    return figures | {
        "checkdmarc_seconds": checkdmarc_seconds,
        "checkdmarc_mx_seconds": checkdmarc_mx_seconds,
        "checkdmarc_valid": {domain: bool(result["valid"]) for domain, result in checkdmarc.items()},
        "checkdmarc_starttls": sum(
            bool(host.get("starttls")) for result in mx.values() for host in result.get("hosts", [])
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.025, help="seconds added each way (default 0.025)")
    parser.add_argument(
        "--no-peers",
        action="store_true",
        help="time verify alone (checkdmarc takes about a third of a second per domain, one after another)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count the instructions verify runs per domain (valgrind's cachegrind), instead of timing it",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample where verify spends its time in one run (py-spy), instead of timing it",
    )
    parser.add_argument(
        "--inside", nargs=3, metavar=("NAMESERVER", "CA_FILE", "PEERS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--once", nargs=2, metavar=("NAMESERVER", "CA_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        domains = sys.stdin.read().split()
        nameserver, ca_file, peers = args.inside
        json.dump(inside(domains, nameserver, ca_file, peers == "peers"), sys.stdout)
        return 0
    if args.once:
        from mtasts.verify import VerifyOptions, verify_domains

        nameserver, ca_file = args.once
        # A long timeout: under valgrind every step takes some 40 times longer.
        options = VerifyOptions(
            nameserver=nameserver, ca_file=ca_file, timeout=60.0, concurrency=100, smtp="off"
        )
        reports = asyncio.run(verify_domains(sys.stdin.read().split(), options))
        print(json.dumps({report.domain: not report.failed for report in reports}))
        return 0
    if args.instructions and not shutil.which("valgrind"):
        print(
            "cannot count instructions: valgrind is not installed (apt-get install valgrind)", file=sys.stderr
        )
        return 2
    py_spy = _py_spy() if args.profile else None
    if args.profile and py_spy is None:
        print("cannot profile: py-spy is not installed (.venv/bin/pip install py-spy)", file=sys.stderr)
        return 2

    import trustme

    from tests.twin import Twin, missing_requirements
    from tests.twin.mail import missing as postfix_missing

    missing = missing_requirements() or postfix_missing()
    if missing:
        print(f"cannot run: {missing}", file=sys.stderr)
        return 2
    sites = build_sites(args.domains)
    domains = [site.domain for site in sites]
    host_addresses = sum(len(site.addresses) for site in sites)
    print(
        f"twin: {len(domains)} domains, {host_addresses} policy host addresses, "
        f"{args.delay * 1000:g} ms added each way (round trip {args.delay * 2000:g} ms)"
    )
    print(f"load average at the start: {os.getloadavg()[0]:.2f} (2 cores: other jobs slow both sides)")
    ca = trustme.CA()
    listeners, mx_records = mail_servers(ca, delayed=args.delay > 0)
    print(f"      {sum(len(a) for a in MX_ADDRESSES)} MX addresses (Postfix), the same delay")
    with Twin(sites, delay=args.delay, mail=listeners, extra_records=mx_records, ca=ca) as twin:
        if args.instructions:
            return count_instructions(twin, sites)
        with apart_from_twin(twin) as placement:
            print(f"      {placement}")
            if args.profile:
                assert py_spy is not None
                return profile(twin, sites, py_spy)
            result = twin.python_run(
                [
                    str(Path(__file__).resolve()),
                    "--inside",
                    twin.dns_address,
                    str(twin.ca_file),
                    "none" if args.no_peers else "peers",
                ],
                input="\n".join(domains),
                timeout=3600,
            )
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return 2
    figures = json.loads(result.stdout)
    return report(figures, sites, domains, peers=not args.no_peers)


@contextlib.contextmanager
def apart_from_twin(twin: Any) -> Iterator[str]:
    """The twin's servers and proxy on every CPU but the first, and what is measured (started
    from here while this lasts: verify, then checkdmarc) on the first; what it says about that.

    The twin stands for resolvers, web hosts and mail servers elsewhere: sharing the CPUs with
    them, verify waited its turn behind their work (4.3 s of CPU over a run of 1,000 domains,
    most of it the proxy's) and ran slower for the caches they had used. Apart, each side
    still has a core of its own on this two-core machine."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        yield "one CPU: the twin's servers share it with what is measured"
        return
    first, servers = cpus[0], cpus[1:]
    twin.confine(set(servers))
    os.sched_setaffinity(0, {first})  # inherited by every process started from here
    try:
        yield (
            f"the twin's servers on CPU {', '.join(map(str, servers))}, verify and checkdmarc on CPU {first}"
        )
    finally:
        os.sched_setaffinity(0, set(cpus))


# Domains checked in the two counted runs: their difference leaves out what every run costs
# the same (start-up, imports, the TLS context), whatever the count.
COUNTED_RUNS = (20, 60)


def count_instructions(twin: Any, sites: list[Any]) -> int:
    """Instructions per domain, counted by cachegrind in two runs of `verify_domains`.

    The host's speed changed by half within an hour here, so CPU time cannot tell apart two
    versions a few per cent apart; the number of instructions run does not depend on the host.
    It counts user space only (the kernel's share of the system calls is not in it), and
    cryptography and Python alike, one instruction each."""
    import re

    counts = []
    for count in COUNTED_RUNS:
        domains = [site.domain for site in sites[:count]]
        result = twin.run(
            [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=no",
                "--cachegrind-out-file=/dev/null",
                twin.python,
                str(Path(__file__).resolve()),
                "--once",
                twin.dns_address,
                str(twin.ca_file),
            ],
            input="\n".join(domains),
            timeout=3600,
        )
        found = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
        if result.returncode != 0 or not found:
            print(result.stderr[-4000:], file=sys.stderr)
            return 2
        wrong = _wrong_verdicts(result.stdout, sites[:count])
        if wrong:
            print(f"wrong verdicts under valgrind: {', '.join(wrong)}", file=sys.stderr)
            return 1
        counts.append(int(found.group(1).replace(",", "")))
        print(f"{count:4d} domains: {counts[-1] / 1e6:,.1f} M instructions (start-up included)")
    (few, many), (low, high) = COUNTED_RUNS, counts
    print(
        f"verify        {(high - low) / (many - few) / 1e6:.2f} M instructions per domain "
        "(--smtp off; user space)"
    )
    return 0


def _wrong_verdicts(once_output: str, sites: list[Any]) -> list[str]:
    """The domains `--once` judged otherwise than the faults built in (one in ten fails)."""
    valid = json.loads(once_output)
    sound = {site.domain for index, site in enumerate(sites) if index % 10 != 9}
    return [site.domain for site in sites if valid[site.domain] != (site.domain in sound)]


def _py_spy() -> str | None:
    """py-spy beside this Python (`pip install py-spy` into the virtualenv), else on PATH:
    sudo's PATH does not hold the virtualenv."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


# Functions printed in each of `profile`'s two tables.
PROFILE_ROWS = 20
# Samples a second: at 1,000 py-spy falls seconds behind, as each sample stops the process.
PROFILE_RATE = 500


def profile(twin: Any, sites: list[Any], py_spy: str) -> int:
    """Where one run's time goes: py-spy samples `verify_domains` over every domain.

    py-spy stops the process for each sample, which slows the run a little but reads every
    stack whole; its non-blocking mode misses samples in Python code and so overstates the
    time in C (OpenSSL's handshakes read 59% of a run instead of the 37% that the handshake
    clock times). OpenSSL's time is in `SSLObject.do_handshake`."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        samples = Path(scratch) / "samples.txt"
        result = twin.run(
            [
                py_spy,
                "record",
                "--rate",
                str(PROFILE_RATE),
                "--format",
                "raw",
                "--output",
                str(samples),
                "--",
                twin.python,
                str(Path(__file__).resolve()),
                "--once",
                twin.dns_address,
                str(twin.ca_file),
            ],
            input="\n".join(site.domain for site in sites),
            timeout=3600,
        )
        if result.returncode != 0 or not samples.exists():
            print(result.stderr[-4000:], file=sys.stderr)
            return 2
        # py-spy says what it does on the same standard output, each line marked as its own.
        verdicts = [
            line for line in result.stdout.splitlines() if line.strip() and not line.startswith("py-spy>")
        ]
        if not verdicts:
            print(result.stdout[-4000:] + result.stderr[-4000:], file=sys.stderr)
            return 2
        wrong = _wrong_verdicts(verdicts[-1], sites)
        if wrong:
            print(f"wrong verdicts under py-spy: {', '.join(wrong)}", file=sys.stderr)
            return 1
        total, own, within = profile_tables(samples.read_text().splitlines())
    print(f"verify        {total:,} samples in the run over {len(sites)} domains (--smtp off; py-spy)")
    for title, table in (("by its own time", own), ("with what it calls", within)):
        print(f"  {title}:")
        for function, count in table.most_common(PROFILE_ROWS):
            print(f"    {count / max(total, 1):6.1%}  {function}")
    return 0


def profile_tables(lines: list[str]) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """py-spy's raw samples (`frame;frame;... count`, each frame `function (file:line)`) read
    into: the samples taken inside the event loop, and per function, the samples where it is
    the innermost frame, and those where it is on the stack of the task or callback the sample
    caught (once per sample, so that a recursive function is not counted twice). `--once`
    runs nothing but `verify_domains` in its loop, and a task's stack starts at the loop, not
    at the code that made the task, so the loop is what marks the run; start-up and imports
    are left out."""
    total = 0
    own: collections.Counter[str] = collections.Counter()
    within: collections.Counter[str] = collections.Counter()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [_frame_name(frame) for frame in stack.split(";")]
        if _EVENT_LOOP_TURN not in frames:
            continue
        samples = int(count)
        total += samples
        own[frames[-1]] += samples
        # Below the loop's own frames: those of the task (or callback) the sample caught.
        task = len(frames) - frames[::-1].index(_HANDLE_RUN) if _HANDLE_RUN in frames else len(frames)
        for frame in set(frames[task:]):
            within[frame] += samples
    return total, own, within


_EVENT_LOOP_TURN = "BaseEventLoop._run_once (base_events.py)"
_HANDLE_RUN = "Handle._run (events.py)"


def _frame_name(frame: str) -> str:
    """`function (file:line)` as `function (file)`, the file without its folders: one entry
    per function, whichever of its lines was running."""
    function, _, where = frame.partition(" (")
    path = where.rpartition(":")[0] if ":" in where else where.rstrip(")")
    return f"{function} ({path.rsplit('/', 1)[-1]})" if where else function


def report(figures: dict[str, Any], sites: list[Any], domains: list[str], *, peers: bool) -> int:
    """Print the figures against the goals; 1 when a verdict is wrong (the goals only print)."""
    verify_rate = len(domains) / figures["verify_seconds"]
    verify_mx_rate = len(domains) / figures["verify_mx_seconds"]
    floor, alone = figures["floor_seconds"], figures["single_seconds"]
    cpu = figures["cpu_ms_per_domain"]
    print(
        f"verify      {figures['verify_seconds']:7.2f} s  {verify_rate:8.1f} domains/s  "
        f"(concurrency 100, --smtp off, best of {RUNS})"
    )
    print(f"              {cpu:.1f} ms CPU per domain (target: at most {CPU_MS_TARGET:g} ms)")
    handshakes = figures["run_handshakes"] / len(domains)
    each = figures["run_handshake_ms_per_domain"] / handshakes if handshakes else 0.0
    print(
        f"              of which OpenSSL's TLS handshakes {figures['run_handshake_ms_per_domain']:.1f} ms "
        f"({handshakes:.1f} per domain, {each:.2f} ms each, timed in the run)"
    )
    print(
        f"              this host: a handshake alone with the twin takes {figures['handshake_cpu_ms']:.2f} "
        f"ms of CPU, a 100,000-step Python loop {figures['python_loop_ms']:.2f} ms"
    )
    print(
        f"              floor {floor:.2f} s (one domain alone {alone:.2f} s, in waves of 100): "
        f"{figures['verify_seconds'] / floor:.1f} x (target: at most {FLOOR_TARGET:g} x)"
    )
    if len(domains) >= 1000:
        print(
            f"              {len(domains)} domains in {figures['verify_seconds']:.2f} s "
            f"(target for 1,000: under {THOUSAND_SECONDS_TARGET:g} s)"
        )
    print(f"              checks: {', '.join(figures['checks_per_domain'])}")
    slower = figures["verify_mx_seconds"] / figures["verify_seconds"]
    print(
        f"verify + MX {figures['verify_mx_seconds']:7.2f} s  {verify_mx_rate:8.1f} domains/s  "
        f"({figures['mx_probes_passed']} of {figures['mx_entries']} MX addresses passed)"
    )
    print(
        f"MX cost     {slower:7.2f} x  the time without the MX check (target: at most {MX_COST_TARGET:g} x)"
    )
    differing: list[str] = []
    if peers:
        checkdmarc_rate = len(domains) / figures["checkdmarc_seconds"]
        checkdmarc_mx_seconds = figures["checkdmarc_seconds"] + figures["checkdmarc_mx_seconds"]
        checkdmarc_mx_rate = len(domains) / checkdmarc_mx_seconds
        print(
            f"checkdmarc  {figures['checkdmarc_seconds']:7.2f} s  {checkdmarc_rate:8.1f} domains/s  "
            "(one after another)"
        )
        print(f"ratio       {verify_rate / checkdmarc_rate:7.1f} x  (target: at least {RATIO_TARGET:g} x)")
        print(
            f"checkdmarc + check_mx {checkdmarc_mx_seconds:7.2f} s  "
            f"{checkdmarc_mx_rate:6.1f} domains/s  (one after another; "
            f"check_mx {figures['checkdmarc_mx_seconds']:.2f} s, "
            f"STARTTLS seen on {figures['checkdmarc_starttls']} host entries)"
        )
        print(f"ratio       {verify_mx_rate / checkdmarc_mx_rate:7.1f} x  (with the MX checks on both sides)")
        differing = [d for d in domains if figures["verify_valid"][d] != figures["checkdmarc_valid"][d]]
    # Every faulted domain (one in ten) must fail and every other pass.
    sound = {site.domain for index, site in enumerate(sites) if index % 10 != 9}
    wrong = [d for d in domains if figures["verify_valid"][d] != (d in sound)]
    invalid = sum(not valid for valid in figures["verify_valid"].values())
    print(
        f"verdicts    {'identical' if not differing else 'DIFFERENT'}: "
        f"{len(domains) - invalid} valid, {invalid} invalid by verify"
        + ("" if peers else " (checkdmarc not run)")
        + (f"; differing: {', '.join(differing)}" if differing else "")
        + (f"; wrong against the faults built in: {', '.join(wrong)}" if wrong else "")
    )
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 1 if differing or wrong else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
