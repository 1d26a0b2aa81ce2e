"""`retire`: RFC 8461 §8.3 removal, `mode: none` with a new id, and when destroy is safe.

When destroy is safe comes from records kept in the stack's state (pulumi_mta_sts/served.py):
the largest `max_age` the stack ever served (recorded before each policy goes out, and again
after its id is advertised), and the time the first `up` with `retire` advertised the
`mode: none` policy. Tested through the pure core, through the dynamic
provider's create/diff/update as the engine calls them over several `up`s, and under mocks.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pulumi_mta_sts.served import PublishedMaxAgeProvider, ServedPolicyProvider

from mtasts.config import RETIRE_MAX_AGE, parse_settings
from mtasts.desired import ServedRecord, desired_state, next_served_record
from mtasts.policy import Mode, parse_policy
from mtasts.records import unquote_txt
from mtasts.rules import discovery
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


JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def test_destroy_is_safe_after_the_largest_max_age_served_from_the_first_retiring_up() -> None:
    served = next_served_record(
        None, served_max_age=1_209_600, earlier_max_age=1_209_600, retire=False, now=JAN_1
    )
    retiring = next_served_record(
        served, served_max_age=RETIRE_MAX_AGE, earlier_max_age=3600, retire=True, now=JAN_1
    )
    assert retiring.safe_to_destroy_after == JAN_1 + timedelta(seconds=1_209_600)
    later = next_served_record(
        retiring, served_max_age=RETIRE_MAX_AGE, earlier_max_age=3600, retire=True, now=JAN_1 + 3 * DAY
    )
    assert later.safe_to_destroy_after == retiring.safe_to_destroy_after, "a later up must not move it"


def test_lowering_max_age_just_before_retiring_does_not_shorten_the_wait() -> None:
    record = next_served_record(
        None, served_max_age=31_557_600, earlier_max_age=31_557_600, retire=False, now=JAN_1
    )
    record = next_served_record(
        record, served_max_age=3600, earlier_max_age=3600, retire=False, now=JAN_1 + DAY
    )
    record = next_served_record(
        record, served_max_age=RETIRE_MAX_AGE, earlier_max_age=3600, retire=True, now=JAN_1 + 2 * DAY
    )
    assert record.largest_max_age == 31_557_600
    assert record.safe_to_destroy_after == JAN_1 + 2 * DAY + timedelta(seconds=31_557_600)


def test_leaving_retire_clears_the_time_and_retiring_again_pins_a_new_one() -> None:
    retiring = ServedRecord(86_400, JAN_1)
    back = next_served_record(
        retiring, served_max_age=86_400, earlier_max_age=86_400, retire=False, now=JAN_1 + DAY
    )
    assert back == ServedRecord(86_400) and back.safe_to_destroy_after is None
    again = next_served_record(
        back, served_max_age=RETIRE_MAX_AGE, earlier_max_age=86_400, retire=True, now=JAN_1 + 2 * DAY
    )
    assert again.retiring_since == JAN_1 + 2 * DAY


def test_without_a_record_the_configured_max_age_counts_as_served_before() -> None:
    first = next_served_record(
        None, served_max_age=RETIRE_MAX_AGE, earlier_max_age=604_800, retire=True, now=JAN_1
    )
    assert first.largest_max_age == 604_800


class Clock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current


def props(config: dict[str, object]) -> dict[str, object]:
    """The record's inputs as __main__.py gives them for a config."""
    settings = parse_settings(config)
    state = desired_state(settings)
    return {
        "policy_id": state.policy_id,
        "max_age": state.policy.max_age,
        "configured_max_age": settings.configured_policy.max_age,
        "retire": settings.retire,
    }


def up(
    provider: ServedPolicyProvider | PublishedMaxAgeProvider,
    olds: dict[str, object] | None,
    news: dict[str, object],
) -> dict[str, object]:
    """What the engine does on `up`: create, or diff and then update only on a change."""
    if olds is None:
        return dict(provider.create(news).outs or {})
    if not provider.diff("served", olds, news).changes:
        return olds
    return dict(provider.update("served", olds, news).outs or {})


class Records:
    """Both records as the engine keeps them over several `up`s: the one before publishing, then
    (unless the `up` stops before advertising) the one after, fed the first one's output."""

    def __init__(self, clock: Clock) -> None:
        self.served_provider = ServedPolicyProvider(now=clock)
        self.published_provider = PublishedMaxAgeProvider()
        self.served: dict[str, object] | None = None
        self.published: dict[str, object] | None = None

    def served_inputs(self, config: dict[str, object]) -> dict[str, object]:
        assert self.published is not None
        return {**props(config), "published_max_age": self.published["largest_max_age"]}

    def up(self, config: dict[str, object], *, stops_before_advertising: bool = False) -> dict[str, object]:
        self.published = up(self.published_provider, self.published, props(config))
        if not stops_before_advertising:
            self.served = up(self.served_provider, self.served, self.served_inputs(config))
        assert self.served is not None
        return self.served


def test_the_provider_pins_the_time_on_the_first_retiring_up_across_later_ups() -> None:
    clock = Clock(JAN_1)
    records = Records(clock)
    outs = records.up(CONFIG)
    assert outs["safe_to_destroy_after"] is None and outs["largest_max_age"] == 1_209_600
    clock.current = JAN_1 + DAY
    records.up({**CONFIG, "maxAge": 86_400})  # lowered just before retiring
    clock.current = JAN_1 + 2 * DAY
    outs = records.up({**CONFIG, "maxAge": 86_400, "retire": True})
    pinned = (JAN_1 + 2 * DAY + timedelta(seconds=1_209_600)).isoformat()
    assert outs["safe_to_destroy_after"] == pinned
    clock.current = JAN_1 + 5 * DAY
    retired = records.served_inputs({**CONFIG, "maxAge": 86_400, "retire": True})
    assert not records.served_provider.diff("served", outs, retired).changes
    outs = records.up({**CONFIG, "maxAge": 60, "retire": True})  # maxAge changed while retired
    assert outs["safe_to_destroy_after"] == pinned


