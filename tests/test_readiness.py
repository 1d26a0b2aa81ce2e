"""The serve-before-advertise gate (RFC 8461 §8): it waits for the new policy on every address,
over a window that outlasts caching, then lets DNS change.

These tests replace the network check with a scripted one; the same provider is driven
against real nginx and NSD in tests/test_e2e_*.py.
"""

from __future__ import annotations

import pickle
import time

import pytest
from pulumi_mta_sts.readiness import SETTLE_FLOOR_SECONDS, PolicyNotServedError, PolicyReadinessProvider

from mtasts.verify import AddressServed, Finding, PolicyCheck, Status

PROPS = {
    "domain": "example.com",
    "policy_text": "version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 86400\n",
    "policy_id": "abc123",
    "timeout_seconds": 2,
    "served_by": "deploy-1",
}
STALE_FINDING = Finding("stack-drift", Status.FAIL, "the served policy differs from the stack's", "wait")


def good(*addresses: str, max_age: int | None = None) -> PolicyCheck:
    served = tuple(
        AddressServed(a, "policy id abc123", True, cache_max_age=max_age, policy_id="abc123")
        for a in addresses
    )
    return PolicyCheck([Finding("policy-fetch", Status.PASS, "ok")], PROPS["policy_text"], served)


GOOD = good("192.0.2.1", "2001:db8::1")


def half(max_age: int | None = None, age: int = 0) -> PolicyCheck:
    """One address still serves the old file; the other already serves the new one."""
    stale = AddressServed(
        "2001:db8::1",
        "policy id old999",
        False,
        cache_max_age=max_age,
        cache_seconds_left=max(0, (max_age or 0) - age),
        policy_id="old999",
    )
    fresh = AddressServed("192.0.2.1", "policy id abc123", True, policy_id="abc123")
    return PolicyCheck([STALE_FINDING], PROPS["policy_text"], (fresh, stale))


HALF = half()


class ScriptedCheck:
    """Answers with the given checks, one per call, then keeps the last one."""

    def __init__(self, *answers: PolicyCheck) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str | None, float]] = []

    def __call__(self, domain: str, expected: str | None, **_: object) -> PolicyCheck:
        self.calls.append((domain, expected, time.monotonic()))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture
def logged() -> list[str]:
    return []


@pytest.fixture
def fast_provider(logged: list[str]) -> PolicyReadinessProvider:
    return PolicyReadinessProvider(first_delay=0.01, max_delay=0.02, settle_floor=0.1, log=logged.append)


def test_create_waits_until_every_address_serves_the_new_policy(
    fast_provider: PolicyReadinessProvider,
) -> None:
    check = ScriptedCheck(HALF, HALF, GOOD)
    fast_provider.policy_check = check
    result = fast_provider.create(dict(PROPS))
    assert check.calls[0][:2] == ("example.com", PROPS["policy_text"])
    assert len(check.calls) >= 2 + 3  # two stale looks, then at least three good ones
    assert result.outs["policy_id"] == "abc123"


def test_one_good_look_is_not_enough_the_window_must_pass_with_repeated_looks(logged: list[str]) -> None:
    check = ScriptedCheck(GOOD)
    provider = PolicyReadinessProvider(
        first_delay=0.02, max_delay=0.05, settle_floor=0.3, log=logged.append, policy_check=check
    )
    provider.create(dict(PROPS))
    assert len(check.calls) >= 3
    assert check.calls[-1][2] - check.calls[0][2] >= 0.3
    assert any("keeping watch" in line for line in logged)


def test_an_address_falling_back_to_the_old_file_starts_the_window_again(
    fast_provider: PolicyReadinessProvider,
) -> None:
    check = ScriptedCheck(GOOD, GOOD, HALF, GOOD)
    fast_provider.policy_check = check
    fast_provider.create(dict(PROPS))
    after_relapse = [call[2] for call in check.calls[3:]]
    assert after_relapse[-1] - after_relapse[0] >= 0.1, "the window must be counted from after the relapse"


def test_the_window_lasts_as_long_as_the_largest_cache_max_age_seen(
    fast_provider: PolicyReadinessProvider,
) -> None:
    check = ScriptedCheck(good("192.0.2.1", max_age=1))
    fast_provider.policy_check = check
    started = time.monotonic()
    fast_provider.create(dict(PROPS))
    assert time.monotonic() - started >= 1.0  # max-age=1 s, longer than the 0.1 s floor


def test_while_waiting_it_logs_which_address_still_serves_what(
    fast_provider: PolicyReadinessProvider, logged: list[str]
) -> None:
    fast_provider.policy_check = ScriptedCheck(half(max_age=1), HALF, GOOD)
    fast_provider.create(dict(PROPS))
    waiting = [line for line in logged if "waiting for every address" in line]
    assert waiting, logged
    assert "192.0.2.1 serves it" in waiting[0]
    assert "2001:db8::1 serves policy id old999 (cacheable for 1 s more)" in waiting[0]


def test_warnings_alone_do_not_hold_the_rollout(fast_provider: PolicyReadinessProvider) -> None:
    warning = Finding("policy-fetch", Status.WARN, "served with charset", "")
    warned = PolicyCheck([warning], "", GOOD.addresses)
    fast_provider.policy_check = ScriptedCheck(warned)
    fast_provider.create(dict(PROPS))


def test_an_unanswered_check_holds_the_rollout(fast_provider: PolicyReadinessProvider) -> None:
    unanswered = PolicyCheck(
        [Finding("policy-fetch", Status.UNCHECKED, "could not check: the resolver did not answer")], None, ()
    )
    fast_provider.policy_check = ScriptedCheck(unanswered)
    with pytest.raises(PolicyNotServedError, match="could not check: the resolver did not answer"):
        fast_provider.create({**PROPS, "timeout_seconds": 0.2})


