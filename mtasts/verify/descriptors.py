"""How many sockets one `verify` run may hold at once, and the open-file limit that bounds it.

Each policy fetch and MX probe in flight holds a socket, each DNS query up to two; at the
default limits a run may hold about 800. The usual open-file limit is 1,024 on Linux and
256 on macOS, and a container's may be lower: past it every new socket fails with EMFILE,
and so does anything else the run opens (a module imported on first use, a trust store),
so addresses go unchecked and checks fail for this machine's reasons. The command line
raises the soft limit as far as the hard one allows (`make_room`); `Session` fits the run's
limits to whatever room is left (`room`), so a low limit makes a run slower, never wrong.
"""

from __future__ import annotations

import contextlib
import os
import sys

from mtasts.verify.event_loop import WINDOWS_SOCKETS

# Descriptors kept free for what a run opens besides its sockets: trust stores read, modules
# imported on first use, the event loop's own, a Pulumi program's connections opened meanwhile.
RESERVE = 32
# OPEN_MAX of macOS's <sys/syslimits.h>: its setrlimit refuses a soft limit above it (or above
# kern.maxfilesperproc) even when the hard limit is unlimited, as it is there by default.
MACOS_OPEN_MAX = 10240


def open_now() -> int:
    """Descriptors this process holds (0 where the system does not list them)."""
    for folder in ("/proc/self/fd", "/dev/fd"):  # Linux; macOS and the BSDs
        with contextlib.suppress(OSError):
            return len(os.listdir(folder))
    return 0


def room(platform: str = sys.platform) -> int | None:
    """Sockets a run may add to what this process holds now; None when nothing bounds them.

    On Windows the bound is what its selector loop watches (`event_loop.WINDOWS_SOCKETS`);
    elsewhere the soft open-file limit, less the descriptors open now and `RESERVE`."""
    if platform == "win32":
        return WINDOWS_SOCKETS
    try:
        import resource
    except ImportError:  # no open-file limit to read
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    return max(0, soft - open_now() - RESERVE)


def make_room(sockets: int) -> None:
    """Raise the soft open-file limit so that `sockets` more fit (`room`), as far as the hard
    limit allows; never lower it. Where the system refuses that much (macOS, past OPEN_MAX),
    as much as it allows there; where it refuses that too, the limit stays: `room` says less."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = open_now() + RESERVE + sockets
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    for raised in dict.fromkeys((wanted, min(wanted, MACOS_OPEN_MAX))):
        if raised <= soft:
            break  # never lower it
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            return
        except (ValueError, OSError):
            continue  # refused: try the next, or keep the limit as it was
