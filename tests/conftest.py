"""Shared fixtures. `stack` runs the real program under Pulumi mocks (tests/pulumi_mocks.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.pulumi_mocks import StackRun, run_program


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Callable[..., StackRun]:
    """Run __main__.py with a config dict (keys without the `mta-sts:` namespace)."""
    monkeypatch.setenv("NETLIFY_AUTH_TOKEN", "test-netlify-token-not-a-secret")

    def run(config: dict[str, Any], **kwargs: Any) -> StackRun:
        return run_program(config, **kwargs)

    return run
