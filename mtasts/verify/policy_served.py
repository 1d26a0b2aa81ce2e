"""Is the policy file served, as a strict sender fetches it, from every address of its host?

Looks up `mta-sts.<domain>`'s A and AAAA records, fetches the policy from each address and
judges the answers (`checks.policy_file`), optionally against the text a stack expects.
The full verifier reuses the fetch; the stack's readiness resource calls
`check_policy_served_sync`, so the gate and `verify` agree. The other checks (discovery
record, MX coverage, TLS-RPT, ...) are left to `mtasts.verify.verifier`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from mtasts.constants import policy_host
from mtasts.names import normalize
from mtasts.policy import policy_id
from mtasts.verify import event_loop
from mtasts.verify.checks import policy_file
from mtasts.verify.checks.phrasing import unanswered, unexpected
from mtasts.verify.dns import DnsResult, Lookups
from mtasts.verify.https import Client, FetchResult, fetch_policy
from mtasts.verify.model import (
    POLICY_FETCH,
    STACK_DRIFT,
    AddressServed,
    Finding,
    PolicyCheck,
    Status,
    VerifyOptions,
)
from mtasts.verify.session import DOMAIN_BUDGETS, Session
from mtasts.visible import NAMES_LISTED, listing, visible

T = TypeVar("T")


async def fetch_addresses(
    session: Session, lookups: Lookups, host: str
) -> tuple[list[DnsResult], list[FetchResult]]:
    """The A and AAAA answers for `host`, and one fetch per address.

    Each family's fetches start as soon as its own answer is in, so IPv4 and IPv6 overlap.
    """

    async def family(rdtype: str) -> tuple[DnsResult, list[FetchResult]]:
        answer = await lookups.get(host, rdtype)
        if not answer.records:
            return answer, []
        return answer, await fetch_policy(
            session.client, host, list(answer.records), session.options, limit=session.fetch_limit
        )

    (a, from_a), (aaaa, from_aaaa) = await asyncio.gather(family("A"), family("AAAA"))
    return [a, aaaa], from_a + from_aaaa


def judge_fetch(
    host: str, answers: list[DnsResult], attempts: list[FetchResult]
) -> tuple[list[Finding], str | None]:
    """`checks.policy_file.fetch`, with what could not be checked (no DNS answer, no route) set apart."""
    findings = unanswered(POLICY_FETCH, *answers)
    findings += [
        Finding(POLICY_FETCH, Status.UNCHECKED, f"could not check {attempt.address}: {attempt.error}")
        for attempt in attempts
        if attempt.error_kind == "unreachable"
    ]
    reached = [attempt for attempt in attempts if attempt.error_kind != "unreachable"]
    if not reached and findings:
        return findings, None
    judged, text = policy_file.fetch(host, answers, reached)
    return findings + judged, text


def _served(attempt: FetchResult, expected_text: str | None) -> AddressServed:
    served_id = None
    if attempt.error is not None:
        served = f"{attempt.error_kind or 'error'}: {attempt.error}"
    elif attempt.status != 200:
        served = f"HTTP {attempt.status}" + (f" to {visible(attempt.location)}" if attempt.location else "")
    elif attempt.body is None:
        served = "a body over the size limit"
    else:
        served_id = policy_id(attempt.body.decode("utf-8", "replace"))
        served = f"policy id {served_id}"
    body_matches = (
        attempt.error is None
        and attempt.status == 200
        and attempt.body is not None
        and expected_text is not None
        and attempt.body.decode("utf-8", "replace") == expected_text
    )
    return AddressServed(
        attempt.address,
        served,
        body_matches,
        cache_max_age=attempt.cache_max_age,
        cache_seconds_left=attempt.cache_seconds_left,
        policy_id=served_id,
    )


async def check_policy_file(
    domain: str,
    options: VerifyOptions,
    expected_text: str | None = None,
    *,
    client: Client | None = None,
    session: Session | None = None,
) -> PolicyCheck:
    """Fetch and judge the policy file of `domain` from every address (policy-fetch, policy-syntax).

    With `expected_text`, also a `stack-drift` finding saying whether every address serves
    exactly that. The stack's readiness resource waits on `PolicyCheck.served_everywhere`.
    """
    domain = normalize(domain)
    own = session is None
    session = session or Session(options, client=client)
    host = policy_host(domain)
    lookups = Lookups(session.resolver, session.query_limit)
    findings: list[Finding] = []
    text: str | None = None
    served: tuple[AddressServed, ...] = ()
    try:
        async with asyncio.timeout(options.timeout * DOMAIN_BUDGETS):
            addresses, attempts = await fetch_addresses(session, lookups, host)
        fetch_findings, text = judge_fetch(host, addresses, attempts)
        findings += fetch_findings
        served = tuple(_served(attempt, expected_text) for attempt in attempts)
        if text is not None:
            findings += policy_file.syntax(text)[0]
    except TimeoutError:
        findings.append(
            Finding(
                POLICY_FETCH,
                Status.UNCHECKED,
                f"could not check: {host} gave no result within {options.timeout * DOMAIN_BUDGETS:g} s",
            )
        )
    except Exception as error:
        findings.append(Finding(POLICY_FETCH, Status.FAIL, unexpected(error)))
    finally:
        lookups.cancel()
        if own:
            await session.aclose()
    if expected_text is not None:
        stale = [address for address in served if not address.expected]
        if served and not stale:
            findings.append(
                Finding(
                    STACK_DRIFT, Status.PASS, f"every address of {host} serves exactly the expected policy"
                )
            )
        else:
            said = [f"{address.address}: {address.served}" for address in stale]
            seen = listing(said, NAMES_LISTED, show=str, separator="; ") or "no address"
            findings.append(
                Finding(
                    STACK_DRIFT,
                    Status.FAIL,
                    f"{host} does not serve the expected policy (id {policy_id(expected_text)}) from every "
                    f"address ({seen})",
                    "wait for the host to deploy the new file; publish the new id only after it is served",
                )
            )
    return PolicyCheck(findings, text, served)


def check_policy_served_sync(
    domain: str,
    expected_text: str | None,
    *,
    ca_file: str | None = None,
    timeout: float = 10.0,
    nameserver: str | None = None,
    port: int = 53,
    https_port: int = 443,
) -> PolicyCheck:
    """`check_policy_file` for synchronous callers (the stack's readiness resource).

    Runs its own event loop, in a worker thread when the caller already runs one.
    """
    options = VerifyOptions(
        nameserver=nameserver,
        port=port,
        ca_file=ca_file,
        timeout=timeout,
        concurrency=8,
        https_port=https_port,
    )
    return _run_sync(check_policy_file(domain, options, expected_text))


def _run_sync(work: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return event_loop.run(work)
    box: dict[str, Any] = {}

    def runner() -> None:
        try:
            box["value"] = event_loop.run(work)
        except BaseException as error:
            box["error"] = error

    thread = threading.Thread(target=runner, name="mtasts-verify")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]
