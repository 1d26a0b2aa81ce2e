"""The one way this stack waits for something outside it: poll with bounded exponential backoff.

Every wait (the readiness gate, Netlify deploys, Netlify certificates, Netlify's rate limit)
goes through `poll`, built on tenacity, so backoff, deadlines and what is said on a timeout
behave the same everywhere. It imports only tenacity: the dynamic providers' host re-imports
this module (see pulumi_mta_sts/netlify/provider.py). `Backoff` must keep its name and stay in
this module: the Netlify providers that existing stacks' state holds were pickled with one,
and `pulumi refresh` and `destroy` load it from here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    # Imported by `poll` itself: the program imports this module with every component but
    # waits only during `pulumi up`, so start-up does not pay for tenacity.
    import tenacity

from mtasts.errors import MtaStsError

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Bounded exponential backoff: `initial`, then times `factor`, at most `maximum` seconds.
    Tests pass tiny values."""

    initial: float = 1.0
    maximum: float = 30.0
    factor: float = 2.0


class PollTimeout(MtaStsError, Generic[T]):
    """`done` never held before the time (or the attempts) ran out; `last` is the last result."""

    def __init__(self, last: T, attempts: int, elapsed: float) -> None:
        super().__init__(f"gave up after {attempts} attempt(s) in {elapsed:.0f} s")
        self.last = last
        self.attempts = attempts
        self.elapsed = elapsed


def poll(
    attempt: Callable[[], T],
    *,
    done: Callable[[T], bool],
    timeout: float | None = None,
    max_attempts: int | None = None,
    backoff: Backoff = Backoff(),
    wait_for: Callable[[T], float] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_wait: Callable[[T, float], None] | None = None,
) -> T:
    """Call `attempt` until `done(result)` and return that result.

    Between attempts wait by `backoff`, or `wait_for(last result)` when given (a Retry-After),
    never past the deadline: the last attempt happens at the deadline, so a slow start still
    gets its final look. An exception from `attempt` ends the wait at once; it is the caller's
    to decide what may be retried. Raises `PollTimeout` with the last result otherwise.
    """
    import tenacity

    exponential = tenacity.wait_exponential(
        multiplier=backoff.initial, exp_base=backoff.factor, max=backoff.maximum
    )

    def wait(state: tenacity.RetryCallState) -> float:
        delay = exponential(state)
        if wait_for is not None and state.outcome is not None:
            delay = wait_for(state.outcome.result())
        if timeout is not None:
            delay = min(delay, max(0.0, timeout - (state.seconds_since_start or 0.0)))
        return delay

    stops: list[tenacity.stop.stop_base] = []
    if timeout is not None:
        stops.append(tenacity.stop_after_delay(timeout))
    if max_attempts is not None:
        stops.append(tenacity.stop_after_attempt(max_attempts))

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_wait is not None and state.outcome is not None and state.next_action is not None:
            on_wait(state.outcome.result(), state.next_action.sleep)

    def give_up(state: tenacity.RetryCallState) -> T:
        assert state.outcome is not None
        raise PollTimeout(state.outcome.result(), state.attempt_number, state.seconds_since_start or 0.0)

    retrying = tenacity.Retrying(
        sleep=sleep,
        stop=tenacity.stop_any(*stops) if stops else tenacity.stop_never,
        wait=wait,
        retry=tenacity.retry_if_result(lambda result: not done(result)),
        before_sleep=before_sleep,
        retry_error_callback=give_up,
    )
    return retrying(attempt)
