"""Shared fixtures. `stack` runs the real program under Pulumi mocks (tests/pulumi_mocks.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mtasts.verify.mx_tls import MxToday
from tests.pulumi_mocks import FailedRun, StackRun, run_failing_program, run_program


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Callable[..., StackRun]:
    """Run __main__.py with a config dict (keys without the `mta-sts:` namespace)."""
    monkeypatch.setenv("NETLIFY_AUTH_TOKEN", "test-netlify-token-not-a-secret")
    return run_program


@pytest.fixture
def failing_stack(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FailedRun]:
    """Run __main__.py on a config it must refuse: its error, and what it registered first."""
    monkeypatch.setenv("NETLIFY_AUTH_TOKEN", "test-netlify-token-not-a-secret")
    return run_failing_program


@pytest.fixture(autouse=True)
def no_mx_probe_leaves_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """`reports --stack` probes the stack domain's live MX hosts on port 25: never from a test.
    A test that wants a verdict sets its own with monkeypatch."""
    monkeypatch.setattr(
        "mtasts.verify.mx_check.live_mx_today_sync",
        lambda domain, **_: MxToday(unchecked="not probed in tests"),
    )