def test_timeout_names_each_address_what_it_served_and_what_to_do(
    fast_provider: PolicyReadinessProvider,
) -> None:
    fast_provider.policy_check = ScriptedCheck(HALF)
    with pytest.raises(PolicyNotServedError) as caught:
        fast_provider.create({**PROPS, "timeout_seconds": 0.2})
    message = str(caught.value)
    assert "2001:db8::1 serves policy id old999" in message
    assert "differs from the stack's" in message
    assert "_mta-sts record was left unchanged" in message
    assert "readinessTimeout" in message and "`scripts/deploy` again" in message


def test_the_timeout_says_how_long_it_waited_when_the_last_look_ran_past_the_limit(
    fast_provider: PolicyReadinessProvider,
) -> None:
    def slow(domain: str, expected: str) -> PolicyCheck:
        time.sleep(0.8)  # a look over stalling addresses takes up to four fetch timeouts
        return HALF

    fast_provider.policy_check = slow
    with pytest.raises(PolicyNotServedError) as caught:
        fast_provider.create({**PROPS, "timeout_seconds": 0.2})
    message = str(caught.value)
    assert "steadily after 1 s (readinessTimeout 0.2 s" in message, message


def test_update_waits_again_for_the_changed_policy(fast_provider: PolicyReadinessProvider) -> None:
    check = ScriptedCheck(HALF, GOOD)
    fast_provider.policy_check = check
    news = {**PROPS, "policy_text": PROPS["policy_text"].replace("testing", "enforce"), "policy_id": "def456"}
    result = fast_provider.update("id", dict(PROPS), news)
    assert check.calls[-1][:2] == ("example.com", news["policy_text"])
    assert result.outs["policy_id"] == "def456"


def test_the_stack_settles_for_at_least_a_minute() -> None:
    assert PolicyReadinessProvider().settle_floor == SETTLE_FLOOR_SECONDS >= 60


def test_diff_reports_a_change_only_when_what_is_served_changes() -> None:
    provider = PolicyReadinessProvider()
    assert not provider.diff("id", dict(PROPS), {**PROPS, "timeout_seconds": 60}).changes
    assert provider.diff("id", dict(PROPS), {**PROPS, "policy_id": "new"}).changes
    assert provider.diff("id", dict(PROPS), {**PROPS, "served_by": "deploy-2"}).changes


def test_provider_pickles_without_network_state() -> None:
    provider = PolicyReadinessProvider(first_delay=1, max_delay=2, settle_floor=90)
    restored = pickle.loads(pickle.dumps(provider))
    assert (restored.first_delay, restored.max_delay, restored.settle_floor) == (1, 2, 90)


def test_the_timeout_names_the_other_policy_ids_from_the_typed_answer_not_from_its_wording(
    fast_provider: PolicyReadinessProvider,
) -> None:
    worded = AddressServed("2001:db8::1", "an older deploy", False, policy_id="old999")
    unserved = AddressServed("192.0.2.9", "HTTP 404", False)
    fast_provider.policy_check = ScriptedCheck(PolicyCheck([STALE_FINDING], None, (worded, unserved)))
    with pytest.raises(PolicyNotServedError) as caught:
        fast_provider.create({**PROPS, "timeout_seconds": 0.2})
    assert "(other policy ids seen: old999)" in str(caught.value)


def test_a_provider_pickled_before_the_check_was_injected_uses_the_check_verify_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    restored = pickle.loads(pickle.dumps(PolicyReadinessProvider(first_delay=0.01, max_delay=0.02)))
    del restored.__dict__["policy_check"]  # what a provider in an existing stack's state holds
    restored.settle_floor, restored.min_good_looks = 0.0, 1
    check = ScriptedCheck(GOOD)
    monkeypatch.setattr("mtasts.verify.check_policy_served_sync", check)
    restored.create(dict(PROPS))
    assert check.calls and check.calls[0][:2] == ("example.com", PROPS["policy_text"])


def test_a_policy_not_served_is_one_of_the_projects_errors() -> None:
    from mtasts.errors import MtaStsError

    assert issubclass(PolicyNotServedError, MtaStsError)


def many_stale(count: int) -> PolicyCheck:
    """A host with `count` addresses, each serving a policy of its own and failing its own way."""
    served = tuple(
        AddressServed(f"10.0.{i // 256}.{i % 256}", f"policy id old{i:03}", False, policy_id=f"old{i:03}")
        for i in range(count)
    )
    fresh = AddressServed("192.0.2.1", "policy id abc123", True, policy_id="abc123")
    findings = [
        Finding("policy-fetch", Status.FAIL, f"10.0.{i // 256}.{i % 256}: HTTP 404") for i in range(count)
    ]
    return PolicyCheck(findings, None, (fresh, *served))


def test_a_host_with_hundreds_of_addresses_is_reported_ten_at_a_time_the_stale_ones_first(
    fast_provider: PolicyReadinessProvider, logged: list[str]
) -> None:
    fast_provider.policy_check = ScriptedCheck(many_stale(500))
    with pytest.raises(PolicyNotServedError) as caught:
        fast_provider.create({**PROPS, "timeout_seconds": 0.2})
    message = str(caught.value)
    assert "10.0.0.0 serves policy id old000" in message and "192.0.2.1 serves it" not in message
    assert "10.0.0.10 " not in message and "and 491 more" in message  # 500 stale and 1 fresh address
    assert "other policy ids seen: old000, old001" in message and "and 490 more)" in message
    assert "10.0.0.9: HTTP 404" in message and "10.0.0.10: HTTP 404" not in message
    assert len(message) < 3000
    assert logged and max(len(line) for line in logged) < 1500
