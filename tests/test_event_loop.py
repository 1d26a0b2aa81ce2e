"""`verify` and the readiness check on systems whose default event loop cannot watch sockets.

Windows' default loop, the Proactor, raises NotImplementedError for `add_reader` and
`add_writer`, which the policy fetch and the DNS stub use; `mtasts.verify.event_loop.run`
runs them on a selector loop instead. Windows is not here, so its default is stood in for by
a loop that refuses those calls the same way, and what else differs there (no fork hook, the
errno a connect in progress reports, select()'s 512 sockets) is checked by its own rule.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mtasts.__main__ import main
from mtasts.verify import check_policy_served_sync, descriptors, https
from mtasts.verify.event_loop import WINDOWS_SOCKETS
from mtasts.verify.session import in_flight_limits
from tests.test_verify_cli import HOST, network
from tests.test_verify_fakes import GOOD_POLICY, Reply, World, good_zone

REPO = Path(__file__).resolve().parents[1]


class _ProactorLike(asyncio.SelectorEventLoop):
    """Refuses readiness callbacks as Windows' ProactorEventLoop does."""

    def add_reader(self, *args: object) -> None:  # type: ignore[override]
        raise NotImplementedError

    def add_writer(self, *args: object) -> None:  # type: ignore[override]
        raise NotImplementedError


class _ProactorLikePolicy(asyncio.DefaultEventLoopPolicy):
    _loop_factory = _ProactorLike  # type: ignore[assignment]


@pytest.fixture
def proactor_by_default() -> Iterator[None]:
    before = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(_ProactorLikePolicy())
    try:
        yield
    finally:
        asyncio.set_event_loop_policy(before)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path, good_zone("example.com"), {HOST: Reply(body=GOOD_POLICY.encode())}, [HOST])
    yield world
    world.close()


def test_the_stand_in_refuses_what_the_fetch_needs(proactor_by_default: None) -> None:
    async def watch() -> None:
        asyncio.get_running_loop().add_reader(0, print)

    with pytest.raises(NotImplementedError):
        asyncio.run(watch())


def test_verify_passes_when_the_default_loop_cannot_watch_sockets(
    world: World, proactor_by_default: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", "example.com", *network(world)]) == 0
    assert "PASS  policy-fetch" in capsys.readouterr().out


def test_the_readiness_check_sees_the_policy_inside_and_outside_such_a_loop(
    world: World, proactor_by_default: None
) -> None:
    options = world.options

    def check() -> bool:
        return check_policy_served_sync(
            "example.com",
            GOOD_POLICY,
            ca_file=options.ca_file,
            timeout=2.0,
            nameserver="127.0.0.1",
            port=options.port,
            https_port=options.https_port,
        ).served_everywhere

    async def inside() -> bool:
        assert isinstance(asyncio.get_running_loop(), _ProactorLike)
        return check()

    assert check()
    assert asyncio.run(inside())


def test_verify_imports_where_os_has_no_fork_hook() -> None:
    # Windows' os module has neither fork nor register_at_fork (the standard library asks for
    # the first); the DNS stub's ID batch must not need the second.
    code = "import os; del os.fork, os.register_at_fork; import mtasts.verify.dns, mtasts.verify.verifier"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "components"), str(REPO)])}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_a_connect_in_progress_reads_as_windows_reports_it() -> None:
    assert https.connecting_errors("win32") == {errno.EINPROGRESS, errno.EWOULDBLOCK}
    # On Linux EWOULDBLOCK is EAGAIN, which from a connect means no local port was free.
    assert https.connecting_errors("linux") == {errno.EINPROGRESS}


class _ReportsWouldBlock:
    """A real non-blocking socket whose connect in progress answers as on Windows."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def connect_ex(self, address: tuple[str, int]) -> int:
        error = self._sock.connect_ex(address)
        return errno.EWOULDBLOCK if error == errno.EINPROGRESS else error

    def __getattr__(self, name: str) -> object:
        return getattr(self._sock, name)


@pytest.mark.parametrize(("platform", "connects"), [("win32", True), ("linux", False)])
def test_the_fetch_waits_for_a_connect_windows_says_would_block(
    monkeypatch: pytest.MonkeyPatch, platform: str, connects: bool
) -> None:
    monkeypatch.setattr(https, "_CONNECTING", https.connecting_errors(platform))
    with socket.create_server(("127.0.0.1", 0)) as server, socket.socket() as sock:
        sock.setblocking(False)
        port = server.getsockname()[1]
        connect = https._tcp_connect(_ReportsWouldBlock(sock), "127.0.0.1", port)  # type: ignore[arg-type]
        if connects:
            asyncio.run(connect)
            assert sock.getpeername() == ("127.0.0.1", port)
        else:
            with pytest.raises(OSError) as raised:
                asyncio.run(connect)
            assert raised.value.errno == errno.EWOULDBLOCK


@pytest.mark.parametrize("concurrency", [1, 100, 500, 10_000])
def test_on_windows_the_sockets_in_flight_stay_within_what_select_watches(concurrency: int) -> None:
    queries, fetches, probes = in_flight_limits(concurrency, descriptors.room("win32"))
    # A query may hold two sockets: its batch's UDP one and, answered truncated, a TCP one.
    assert 2 * queries + fetches + probes <= WINDOWS_SOCKETS == 510
    assert min(queries, probes) >= 50 and fetches >= 1
    assert fetches == min(concurrency, WINDOWS_SOCKETS - 2 * queries - probes)


def test_unbounded_the_limits_are_the_run_s_own() -> None:
    assert in_flight_limits(10_000, None) == (256, 10_000, 200)
    assert in_flight_limits(0, None)[1] == 1
