"""A run's sockets fit the open-file limit: raised where it can be, fitted to it where not.

Before, a limit below what the run's limits could hold (macOS's 256, a container's 128) made
sockets fail with EMFILE mid-run, and with them the first use of the thread that read the
trusted roots, so every domain's MX check failed "unexpectedly"."""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import given
from hypothesis import strategies as st

from mtasts.__main__ import main
from mtasts.verify import VerifyOptions, certs, descriptors
from mtasts.verify.descriptors import MACOS_OPEN_MAX
from mtasts.verify.event_loop import WINDOWS_SOCKETS
from mtasts.verify.mx_check import MxProber
from mtasts.verify.session import in_flight_limits
from tests.test_verify_cli import network
from tests.test_verify_fakes import GOOD_POLICY, Reply, World, good_zone
from tests.test_verify_live import no_file_descriptor_left

DOMAINS = [f"d{n}.example" for n in range(80)]
UNFITTED = in_flight_limits(100, None)


@pytest.fixture
def soft_limit() -> Iterator[None]:
    """This process's open-file limits, restored after the test."""
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, before)


@given(st.integers(1, 10_000), st.integers(0, 5_000) | st.none())
def test_the_limits_fit_the_room_and_are_the_runs_own_where_they_fit(
    concurrency: int, room: int | None
) -> None:
    limits = in_flight_limits(concurrency, room)
    unfitted = in_flight_limits(concurrency, None)
    assert min(limits) >= 1 and limits.fetches <= concurrency and limits.domains == limits.fetches
    if room is None or unfitted.sockets <= room:
        assert limits == unfitted
    else:
        # One of each is the least a run can make progress with.
        assert limits.sockets <= max(room, 4), (limits, room)


def test_the_room_is_the_soft_limit_less_what_is_open_and_the_reserve(soft_limit: None) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors.open_now() + descriptors.RESERVE + 50, hard))
    assert descriptors.room() == 50
    assert descriptors.room("win32") == WINDOWS_SOCKETS


def test_no_limit_is_no_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda _: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert descriptors.room() is None


def test_make_room_raises_the_soft_limit_and_never_lowers_it(soft_limit: None) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip(f"a hard open-file limit of {hard} leaves no room to raise into")
    # Too low for the run, yet above what this process holds (a test run holds many).
    resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors.open_now() + descriptors.RESERVE + 10, hard))
    descriptors.make_room(UNFITTED.sockets)
    assert descriptors.room() == UNFITTED.sockets

    descriptors.make_room(10)
    assert descriptors.room() == UNFITTED.sockets


@pytest.mark.parametrize(("soft", "settled"), [(256, MACOS_OPEN_MAX), (10_500, 10_500)])
def test_where_the_system_refuses_more_than_open_max_make_room_takes_open_max_and_never_less(
    monkeypatch: pytest.MonkeyPatch, soft: int, settled: int
) -> None:
    # macOS: an unlimited hard limit, and setrlimit refusing a soft one above OPEN_MAX.
    limit = [soft]

    def setrlimit(which: int, limits: tuple[int, int]) -> None:
        if limits[0] > MACOS_OPEN_MAX:
            raise ValueError("current limit exceeds maximum limit")
        limit[0] = limits[0]

    monkeypatch.setattr(resource, "getrlimit", lambda _: (limit[0], resource.RLIM_INFINITY))
    monkeypatch.setattr(resource, "setrlimit", setrlimit)
    descriptors.make_room(in_flight_limits(10_000, None).sockets)
    assert limit == [settled]


def test_make_room_stops_at_the_hard_limit() -> None:
    # Lowering a hard limit cannot be undone without privileges: in a process of its own.
    code = (
        "import resource; from mtasts.verify import descriptors\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (64, 128))\n"
        "descriptors.make_room(10_000)\n"
        "print(resource.getrlimit(resource.RLIMIT_NOFILE))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "(128, 128)", done.stderr


def test_the_command_makes_room_for_every_socket_its_run_may_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[int] = []
    monkeypatch.setattr(descriptors, "make_room", asked.append)
    host = "mta-sts.example.com"
    world = World(tmp_path, good_zone("example.com"), {host: Reply(body=GOOD_POLICY.encode())}, [host])
    try:
        assert main(["verify", "example.com", *network(world), "--concurrency", "300"]) == 0
    finally:
        world.close()
    assert asked == [in_flight_limits(300, None).sockets]


def test_under_a_low_limit_that_cannot_be_raised_every_domain_is_checked_as_without(tmp_path: Path) -> None:
    # 80 domains at once, each policy fetch waiting half a second for its response, hold more
    # than 64 descriptors; a hard limit of 64 (a container's) cannot be raised, so the run's
    # limits are fitted to it. Before, every domain here ended could-not-check.
    zone = {}
    for domain in DOMAINS:
        zone.update(good_zone(domain))
    hosts = [f"mta-sts.{domain}" for domain in DOMAINS]
    slow = Reply(body=GOOD_POLICY.encode(), delay=0.5)
    world = World(tmp_path, zone, dict.fromkeys(hosts, slow), hosts)
    argv = [sys.executable, "-m", "mtasts", "verify", "--json", *DOMAINS, *network(world)]
    runs = {}
    try:
        for limit in (None, 64):
            runs[limit] = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=120,
                preexec_fn=None if limit is None else _limited(limit),
            )
    finally:
        world.close()
    outcomes = {
        limit: [found["outcome"] for found in json.loads(run.stdout)["domains"]]
        for limit, run in runs.items()
    }
    assert outcomes[None] == ["passed"] * len(DOMAINS), runs[None].stdout[-2000:]
    assert outcomes[64] == outcomes[None], runs[64].stdout[-3000:]
    assert runs[64].returncode == 0 and "Too many open files" not in runs[64].stdout


def _limited(limit: int) -> Callable[[], None]:
    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return lower


def test_the_roots_are_read_before_the_run_opens_its_sockets(tmp_path: Path) -> None:
    # Read in a thread on first use, mid-run, they failed with the descriptors gone: the
    # import of the thread pool first (every MX check "failed unexpectedly"), or the read of
    # the CA file (no root left to trust, every chain "not trusted").
    world = World(tmp_path, {}, {}, ["mta-sts.example.com"])
    try:

        async def roots_once_descriptors_ran_out() -> list[x509.Certificate]:
            prober = MxProber(world.options)
            with no_file_descriptor_left():
                return list(prober.roots())

        found = asyncio.run(roots_once_descriptors_ran_out())
    finally:
        world.close()
    assert [root.subject for root in found] == [root.subject for root in certs.load_roots(world.ca_file)]


def test_with_the_mx_check_off_the_roots_are_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[object] = []

    def load_roots(ca_file: str | None) -> list[x509.Certificate]:
        read.append(ca_file)
        return []

    monkeypatch.setattr(certs, "load_roots", load_roots)
    MxProber(VerifyOptions(smtp="off"))
    assert read == []
    MxProber(VerifyOptions(smtp="on", ca_file="ca.pem"))
    assert read == ["ca.pem"]
