"""The verify benchmark's profile reading (`--profile`): py-spy's raw samples into the two
tables it prints; and where it runs the twin's servers. The benchmark itself needs root and a
twin, and only prints figures."""

from __future__ import annotations

import os

import pytest

from bench.verify_benchmark import apart_from_twin, profile_tables

LOOP = (
    "<module> (bench/verify_benchmark.py:590);main (bench/verify_benchmark.py:300);"
    "BaseEventLoop._run_once (lib/python3.11/asyncio/base_events.py:1922);"
    "Handle._run (lib/python3.11/asyncio/events.py:80)"
)


def test_only_the_run_counts_and_each_function_is_named_once_whichever_line_ran() -> None:
    lines = [
        # start-up: not inside the event loop, so not part of the run
        "<module> (bench/verify_benchmark.py:590);_find_and_load (<frozen importlib._bootstrap>:1176) 500",
        f"{LOOP};_fetch_once (mtasts/verify/https.py:370);SSLObject.do_handshake (ssl.py:921) 6",
        f"{LOOP};_fetch_once (mtasts/verify/https.py:380);_get (mtasts/verify/https.py:330) 3",
        # a recursive walk: on the stack twice, counted once for the sample
        f"{LOOP};walk (walk.py:10);walk (walk.py:12) 1",
        "py-spy> 1.00s behind in sampling",  # not a sample
    ]
    total, own, within = profile_tables(lines)
    assert total == 10
    assert own == {"SSLObject.do_handshake (ssl.py)": 6, "_get (https.py)": 3, "walk (walk.py)": 1}
    # The loop's own frames are on every sample of the run: only the task's frames count.
    assert within == {
        "_fetch_once (https.py)": 9,
        "SSLObject.do_handshake (ssl.py)": 6,
        "_get (https.py)": 3,
        "walk (walk.py)": 1,
    }


def test_a_sample_of_the_loop_waiting_counts_as_the_loops_own_time() -> None:
    waiting = "BaseEventLoop._run_once (base_events.py:1);EpollSelector.select (selectors.py:4)"
    lines = [f"<module> (b.py:1);{waiting} 4"]
    total, own, within = profile_tables(lines)
    assert (total, own, within) == (4, {"EpollSelector.select (selectors.py)": 4}, {})


class _Twin:
    def __init__(self) -> None:
        self.confined: list[set[int]] = []

    def confine(self, cpus: set[int]) -> None:
        self.confined.append(cpus)


def test_the_twin_runs_on_every_cpu_but_the_first_and_what_is_measured_on_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_to: list[set[int]] = []
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1, 2})
    monkeypatch.setattr(os, "sched_setaffinity", lambda _, cpus: set_to.append(set(cpus)))
    twin = _Twin()
    with apart_from_twin(twin) as said:
        assert twin.confined == [{1, 2}]
        assert set_to == [{0}]  # this process, and so what it starts
    assert set_to == [{0}, {0, 1, 2}]  # as before, once the measured runs are over
    assert said == "the twin's servers on CPU 1, 2, verify and checkdmarc on CPU 0"


def test_on_one_cpu_nothing_is_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {3})
    monkeypatch.setattr(os, "sched_setaffinity", lambda *_: pytest.fail("nothing to move"))
    twin = _Twin()
    with apart_from_twin(twin) as said:
        pass
    assert twin.confined == []
    assert said.startswith("one CPU")
