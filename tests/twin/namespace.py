"""A private network namespace with the servers started in it: the ground every twin stands on.

`NamespacedServers` owns what the DNS/HTTPS twin (`servers.Twin`) and the IMAP twin
(`imap.ImapTwin`) have in common: a namespace of its own (nothing is routed out of it) with
loopback addresses, files under `/etc/netns/<ns>/` that `ip netns exec` mounts over `/etc`
(resolv.conf, hosts), a temp dir, server processes in their own process groups, a wait until
they listen, commands run inside, and a teardown that removes all of it, also when the body
of the `with` raised. Subclasses write their servers' configuration in `_start()`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
_counter = itertools.count()


def binary(name: str) -> str:
    """A Debian server binary, found on PATH or in /usr/sbin (root's PATH may lack it)."""
    return shutil.which(name) or str(Path("/usr/sbin", name))


def missing_requirements(what: str, packages: Mapping[str, str]) -> str | None:
    """Why `what` cannot run here (binary → the Debian package that brings it), or None."""
    if os.geteuid() != 0:
        return f"{what} needs root (network namespaces); CI runs scripts/test as root"
    for name, package in {"ip": "iproute2", **packages}.items():
        if shutil.which(name) is None and not Path("/usr/sbin", name).exists():
            return f"{name!r} is not installed (scripts/test installs {package} as root)"
    return None


def test_marks(what: str, missing: str | None) -> list[pytest.MarkDecorator]:
    """`pytestmark` of a real-server module: marked `servers`, and skipped with the reason when
    a requirement is missing, except where MTASTS_REQUIRE_SERVERS (root CI) demands them."""
    return [
        pytest.mark.servers,
        pytest.mark.skipif(
            missing is not None and not os.environ.get("MTASTS_REQUIRE_SERVERS"),
            reason=f"{what}: {missing}",
        ),
    ]


class NamespacedServers:
    """Servers reachable only inside the network namespace `self.name`."""

    def __init__(self, prefix: str) -> None:
        self.name = f"{prefix}-{os.getpid()}-{next(_counter)}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self._netns_dir = Path("/etc/netns", self.name)
        self._namespace = False
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    # lifecycle

    def __enter__(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _start(self) -> None:
        raise NotImplementedError

    def _stop_strays(self) -> None:
        """End what still runs in the namespace outside the process groups started here:
        Postfix's master starts a session of its own, so killing the group missed it."""
        for signum in (signal.SIGTERM, signal.SIGKILL):
            deadline = time.monotonic() + 5
            while pids := self._namespace_pids():
                if time.monotonic() > deadline:
                    break
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signum)
                time.sleep(0.05)
            else:
                return

    def _namespace_pids(self) -> list[int]:
        listed = subprocess.run(
            ["ip", "netns", "pids", self.name], check=False, capture_output=True, text=True
        )
        return [int(pid) for pid in listed.stdout.split() if pid.isdigit()]

    def confine(self, cpus: set[int]) -> None:
        """Run every process now in the namespace, each of its threads, and what they start
        later (which inherits it), on `cpus` only.

        For a benchmark: the servers and the delaying proxy stand for machines elsewhere, so
        they should not take turns on the CPU that the program being measured runs on."""
        for pid in self._namespace_pids():
            with contextlib.suppress(OSError):  # a process or thread that has just exited
                for thread in os.listdir(f"/proc/{pid}/task"):
                    with contextlib.suppress(OSError):
                        os.sched_setaffinity(int(thread), cpus)

    def close(self) -> None:
        for _, process in reversed(self._processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for _, process in reversed(self._processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        self._processes.clear()
        if self._namespace:
            self._stop_strays()
            subprocess.run(["ip", "netns", "delete", self.name], check=False, capture_output=True)
            self._namespace = False
        shutil.rmtree(self._netns_dir, ignore_errors=True)
        if not os.environ.get("MTASTS_TWIN_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    # the namespace and its processes

    def _create_namespace(
        self, addresses: Iterable[str], addresses_v6: Iterable[str] = (), etc: Mapping[str, str] | None = None
    ) -> None:
        """The namespace with loopback up and these addresses on it; `etc` files (name → text)
        are mounted over /etc by `ip netns exec` for every process started inside."""
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
        self._namespace = True
        self._netns_dir.mkdir(parents=True, exist_ok=True)
        for name, text in (etc or {}).items():
            (self._netns_dir / name).write_text(text)
        commands = [["ip", "link", "set", "lo", "up"]]
        commands += [["ip", "addr", "add", f"{address}/32", "dev", "lo"] for address in addresses]
        commands += [
            ["ip", "-6", "addr", "add", f"{address}/128", "dev", "lo", "nodad"] for address in addresses_v6
        ]
        for command in commands:
            subprocess.run(["ip", "netns", "exec", self.name, *command], check=True, capture_output=True)

    def _spawn(self, label: str, argv: Sequence[str]) -> None:
        log = open(self.dir / f"{label}.out", "wb")  # noqa: SIM115 - the process owns it until close()
        process = subprocess.Popen(
            ["ip", "netns", "exec", self.name, *argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so close() can stop it and its children
        )
        log.close()
        self._processes.append((label, process))

    def _server_log(self, label: str) -> str:
        """What a server that exited left behind; subclasses add their servers' own log files."""
        return (self.dir / f"{label}.out").read_text(errors="replace")

    def _wait_listening(self, endpoints: Sequence[str], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            for label, process in self._processes:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{label} exited with {process.returncode} in {self.name}:\n{self._server_log(label)}"
                    )
            sockets = self._run_plain(["ss", "-Hlntu"]).stdout
            missing = [endpoint for endpoint in endpoints if f"{endpoint} " not in sockets]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{', '.join(missing)} not listening in {self.name} after {timeout}s")
            time.sleep(0.05)

    def _run_plain(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *argv], capture_output=True, text=True, check=True, timeout=30
        )

    # commands inside

    def environment(self) -> dict[str, str]:
        """The environment of commands run inside; subclasses add their CA and credentials."""
        return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = False,
        timeout: float = 120,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace (from the repository root) and capture its output."""
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *argv],
            cwd=REPO_ROOT,
            env=dict(env) if env is not None else self.environment(),
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
            input=input,
        )
