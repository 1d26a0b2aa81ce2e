"""What the stack has served, remembered in its state: the largest `max_age`, and when retiring began.

Two dynamic resources with no outside system behind them: their state is the record, taken
at the two moments that bound what a sender may hold (RFC 8461 §8.3).

- `PublishedMaxAge` runs before the policy file goes out, and records the largest `max_age`
  of any policy the stack may have served. A sender can fetch the file as soon as the host
  serves it, before the `_mta-sts` record advertises its id; so an `up` that fails after
  publishing still leaves the new `max_age` recorded.
- `ServedPolicy` runs after the new id is advertised (`mtasts.desired.next_served_record`):
  it keeps the largest `max_age` too, and the first `up` with `retire` pins the time the
  `mode: none` policy was advertised. `retireSafeToDestroyAfter` is computed from both
  records, so running `up` again, lowering `maxAge` just before retiring, or an `up` that
  failed half way never moves it earlier.

It holds policy ids, numbers and a time only, never a credential. Its provider is pickled
into the state by reference: do not rename or move this module or its classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult
from pulumi_mta_sts.dynamic_resource import DynamicResource

from mtasts.desired import ServedRecord, grown_max_age, next_served_record

# Inputs whose change is a new thing served (or a change of retiring, or a larger `max_age`
# recorded before publishing), to record.
_WATCHED = ("policy_id", "max_age", "retire", "published_max_age")
# Inputs whose change is a new policy about to be published.
_PUBLISHED_WATCHED = ("policy_id", "max_age", "configured_max_age")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _record(outs: Mapping[str, Any] | None) -> ServedRecord | None:
    if not outs or outs.get("largest_max_age") is None:
        return None
    since = outs.get("retiring_since")
    return ServedRecord(int(outs["largest_max_age"]), datetime.fromisoformat(since) if since else None)


class ServedPolicyProvider(ResourceProvider):
    """Keeps the record in the resource's outputs; `now` is injectable for tests."""

    def __init__(self, now: Callable[[], datetime] = _utc_now) -> None:
        super().__init__()
        self.now = now

    def _outputs(self, previous: Mapping[str, Any] | None, news: Mapping[str, Any]) -> dict[str, Any]:
        record = next_served_record(
            _record(previous),
            served_max_age=int(news["max_age"]),
            earlier_max_age=int(news.get("configured_max_age") or 0),
            retire=bool(news["retire"]),
            now=self.now().replace(microsecond=0),
            published_max_age=int(news.get("published_max_age") or 0),
        )
        after = record.safe_to_destroy_after
        return {
            "policy_id": news["policy_id"],
            "max_age": int(news["max_age"]),
            "configured_max_age": int(news.get("configured_max_age") or 0),
            "retire": bool(news["retire"]),
            "published_max_age": int(news.get("published_max_age") or 0),
            "largest_max_age": record.largest_max_age,
            "retiring_since": record.retiring_since.isoformat() if record.retiring_since else None,
            "safe_to_destroy_after": after.isoformat() if after else None,
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"served-{props['policy_id']}", outs=self._outputs(None, props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _WATCHED if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._outputs(olds, news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)  # nothing outside: the state is the record

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


@dataclass(frozen=True)
class ServedPolicyArgs:
    """The policy published by this `up`: its id and `max_age`, the configured policy's `max_age`
    (what was served before `retire` replaced it), whether the stack is retiring, and the
    largest `max_age` recorded before publishing (`PublishedMaxAge.largest_max_age`)."""

    policy_id: str
    max_age: int
    configured_max_age: int
    retire: bool
    published_max_age: pulumi.Input[int]


class ServedPolicy(DynamicResource, module="mtasts", name="ServedPolicy"):
    """The record of what the stack served; `safe_to_destroy_after` is set while retiring."""

    largest_max_age: pulumi.Output[int]
    retiring_since: pulumi.Output[str | None]
    safe_to_destroy_after: pulumi.Output[str | None]

    def __init__(self, name: str, args: ServedPolicyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            ServedPolicyProvider(),
            name,
            {
                "policy_id": args.policy_id,
                "max_age": args.max_age,
                "configured_max_age": args.configured_max_age,
                "retire": args.retire,
                "published_max_age": args.published_max_age,
                "largest_max_age": None,
                "retiring_since": None,
                "safe_to_destroy_after": None,
            },
            opts,
        )


class PublishedMaxAgeProvider(ResourceProvider):
    """Keeps the largest `max_age` of any policy about to be published in the resource's outputs."""

    @staticmethod
    def _outputs(previous: Mapping[str, Any] | None, news: Mapping[str, Any]) -> dict[str, Any]:
        recorded = previous.get("largest_max_age") if previous else None
        largest = grown_max_age(
            None if recorded is None else int(recorded),
            int(news["max_age"]),
            int(news.get("configured_max_age") or 0),
        )
        return {
            "policy_id": news["policy_id"],
            "max_age": int(news["max_age"]),
            "configured_max_age": int(news.get("configured_max_age") or 0),
            "largest_max_age": largest,
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"published-{props['policy_id']}", outs=self._outputs(None, props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _PUBLISHED_WATCHED if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._outputs(olds, news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)  # nothing outside: the state is the record

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


@dataclass(frozen=True)
class PublishedMaxAgeArgs:
    """The policy this `up` is about to publish: its id and `max_age`, and the configured
    policy's `max_age` (what the stack may have served before either record existed)."""

    policy_id: str
    max_age: int
    configured_max_age: int


class PublishedMaxAge(DynamicResource, module="mtasts", name="PublishedMaxAge"):
    """The largest `max_age` the stack may have served, recorded before the policy goes out."""

    largest_max_age: pulumi.Output[int]

    def __init__(
        self, name: str, args: PublishedMaxAgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            PublishedMaxAgeProvider(),
            name,
            {
                "policy_id": args.policy_id,
                "max_age": args.max_age,
                "configured_max_age": args.configured_max_age,
                "largest_max_age": None,
            },
            opts,
        )
