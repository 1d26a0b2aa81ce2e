"""`retire`: RFC 8461 §8.3 removal, `mode: none` with a new id, and when destroy is safe."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from mtasts.config import RETIRE_MAX_AGE, parse_settings
from mtasts.desired import desired_state, safe_to_destroy_after
from mtasts.policy import Mode, parse_policy
from mtasts.records import parse_discovery, unquote_txt
from tests.pulumi_mocks import StackRun

Run = Callable[..., StackRun]
CONFIG = {
    "domain": "example.com",
    "mode": "enforce",
    "maxAge": 1_209_600,
    "tlsRpt": ["mailto:tls@example.com"],
}


def test_retire_serves_mode_none_with_a_short_max_age_whatever_the_mode() -> None:
    policy = parse_settings({**CONFIG, "retire": True}).policy
    assert (policy.mode, policy.max_age) == (Mode.NONE, RETIRE_MAX_AGE)


def test_retire_changes_the_policy_id() -> None:
    before = desired_state(parse_settings(CONFIG)).policy_id
    after = desired_state(parse_settings({**CONFIG, "retire": True})).policy_id
    assert before != after


def test_retire_accepts_an_empty_mx_list() -> None:
    assert parse_settings({**CONFIG, "mx": [], "retire": True}).policy.mode is Mode.NONE


def test_destroy_is_safe_after_the_previously_served_max_age() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    settings = parse_settings({**CONFIG, "retire": True})
    assert safe_to_destroy_after(now, settings) == now + timedelta(seconds=1_209_600)
    short = parse_settings({**CONFIG, "maxAge": 3600, "retire": True})
    assert safe_to_destroy_after(now, short) == now + timedelta(seconds=RETIRE_MAX_AGE)


def test_retired_stack_serves_and_advertises_the_none_policy(stack: Run) -> None:
    run = stack({**CONFIG, "retire": True})
    served = parse_policy(run.named("mta-sts-repo-file-well-known-mta-sts-txt").inputs["content"])
    assert served.mode is Mode.NONE
    advertised = parse_discovery(unquote_txt(run.named("mta-sts-discovery-sts").inputs["content"]))
    assert advertised == run.exports["policyId"] != desired_state(parse_settings(CONFIG)).policy_id
    # serve before advertise still holds while retiring (RFC 8461 §8)
    assert run.named("mta-sts-readiness").urn in run.named("mta-sts-discovery-sts").dependencies


def test_retired_stack_exports_when_destroy_is_safe_and_says_retire_overrides_mode(stack: Run) -> None:
    start = datetime.now(UTC)
    run = stack({**CONFIG, "retire": True})
    after = datetime.fromisoformat(run.exports["retireSafeToDestroyAfter"])
    assert start + timedelta(seconds=1_209_599) <= after <= datetime.now(UTC) + timedelta(seconds=1_209_600)
    assert any("mode enforce" in w and "pulumi destroy" in w for w in run.warnings)


def test_a_stack_not_retiring_exports_no_destroy_time(stack: Run) -> None:
    assert "retireSafeToDestroyAfter" not in stack(CONFIG).exports
