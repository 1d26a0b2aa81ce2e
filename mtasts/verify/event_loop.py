"""The event loop `verify` and the stack's readiness check run on: asyncio's selector loop, on
every system.

The policy fetch and the DNS stub watch their sockets with `add_reader`/`add_writer`
(`mtasts.verify.https` and `mtasts.verify.dns` say why), which Windows' default loop, the
Proactor, does not offer (it raises NotImplementedError); the selector loop offers them
everywhere, and is already the default elsewhere. Windows' selector loop watches at most 512
sockets (select()'s FD_SETSIZE in CPython's build there): `Session` keeps below that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# Sockets a selector loop can watch on Windows, less the two of its own wake-up pair.
WINDOWS_SOCKETS = 512 - 2


def run(work: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(work)` on a selector event loop, whatever the platform's default."""
    with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
        return runner.run(work)
