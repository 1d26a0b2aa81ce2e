"""The verify benchmark's profile reading (`--profile`): py-spy's raw samples into the two
tables it prints. The benchmark itself needs root and a twin, and only prints figures."""

from __future__ import annotations

from bench.verify_benchmark import profile_tables

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
