"""Serve before advertise: a resource that exists once the new policy is really served everywhere.

`PolicyReadiness` succeeds only when https://mta-sts.<domain>/.well-known/mta-sts.txt
answers as a strict sender needs (HTTP 200, no redirect, a certificate valid for the host,
text/plain, exactly the rendered policy) from every A and AAAA address the host resolves
to, on every look, for a settling window that outlasts the host's caching: the largest
Cache-Control max-age any answer carried, and at least a minute. A host with several
addresses, or a cache in front of it, can serve the old file from one of them after another
already serves the new one; a sender that fetched there would cache the old policy under the
new id. The `_mta-sts` record depends on this resource, so the new id is published only
after that (RFC 8461 §8). The check is the one `verify` runs
(`mtasts.verify.check_policy_served_sync`), not a second copy; the provider takes it as an
argument (tests hand it a scripted one), and reads the ids served from its typed answer.

While it waits it logs which addresses still serve what. Dynamic-provider methods run only
on `pulumi up`: preview never polls.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult
from pulumi_mta_sts.dynamic_resource import DynamicResource
from pulumi_mta_sts.polling import Backoff, PollTimeout, poll

from mtasts.constants import policy_url
from mtasts.errors import MtaStsError
from mtasts.policy import policy_id
from mtasts.visible import NAMES_LISTED, listing

if TYPE_CHECKING:
    from mtasts.verify import PolicyCheck

# Inputs whose change means the new policy must be seen served again.
_WATCHED = ("domain", "policy_text", "policy_id", "served_by")

# The shortest settling window: a host's deploy reaches its edges within seconds to a minute
# even when it says nothing about caching.
SETTLE_FLOOR_SECONDS = 60.0
# Looks at every address, all serving the new policy, before the window may close.
MIN_GOOD_LOOKS = 3


class PolicyNotServedError(MtaStsError):
    """The new policy was not served everywhere in time; the message says what was seen."""


# What the gate looks at: (domain, expected policy text) → the policy as every address serves it.
PolicyCheckFn = Callable[[str, str], "PolicyCheck"]


def _check_served(domain: str, expected_text: str) -> PolicyCheck:
    # Imported here, not at the top: verify brings dnspython's asynchronous resolver (about
    # 80 ms), which only `pulumi up`'s provider methods need, never the program's start-up.
    from mtasts.verify import check_policy_served_sync

    return check_policy_served_sync(domain, expected_text)


def _log_info(message: str) -> None:
    # A Python dynamic provider has no engine connection (pulumi.log would only print, see
    # https://github.com/pulumi/pulumi/pull/20409): its stderr is what the engine receives.
    print(f"info: {message}", file=sys.stderr, flush=True)


@dataclass
class ServedWatch:
    """What the gate has seen so far; `look` adds one `PolicyCheck` taken at `now`.

    The window is the floor or the largest max-age any answer carried, whichever is longer: a
    cache that took the old file just before the switch may keep serving it that long. Any
    look that is not the new policy everywhere starts the window again.
    """

    expected_id: str
    floor: float
    min_looks: int = MIN_GOOD_LOOKS
    largest_max_age: int = 0
    good_since: float | None = None
    good_looks: int = 0
    last: PolicyCheck | None = None
    now: float = 0.0
    seen_ids: set[str] = field(default_factory=set)

    @property
    def window(self) -> float:
        return max(self.floor, float(self.largest_max_age))

    @property
    def settled_for(self) -> float:
        return 0.0 if self.good_since is None else self.now - self.good_since

    @property
    def ready(self) -> bool:
        return (
            self.good_since is not None
            and self.good_looks >= self.min_looks
            and self.settled_for >= self.window
        )

    def look(self, check: PolicyCheck, now: float) -> ServedWatch:
        self.last, self.now = check, now
        for address in check.addresses:
            self.largest_max_age = max(self.largest_max_age, address.cache_max_age or 0)
            if address.policy_id is not None:
                self.seen_ids.add(address.policy_id)
        if check.served_everywhere:
            if self.good_since is None:
                self.good_since, self.good_looks = now, 0
            self.good_looks += 1
        else:
            self.good_since, self.good_looks = None, 0
        return self

    def addresses(self) -> str:
        """What each address served, those still wrong first, ten of them and a count: the
        host's DNS chooses how many addresses there are, and this is logged on every look."""
        if self.last is None or not self.last.addresses:
            return "no address answered"
        parts = []
        for a in sorted(self.last.addresses, key=lambda a: a.expected):
            cached = f" (cacheable for {a.cache_seconds_left} s more)" if a.cache_seconds_left else ""
            parts.append(f"{a.address} serves it" if a.expected else f"{a.address} serves {a.served}{cached}")
        return listing(parts, NAMES_LISTED, show=str, separator="; ")

    def problems(self) -> str:
        from mtasts.verify import Status  # loaded already by the look that set `last`

        if self.last is None:
            return "nothing yet"
        found = [f.message for f in self.last.findings if f.status in (Status.FAIL, Status.UNCHECKED)]
        # One finding per address that failed: bounded as the addresses are.
        return listing(found, NAMES_LISTED, show=str, separator="; ") or (
            "no failure, but the settling window did not close"
        )

    def progress(self, next_look: float) -> str:
        if self.good_since is not None:
            return (
                f"every address serves policy id {self.expected_id} ({self.good_looks} look(s) over "
                f"{self.settled_for:.0f} s); keeping watch until {self.window:.0f} s have passed, the time a "
                f"cache may keep the old file; next look in {next_look:.0f} s"
            )
        return (
            f"waiting for every address to serve policy id {self.expected_id}: {self.addresses()}; "
            f"next look in {next_look:.0f} s"
        )


