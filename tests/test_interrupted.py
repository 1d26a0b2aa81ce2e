"""Ctrl-C during a command: a one-line message and status 130 (128 + SIGINT, as shells report
an interrupted command), never a traceback; it used to print the KeyboardInterrupt traceback
of wherever the command happened to be."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def interrupted_once_reached(
    argv: list[str], server: socket.socket, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run `python -m mtasts argv`, wait until it reaches `server` (which never answers), press Ctrl-C."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mtasts", *argv],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    server.settimeout(60)
    with contextlib.ExitStack() as held:
        try:
            if server.type == socket.SOCK_DGRAM:
                server.recvfrom(512)  # the first DNS question
            else:
                held.enter_context(server.accept()[0])  # the IMAP connection: open, and silent
        finally:
            process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    return process.returncode, err


def test_verify_interrupted_says_so_in_one_line() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        argv = [
            "verify",
            "example.com",
            "--nameserver",
            "127.0.0.1",
            "--nameserver-port",
            str(port),
            "--timeout",
            "30",
        ]
        status, err = interrupted_once_reached(argv, silent)
    assert status == 130 and "Traceback" not in err, err
    assert err.strip() == "interrupted (Ctrl-C): stopped before the end; nothing more was written"


def test_reports_interrupted_says_so_in_one_line(tmp_path: Path) -> None:
    import os

    with socket.socket() as stalled:
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(1)
        port = stalled.getsockname()[1]
        page = tmp_path / "page.html"
        argv = [
            "reports",
            "--imap",
            f"imap://u@127.0.0.1:{port}/INBOX",
            "--imap-timeout",
            "60",
            "--html",
            str(page),
        ]
        env = {**os.environ, "MTASTS_IMAP_PASSWORD": "a-long-enough-password"}
        status, err = interrupted_once_reached(argv, stalled, env)
    assert status == 130 and "Traceback" not in err, err
    assert err.strip() == "interrupted (Ctrl-C): stopped before the end; nothing more was written"
    assert not page.exists()
