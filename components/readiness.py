"""Serve before advertise: a resource that exists once the new policy is really served.

`PolicyReadiness` succeeds only when https://mta-sts.<domain>/.well-known/mta-sts.txt
answers as a strict sender needs (HTTP 200, no redirect, a certificate valid for the
host, text/plain, exactly the rendered policy). The `_mta-sts` record depends on it, so
the new id is published only after the new file is served (RFC 8461 §8). The check is the
one `verify` runs (`mtasts.verify.check_policy_served_sync`), not a second copy.

Dynamic-provider methods run only on `pulumi up`: preview never polls.
"""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from mtasts.verify import Status, check_policy_served_sync

# Inputs whose change means the new policy must be seen served again.
_WATCHED = ("domain", "policy_text", "policy_id", "served_by")


class PolicyNotServedError(Exception):
    pass


class PolicyReadinessProvider(ResourceProvider):
    """Polls the policy URL with backoff until it serves `policy_text` or time runs out."""

    def __init__(self, first_delay: float = 5.0, max_delay: float = 60.0) -> None:
        super().__init__()
        self.first_delay = first_delay
        self.max_delay = max_delay

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
        domain, expected = props["domain"], props["policy_text"]
        deadline = time.monotonic() + float(props["timeout_seconds"])
        delay = self.first_delay
        while True:
            findings, _served = check_policy_served_sync(domain, expected)
            failures = [finding for finding in findings if finding.status is Status.FAIL]
            if not failures:
                return
            if time.monotonic() + delay > deadline:
                seen = "; ".join(finding.message for finding in failures)
                raise PolicyNotServedError(
                    f"https://mta-sts.{domain}/.well-known/mta-sts.txt does not serve the new policy "
                    f"(id {props['policy_id']}) after {props['timeout_seconds']} s. Last seen: {seen}. "
                    "The _mta-sts record was left unchanged, so senders keep the policy they have. "
                    "Certificates on Netlify and GitHub Pages can take many minutes after DNS points at "
                    "them: run `pulumi up` again later, or raise `readinessTimeout`; "
                    f"`python -m mtasts verify {domain}` shows the details."
                )
            time.sleep(delay)
            delay = min(delay * 2, self.max_delay)


class PolicyReadiness(Resource, module="mtasts", name="PolicyReadiness"):
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