class PolicyReadinessProvider(ResourceProvider):
    """Polls the policy URL with backoff until every address has served `policy_text` for the window.

    `settle_floor` is the shortest window (tests shorten it; the stack uses the default).
    `policy_check` looks once at every address; None is `verify`'s own check (not `check`:
    that name is the engine's input check, which every provider has).
    """

    # Providers pickled into existing stacks' state before `policy_check` existed have no such
    # attribute: they find this one, and use `verify`'s check.
    policy_check: PolicyCheckFn | None = None

    def __init__(
        self,
        first_delay: float = 5.0,
        max_delay: float = 15.0,
        settle_floor: float = SETTLE_FLOOR_SECONDS,
        min_good_looks: int = MIN_GOOD_LOOKS,
        log: Callable[[str], None] = _log_info,
        policy_check: PolicyCheckFn | None = None,
    ) -> None:
        super().__init__()
        self.policy_check = policy_check
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.settle_floor = settle_floor
        self.min_good_looks = min_good_looks
        self.log = log

    def create(self, props: dict[str, Any]) -> CreateResult:
        self.wait_until_served(props)
        return CreateResult(id_=f"{props['domain']}-policy-readiness", outs=dict(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self.wait_until_served(news)
        return UpdateResult(outs=dict(news))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _WATCHED if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def wait_until_served(self, props: dict[str, Any]) -> None:
        check = self.policy_check or _check_served
        domain, expected = props["domain"], props["policy_text"]
        url = policy_url(domain)
        watch = ServedWatch(
            expected_id=str(props.get("policy_id") or policy_id(expected)),
            floor=self.settle_floor,
            min_looks=self.min_good_looks,
        )
        timeout = float(props["timeout_seconds"])
        started = time.monotonic()
        try:
            poll(
                lambda: watch.look(check(domain, expected), time.monotonic()),
                done=lambda seen: seen.ready,
                timeout=timeout,
                backoff=Backoff(initial=self.first_delay, maximum=self.max_delay),
                on_wait=lambda seen, delay: self.log(f"{url}: {seen.progress(delay)}"),
            )
        except PollTimeout:
            old = sorted(watch.seen_ids - {watch.expected_id})
            raise PolicyNotServedError(
                f"{url} does not serve the new policy (id {watch.expected_id}) from every address "
                f"steadily after {time.monotonic() - started:.0f} s (readinessTimeout {timeout:g} s; a "
                f"look under way when it passed is finished). Last seen: {watch.addresses()}"
                + (f" (other policy ids seen: {listing(old, NAMES_LISTED, show=str)})" if old else "")
                + f". Problems: {watch.problems()}. "
                f"Every address must serve it for {watch.window:.0f} s (served everywhere for "
                f"{watch.settled_for:.0f} s). "
                "The _mta-sts record was left unchanged, so senders keep the policy they have. "
                "Certificates on Netlify and GitHub Pages can take many minutes after DNS points at "
                "them: run `scripts/deploy` again later, or raise `readinessTimeout`; "
                f"`python -m mtasts verify {domain}` shows the details."
            ) from None


class PolicyReadiness(DynamicResource, module="mtasts", name="PolicyReadiness"):
    """Exists once the policy is served; `served_by` ties it to what publishes the file."""

    policy_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        domain: str,
        policy_text: str,
        policy_id: str,
        timeout_seconds: int,
        served_by: pulumi.Input[Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            PolicyReadinessProvider(),
            name,
            {
                "domain": domain,
                "policy_text": policy_text,
                "policy_id": policy_id,
                "timeout_seconds": timeout_seconds,
                "served_by": served_by,
            },
            opts,
        )
