"""Keep a program of many domains linear: remove the placeholders the SDK's synchronous invokes leave.

A synchronous invoke (`cloudflare.get_zone(...)`) inside a running program pumps the event
loop itself (`pulumi.runtime.sync_await._sync_await`). Afterwards it pads the loop's ready
queue with cancelled placeholder handles, back to the length the queue had before. The loop
iteration that is running the program expects to pop that many more handles. But that
length counts every handle the program scheduled since the iteration began, and the
placeholders from every earlier invoke. So each invoke leaves more placeholders than the
last, and the next one drains and re-creates them all. A stack of 80 domains spent 90 s
of its 93 s on placeholders, and 200 domains would take 9 minutes.

`trim_placeholders` runs after each of this package's lookups. It reads how many more handles
the running loop iteration will really pop, and removes the surplus placeholders from the
end of the queue. It never drops a real handle (one another thread appends meanwhile is put
back), and it never leaves fewer handles than the iteration pops. Where the loop is not
CPython's own, it does nothing.
"""

from __future__ import annotations

import asyncio
import sys
from asyncio import base_events
from types import FrameType

_RUN_ONCE = base_events.BaseEventLoop._run_once.__code__  # type: ignore[attr-defined]
_PLACEHOLDER = "_sync_await.<locals>.<lambda>"


def trim_placeholders() -> None:
    """Remove the surplus placeholders from the end of the running loop's ready queue."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return  # no loop running: the invoke ran the loop to completion and padded nothing
    ready = getattr(loop, "_ready", None)
    needed = _handles_still_popped()
    if ready is None or needed is None:
        return
    while len(ready) > needed:
        # Worker threads append to the queue at any moment (`call_soon_threadsafe`): pop first,
        # then look, and put back a handle that is not a placeholder, so none is ever lost.
        last = ready.pop()
        if not _is_placeholder(last):
            ready.append(last)
            break


def _handles_still_popped() -> int | None:
    """How many more handles the loop iteration that is running this code will pop, or None if unknown."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code is not _RUN_ONCE:
        frame = frame.f_back
    if frame is None:
        return None
    names = frame.f_locals  # `for i in range(ntodo): handle = self._ready.popleft()`
    ntodo, index = names.get("ntodo"), names.get("i")
    if not isinstance(ntodo, int) or not isinstance(index, int):
        return None
    return max(0, ntodo - index - 1)


def _is_placeholder(handle: object) -> bool:
    callback = getattr(handle, "_callback", None)
    cancelled = bool(getattr(handle, "_cancelled", False))
    return cancelled and getattr(callback, "__qualname__", "") == _PLACEHOLDER
