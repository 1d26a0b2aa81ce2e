"""The one wait helper (components/polling.py): backoff, deadline, and what it gives up with."""

from __future__ import annotations

import itertools

import pytest

from components.polling import Backoff, PollTimeout, poll


def test_the_wait_grows_by_the_factor_up_to_the_maximum_and_stops_when_done() -> None:
    slept: list[float] = []
    counter = itertools.count(1)
    result = poll(lambda: next(counter), done=lambda n: n == 6, backoff=Backoff(1, 4, 2), sleep=slept.append)
    assert result == 6
    assert slept == [1, 2, 4, 4, 4]


def test_it_gives_up_at_the_deadline_with_the_last_result_after_a_last_look() -> None:
    looks: list[int] = []
    counter = itertools.count(1)

    def attempt() -> int:
        looks.append(next(counter))
        return looks[-1]

    with pytest.raises(PollTimeout) as caught:
        poll(attempt, done=lambda _: False, timeout=0.2, backoff=Backoff(0.05, 0.05))
    assert caught.value.last == looks[-1] and caught.value.attempts == len(looks) >= 3
    assert 0.2 <= caught.value.elapsed < 0.5


def test_an_exception_from_an_attempt_ends_the_wait_at_once() -> None:
    calls: list[int] = []

    def attempt() -> int:
        calls.append(1)
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError, match="refused"):
        poll(attempt, done=lambda _: True, timeout=5, sleep=lambda _: None)
    assert len(calls) == 1


def test_wait_for_takes_the_delay_from_the_last_result_and_max_attempts_bounds_the_tries() -> None:
    slept: list[float] = []
    with pytest.raises(PollTimeout) as caught:
        poll(lambda: 7.0, done=lambda _: False, max_attempts=3, wait_for=lambda r: r, sleep=slept.append)
    assert slept == [7.0, 7.0] and caught.value.attempts == 3


def test_on_wait_hears_each_result_and_the_coming_delay() -> None:
    heard: list[tuple[int, float]] = []
    counter = itertools.count(1)
    poll(
        lambda: next(counter),
        done=lambda n: n == 3,
        backoff=Backoff(0.5, 1),
        sleep=lambda _: None,
        on_wait=lambda result, delay: heard.append((result, delay)),
    )
    assert heard == [(1, 0.5), (2, 1.0)]


def test_a_poll_timeout_is_one_of_the_projects_errors() -> None:
    from mtasts.errors import MtaStsError

    assert issubclass(PollTimeout, MtaStsError)