def test_an_up_that_stopped_after_publishing_still_counts_the_max_age_it_served() -> None:
    """The host serves the new file before `_mta-sts` advertises it, and a sender may fetch it
    then (a new sender, or one whose cached policy expired). If that `up` stops before the
    advertisement (a Cloudflare error, a readiness timeout), the record written after
    advertising never saw the new `max_age`; the one written before publishing did."""
    clock = Clock(JAN_1)
    records = Records(clock)
    records.up({**CONFIG, "maxAge": 604_800})
    clock.current = JAN_1 + DAY
    year = {**CONFIG, "maxAge": 31_557_600}
    outs = records.up(year, stops_before_advertising=True)
    assert outs["largest_max_age"] == 604_800
    clock.current = JAN_1 + 2 * DAY
    outs = records.up({**year, "retire": True})
    assert outs["safe_to_destroy_after"] == (JAN_1 + 2 * DAY + timedelta(seconds=31_557_600)).isoformat()


def test_the_record_before_publishing_only_grows_and_changes_only_with_the_policy() -> None:
    provider = PublishedMaxAgeProvider()
    outs = up(provider, None, props({**CONFIG, "maxAge": 31_557_600}))
    assert not provider.diff("published", outs, props({**CONFIG, "maxAge": 31_557_600})).changes
    outs = up(provider, outs, props({**CONFIG, "maxAge": 86_400}))
    outs = up(provider, outs, props({**CONFIG, "maxAge": 86_400, "retire": True}))
    assert outs["largest_max_age"] == 31_557_600
    assert set(outs) == {"policy_id", "max_age", "configured_max_age", "largest_max_age"}
    assert pickle.loads(pickle.dumps(provider)).create(props(CONFIG)).outs


def test_a_stack_from_before_the_record_before_publishing_updates_its_record_once() -> None:
    """A state written before `published_max_age` existed: the first `up` adds it (an update of
    a record, nothing outside), keeping the largest `max_age` recorded so far."""
    provider = ServedPolicyProvider(now=Clock(JAN_1))
    old_state = dict(provider.create(props(CONFIG)).outs or {})
    del old_state["published_max_age"]
    news = {**props(CONFIG), "published_max_age": 1_209_600}
    outs = up(provider, old_state, news)
    assert outs is not old_state and outs["largest_max_age"] == 1_209_600
    assert not provider.diff("served", outs, news).changes


def test_the_record_in_the_state_holds_no_credential_and_the_provider_pickles_plainly() -> None:
    outs = ServedPolicyProvider().create(props({**CONFIG, "retire": True})).outs or {}
    assert set(outs) == {
        "policy_id",
        "max_age",
        "configured_max_age",
        "retire",
        "published_max_age",
        "largest_max_age",
        "retiring_since",
        "safe_to_destroy_after",
    }
    restored = pickle.loads(pickle.dumps(ServedPolicyProvider()))
    assert restored.create(props(CONFIG)).outs


def test_retired_stack_serves_and_advertises_the_none_policy(stack: Run) -> None:
    run = stack({**CONFIG, "retire": True})
    served = parse_policy(run.named("mta-sts-repo-file-well-known-mta-sts-txt").inputs["content"])
    assert served.mode is Mode.NONE
    advertised = discovery.parse(unquote_txt(run.named("mta-sts-discovery-sts").inputs["content"])).id
    assert advertised == run.exports["policyId"] != desired_state(parse_settings(CONFIG)).policy_id
    # serve before advertise still holds while retiring (RFC 8461 §8)
    assert run.named("mta-sts-readiness").urn in run.named("mta-sts-discovery-sts").dependencies


def test_retired_stack_exports_when_destroy_is_safe_and_says_retire_overrides_mode(stack: Run) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    run = stack({**CONFIG, "retire": True})
    after = datetime.fromisoformat(run.exports["retireSafeToDestroyAfter"])
    assert start + timedelta(seconds=1_209_600) <= after <= datetime.now(UTC) + timedelta(seconds=1_209_600)
    assert any("mode enforce" in w and "pulumi destroy" in w for w in run.warnings)


def test_the_record_of_what_was_served_waits_for_the_new_id_to_be_advertised(stack: Run) -> None:
    run = stack({**CONFIG, "retire": True})
    record = run.named("mta-sts-served")
    assert record.inputs["max_age"] == RETIRE_MAX_AGE and record.inputs["configured_max_age"] == 1_209_600
    assert record.inputs["retire"] is True
    assert run.named("mta-sts-discovery-sts").urn in record.dependencies


def test_the_policy_goes_out_only_after_its_max_age_is_recorded(stack: Run) -> None:
    for hosting, publishers in (
        ("github-pages", ["mta-sts-repo-file-well-known-mta-sts-txt"]),
        ("netlify", ["mta-sts-repo-file-well-known-mta-sts-txt", "mta-sts-netlify-site"]),
    ):
        run = stack({**CONFIG, "hosting": hosting, "retire": True})
        published = run.named("mta-sts-published")
        assert published.inputs["max_age"] == RETIRE_MAX_AGE
        assert published.inputs["configured_max_age"] == 1_209_600
        for name in publishers:
            assert published.urn in run.named(name).dependencies, (hosting, name)
        assert run.named("mta-sts-served").inputs["published_max_age"] == 1_209_600


def test_a_stack_not_retiring_exports_no_destroy_time(stack: Run) -> None:
    assert "retireSafeToDestroyAfter" not in stack(CONFIG).exports
