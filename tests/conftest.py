"""Shared fixtures. `stack` runs the real program under Pulumi mocks (tests/pulumi_mocks.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

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
