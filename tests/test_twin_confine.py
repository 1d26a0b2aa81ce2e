"""`confine`: the benchmark keeps the twin's servers off the CPU that the measured run uses."""

from __future__ import annotations

import os
import time

from tests.twin.namespace import NamespacedServers, missing_requirements
from tests.twin.namespace import test_marks as marks

pytestmark = marks("confining a namespace's processes", missing_requirements("confine", {}))


class _Sleeper(NamespacedServers):
    def _start(self) -> None:
        self._create_namespace(["10.77.0.1"])
        self._spawn("sleeper", ["sleep", "60"])

    def pids(self) -> list[int]:
        deadline = time.monotonic() + 5
        while not (pids := self._namespace_pids()) and time.monotonic() < deadline:
            time.sleep(0.02)
        return pids


def test_every_process_in_the_namespace_is_moved_and_none_outside_it() -> None:
    ours = os.sched_getaffinity(0)
    with _Sleeper("confine") as namespace:
        pids = namespace.pids()
        assert pids
        first = min(os.sched_getaffinity(pids[0]))
        namespace.confine({first})
        assert all(os.sched_getaffinity(pid) == {first} for pid in pids)
    assert os.sched_getaffinity(0) == ours
