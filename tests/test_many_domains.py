"""Many domains in one program stay linear: the SDK's synchronous invokes leave placeholder
handles in the event loop's queue, and `loop_padding.trim_placeholders` removes the surplus."""

from __future__ import annotations

import asyncio
import collections
import os
from pathlib import Path

from pulumi.runtime.sync_await import _sync_await
from pulumi_mta_sts.loop_padding import trim_placeholders

from tests.pulumi_mocks import run_example

DOMAINS = 24
PROGRAM = """
import asyncio
import collections
import pulumi
import pulumi_mta_sts as mta_sts

queued = []
for n in range({domains}):
    mta_sts.MtaStsDomain(
        f"shop{{n}}",
        {{
            "domain": f"shop{{n}}.example.net",
            "mode": "testing",
            "mx": [f"mail.shop{{n}}.example.net"],
            "tls_rpt": [f"mailto:tls-reports@shop{{n}}.example.net"],
            "hosting": "github-pages",
        }},
    )
    queued.append(len(asyncio.get_event_loop()._ready))
pulumi.export("queued", queued)
"""


def test_the_event_loops_queue_does_not_grow_with_each_domain(tmp_path: Path) -> None:
    # Each domain's Cloudflare lookups are synchronous invokes. Before the trim, every one left
    # as many placeholders as the queue then held, so the queue grew by a domain's worth of
    # handles per domain (400, 800, ... 9,600 here) and a program's time grew with the square
    # of its domains.
    os.environ.setdefault("NETLIFY_AUTH_TOKEN", "test-netlify-token-not-a-secret")
    (tmp_path / "__main__.py").write_text(PROGRAM.format(domains=DOMAINS))

    queued = run_example(tmp_path, "many-domains").exports["queued"]

    assert len(queued) == DOMAINS
    assert max(queued) < 2 * queued[0], queued


def test_trimming_keeps_every_real_handle_and_as_many_as_the_loop_iteration_still_pops() -> None:
    loop = asyncio.new_event_loop()
    ran: list[object] = []

    async def program() -> None:
        for n in range(20):
            _sync_await(asyncio.sleep(0))  # drains the queue, then pads it with placeholders
            trim_placeholders()
            loop.call_soon(ran.append, f"after invoke {n}")

    def start() -> asyncio.Task[None]:
        # The program's first step and 50 handles after it make one loop iteration, which
        # pops all 51: too few left after a trim would end it with "pop from an empty deque".
        task = loop.create_task(program())
        for n in range(50):
            loop.call_soon(ran.append, n)
        return task

    try:
        task = start()
        loop.run_until_complete(task)
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
    assert sorted(map(str, ran)) == sorted(map(str, [*range(50), *(f"after invoke {n}" for n in range(20))]))


def test_outside_a_running_loop_trimming_does_nothing() -> None:
    trim_placeholders()


def test_a_handle_another_thread_appends_during_the_trim_is_never_lost() -> None:
    loop = asyncio.new_event_loop()
    ran: list[str] = []

    class Racing(collections.deque):  # type: ignore[type-arg]
        """A ready queue to which a worker thread appends just as the trim takes from its end."""

        raced = False

        def pop(self) -> object:
            if not self.raced:
                self.raced = True
                loop.call_soon_threadsafe(ran.append, "from a worker thread")
            return super().pop()

    async def program() -> None:
        _sync_await(asyncio.sleep(0))
        loop._ready = Racing(loop._ready)  # type: ignore[attr-defined]
        trim_placeholders()

    def start() -> asyncio.Task[None]:
        task = loop.create_task(program())
        for n in range(5):
            loop.call_soon(ran.append, str(n))
        return task

    try:
        loop.run_until_complete(start())
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
    assert "from a worker thread" in ran
