"""The serve-before-advertise gate (RFC 8461 §8): it waits for the new policy, then lets DNS change.

These tests replace the network check with a scripted one; the same provider is driven
against real nginx and NSD in tests/test_e2e_*.py.
"""

from __future__ import annotations

import pickle

import pytest

from components import readiness
from components.readiness import PolicyNotServedError, PolicyReadinessProvider
from mtasts.verify import Finding, Status

PROPS = {
    "domain": "example.com",
    "policy_text": "version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400\n",
    "policy_id": "abc123",
    "timeout_seconds": 0.3,
    "served_by": "deploy-1",
}
STALE = Finding("policy-fetch", Status.FAIL, "the served policy differs from the stack's", "wait")


class ScriptedCheck:
    """Answers with the given findings, one list per call, then keeps the last one."""

    def __init__(self, *answers: list[Finding]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str | None]] = []

    def __call__(self, domain: str, expected: str | None, **_: object) -> tuple[list[Finding], str | None]:
        self.calls.append((domain, expected))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer, None


@pytest.fixture
def fast_provider() -> PolicyReadinessProvider:
    return PolicyReadinessProvider(first_delay=0.01, max_delay=0.02)


def test_create_waits_until_the_new_policy_is_served(
    monkeypatch: pytest.MonkeyPatch, fast_provider: PolicyReadinessProvider
) -> None:
    check = ScriptedCheck([STALE], [STALE], [])
    monkeypatch.setattr(readiness, "check_policy_served_sync", check)
    result = fast_provider.create(dict(PROPS))
    assert len(check.calls) == 3
    assert check.calls[0] == ("example.com", PROPS["policy_text"])
    assert result.outs["policy_id"] == "abc123"


def test_warnings_alone_do_not_hold_the_rollout(
    monkeypatch: pytest.MonkeyPatch, fast_provider: PolicyReadinessProvider
) -> None:
    warning = Finding("policy-fetch", Status.WARN, "served with charset", "")
    monkeypatch.setattr(readiness, "check_policy_served_sync", ScriptedCheck([warning]))
    fast_provider.create(dict(PROPS))


def test_timeout_says_what_was_seen_and_what_to_do(
    monkeypatch: pytest.MonkeyPatch, fast_provider: PolicyReadinessProvider
) -> None:
    monkeypatch.setattr(readiness, "check_policy_served_sync", ScriptedCheck([STALE]))
    with pytest.raises(PolicyNotServedError) as caught:
        fast_provider.create(dict(PROPS))
    message = str(caught.value)
    assert "differs from the stack's" in message
    assert "_mta-sts record was left unchanged" in message
    assert "readinessTimeout" in message and "pulumi up" in message


def test_update_waits_again_for_the_changed_policy(
    monkeypatch: pytest.MonkeyPatch, fast_provider: PolicyReadinessProvider
) -> None:
    check = ScriptedCheck([STALE], [])
    monkeypatch.setattr(readiness, "check_policy_served_sync", check)
    news = {**PROPS, "policy_text": PROPS["policy_text"].replace("testing", "enforce"), "policy_id": "def456"}
    result = fast_provider.update("id", dict(PROPS), news)
    assert check.calls[-1] == ("example.com", news["policy_text"])
    assert result.outs["policy_id"] == "def456"


def test_diff_reports_a_change_only_when_what_is_served_changes() -> None:
    provider = PolicyReadinessProvider()
    assert not provider.diff("id", dict(PROPS), {**PROPS, "timeout_seconds": 60}).changes
    assert provider.diff("id", dict(PROPS), {**PROPS, "policy_id": "new"}).changes
    assert provider.diff("id", dict(PROPS), {**PROPS, "served_by": "deploy-2"}).changes


def test_provider_pickles_without_network_state() -> None:
    restored = pickle.loads(pickle.dumps(PolicyReadinessProvider(first_delay=1, max_delay=2)))
    assert (restored.first_delay, restored.max_delay) == (1, 2)
