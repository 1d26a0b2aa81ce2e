"""Run the checks for one or many domains: every lookup concurrent, every step bounded.

One resolver and one HTTPS client are shared by all domains (a `Session`) for throughput;
domains run concurrently under a semaphore. Per domain, every DNS question is asked at
once; the policy fetch starts as soon as the policy host's addresses are known, and the
TLSA lookups as soon as the MX hosts are. A check that raises becomes a failed finding,
never a crash, and a domain that overruns its time budget reports what it could not finish.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import dns.asyncresolver
import httpx

from mtasts.desired import DesiredState
from mtasts.names import normalize
from mtasts.policy import policy_id
from mtasts.verify import checks
from mtasts.verify.dns import MAX_QUERIES_IN_FLIGHT, DnsResult, Lookups, make_resolver
from mtasts.verify.https import FetchResult, fetch_policy, make_client
from mtasts.verify.model import (
    DANE,
    DISCOVERY,
    DNSSEC,
    INTERNAL,
    MX_COVERAGE,
    POLICY_FETCH,
    POLICY_HOST_CNAME,
    POLICY_HOST_NULL_MX,
    POLICY_HOST_SPF,
    STACK_DRIFT,
    TLS_RPT,
    AddressServed,
    DomainReport,
    Finding,
    PolicyCheck,
    Status,
    VerifyOptions,
)

T = TypeVar("T")

# A domain's lookups and fetch each take at most `timeout`; they overlap, so a few budgets
# bound the whole domain even in the worst chain (addresses → connect/TLS → response).
_DOMAIN_BUDGETS = 4


class Session:
    """One resolver, one HTTPS client and one query limit, shared across domains."""

    def __init__(
        self,
        options: VerifyOptions,
        *,
        resolver: dns.asyncresolver.Resolver | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.options = options
        self.resolver = resolver or make_resolver(options)
        self._own_client = client is None
        self.client = client or make_client(options)
        self.query_limit = asyncio.Semaphore(MAX_QUERIES_IN_FLIGHT)

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def _fetch(session: Session, lookups: Lookups, host: str) -> tuple[list[DnsResult], list[FetchResult]]:
    """The A and AAAA answers for `host`, and one fetch per address.

    Each family's fetches start as soon as its own answer is in, so IPv4 and IPv6 overlap.
    """

    async def family(rdtype: str) -> tuple[DnsResult, list[FetchResult]]:
        answer = await lookups.get(host, rdtype)
        if not answer.records:
            return answer, []
        return answer, await fetch_policy(session.client, host, list(answer.records), session.options)

    (a, from_a), (aaaa, from_aaaa) = await asyncio.gather(family("A"), family("AAAA"))
    return [a, aaaa], from_a + from_aaaa


def _unanswered(check: str, *answers: DnsResult) -> list[Finding]:
    """A "could not check" finding when the resolver gave no usable answer; never a fix to publish."""
    return [
        Finding(check, Status.UNCHECKED, f"could not check: {answer.error}")
        for answer in answers
        if not answer.ok
    ]


def _judge_fetch(
    host: str, answers: list[DnsResult], attempts: list[FetchResult]
) -> tuple[list[Finding], str | None]:
    """`checks.policy_fetch`, with what could not be checked (no DNS answer, no route) set apart."""
    findings = _unanswered(POLICY_FETCH, *answers)
    findings += [
        Finding(POLICY_FETCH, Status.UNCHECKED, f"could not check {attempt.address}: {attempt.error}")
        for attempt in attempts
        if attempt.error_kind == "unreachable"
    ]
    reached = [attempt for attempt in attempts if attempt.error_kind != "unreachable"]
    if not reached and findings:
        return findings, None
    judged, text = checks.policy_fetch(host, answers, reached)
    return findings + judged, text


def _served(attempt: FetchResult, expected_text: str | None) -> AddressServed:
    if attempt.error is not None:
        served = f"{attempt.error_kind or 'error'}: {attempt.error}"
    elif attempt.status != 200:
        served = f"HTTP {attempt.status}" + (f" to {attempt.location}" if attempt.location else "")
    elif attempt.body is None:
        served = "a body over the size limit"
    else:
        served = f"policy id {policy_id(attempt.body.decode('utf-8', 'replace'))}"
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
    )


async def check_policy_file(
    domain: str,
    options: VerifyOptions,
    expected_text: str | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    session: Session | None = None,
) -> PolicyCheck:
    """Fetch and judge the policy file of `domain` from every address (policy-fetch, policy-syntax).

    With `expected_text`, also a `stack-drift` finding saying whether every address serves
    exactly that. The stack's readiness resource waits on `PolicyCheck.served_everywhere`.
    """
    domain = normalize(domain)
    own = session is None
    session = session or Session(options, client=client)
    host = f"mta-sts.{domain}"
    lookups = Lookups(session.resolver, session.query_limit)
    findings: list[Finding] = []
    text: str | None = None
    served: tuple[AddressServed, ...] = ()
    try:
        async with asyncio.timeout(options.timeout * _DOMAIN_BUDGETS):
            addresses, attempts = await _fetch(session, lookups, host)
        fetch_findings, text = _judge_fetch(host, addresses, attempts)
        findings += fetch_findings
        served = tuple(_served(attempt, expected_text) for attempt in attempts)
        if text is not None:
            findings += checks.policy_syntax(text)[0]
    except TimeoutError:
        findings.append(
            Finding(
                POLICY_FETCH,
                Status.UNCHECKED,
                f"could not check: {host} gave no result within {options.timeout * _DOMAIN_BUDGETS:g} s",
            )
        )
    except Exception as error:
        findings.append(
            Finding(
                POLICY_FETCH, Status.FAIL, f"the check failed unexpectedly: {type(error).__name__}: {error}"
            )
        )
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
            seen = "; ".join(f"{address.address}: {address.served}" for address in stale) or "no address"
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
        return asyncio.run(work)
    box: dict[str, Any] = {}

    def runner() -> None:
        try:
            box["value"] = asyncio.run(work)
        except BaseException as error:
            box["error"] = error

    thread = threading.Thread(target=runner, name="mtasts-verify")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


async def _domain_checks(
    domain: str, session: Session, expected: DesiredState | None, report: DomainReport, lookups: Lookups
) -> None:
    host = f"mta-sts.{domain}"
    findings = report.findings
    # Ask every question now; the judgements below await the answers they need.
    for name, rdtype in (
        (f"_mta-sts.{domain}", "TXT"),
        (domain, "MX"),
        (f"_smtp._tls.{domain}", "TXT"),
        (host, "A"),
        (host, "AAAA"),
        (host, "MX"),
        (host, "TXT"),
        (host, "CNAME"),
    ):
        lookups.get(name, rdtype)
    declared: set[tuple[str, str]] = set()
    if expected is not None:
        declared = {(record.name, record.type) for record in expected.records}
        for name, rdtype in declared:
            lookups.get(name, rdtype)

    async def tlsa() -> tuple[list[str], dict[str, DnsResult]]:
        hosts, _ = checks.mx_hosts(domain, await lookups.result(domain, "MX"))
        found = await asyncio.gather(*(lookups.get(f"_25._tcp.{h}", "TLSA") for h in hosts))
        return hosts, dict(zip(hosts, found, strict=True))

    fetch_task = asyncio.ensure_future(_fetch(session, lookups, host))
    tlsa_task = asyncio.ensure_future(tlsa())
    state: dict[str, Any] = {"policy": None}

    async def step(check: str, judge: Callable[[], Awaitable[list[Finding]]]) -> None:
        # One check's bug or unforeseen answer must not hide the others.
        try:
            findings.extend(await judge())
        except Exception as error:
            message = f"the check failed unexpectedly: {type(error).__name__}: {error}"
            findings.append(Finding(check, Status.FAIL, message))

    async def discovery() -> list[Finding]:
        sts = await lookups.result(f"_mta-sts.{domain}", "TXT")
        if not sts.ok:
            return _unanswered(DISCOVERY, sts)
        found, report.policy_id = checks.discovery(domain, sts)
        return found

    async def policy() -> list[Finding]:
        addresses, attempts = await fetch_task
        found, report.policy_text = _judge_fetch(host, addresses, attempts)
        state["fetch_unchecked"] = report.policy_text is None and any(
            finding.status is Status.UNCHECKED for finding in found
        )
        syntax, state["policy"] = checks.policy_syntax(report.policy_text)
        return found + syntax

    async def coverage() -> list[Finding]:
        mx = await lookups.result(domain, "MX")
        if not mx.ok:
            return _unanswered(MX_COVERAGE, mx)
        hosts, found = checks.mx_hosts(domain, mx)
        return found + checks.mx_coverage(domain, hosts, state["policy"])

    async def dnssec() -> list[Finding]:
        answers = [await lookups.result(f"_mta-sts.{domain}", "TXT"), await lookups.result(domain, "MX")]
        return checks.dnssec(domain, answers)

    async def dane() -> list[Finding]:
        return checks.dane(*(await tlsa_task))

    async def drift() -> list[Finding]:
        assert expected is not None
        sts = await lookups.result(f"_mta-sts.{domain}", "TXT")
        answers = {key: await lookups.result(*key) for key in sorted(declared)}
        unanswered = _unanswered(STACK_DRIFT, sts, *(a for a in answers.values() if a is not sts))
        if unanswered or state.get("fetch_unchecked"):
            # Comparing with what could not be seen would call it drift; say what is unknown.
            return unanswered or [
                Finding(STACK_DRIFT, Status.UNCHECKED, "could not check: the policy could not be fetched")
            ]
        return checks.stack_drift(expected, report.policy_id, report.policy_text, answers)

    async def answer(
        check: str, name: str, rdtype: str, judge: Callable[[str, DnsResult], list[Finding]]
    ) -> list[Finding]:
        found = await lookups.result(name, rdtype)
        return _unanswered(check, found) or judge(name, found)

    try:
        await step(DISCOVERY, discovery)
        await step(POLICY_FETCH, policy)
        await step(MX_COVERAGE, coverage)
        await step(
            POLICY_HOST_NULL_MX, lambda: answer(POLICY_HOST_NULL_MX, host, "MX", checks.policy_host_null_mx)
        )
        await step(POLICY_HOST_SPF, lambda: answer(POLICY_HOST_SPF, host, "TXT", checks.policy_host_spf))
        await step(
            POLICY_HOST_CNAME, lambda: answer(POLICY_HOST_CNAME, host, "CNAME", checks.policy_host_cname)
        )
        await step(
            TLS_RPT,
            lambda: answer(TLS_RPT, f"_smtp._tls.{domain}", "TXT", lambda _, a: checks.tls_rpt(domain, a)),
        )
        await step(DNSSEC, dnssec)
        await step(DANE, dane)
        if expected is not None:
            await step(STACK_DRIFT, drift)
    finally:
        fetch_task.cancel()
        tlsa_task.cancel()


async def verify_domain(
    domain: str,
    options: VerifyOptions,
    expected: DesiredState | None = None,
    *,
    session: Session | None = None,
) -> DomainReport:
    """Every check for one domain. Never raises for network trouble; bounded in time."""
    domain = normalize(domain)
    report = DomainReport(domain=domain, findings=[], policy_text=None, policy_id=None)
    own = session is None
    session = session or Session(options)
    lookups = Lookups(session.resolver, session.query_limit)
    budget = options.timeout * _DOMAIN_BUDGETS
    try:
        async with asyncio.timeout(budget):
            await _domain_checks(domain, session, expected, report, lookups)
    except TimeoutError:
        report.findings.append(
            Finding(
                INTERNAL,
                Status.UNCHECKED,
                f"could not check: the checks for {domain} did not finish within {budget:g} s (the resolver "
                "or a server did not answer in time); results are partial",
            )
        )
    except Exception as error:
        report.findings.append(
            Finding(INTERNAL, Status.FAIL, f"the checks failed unexpectedly: {type(error).__name__}: {error}")
        )
    finally:
        lookups.cancel()
        if own:
            await session.aclose()
    return report


async def verify_domains(
    domains: list[str],
    options: VerifyOptions,
    expected: dict[str, DesiredState] | None = None,
) -> list[DomainReport]:
    """Check many domains concurrently (at most `options.concurrency` at once), in input order."""
    limit = asyncio.Semaphore(max(1, options.concurrency))
    expected = {normalize(name): state for name, state in (expected or {}).items()}
    async with Session(options) as session:

        async def one(domain: str) -> DomainReport:
            async with limit:
                return await verify_domain(domain, options, expected.get(normalize(domain)), session=session)

        return list(await asyncio.gather(*(one(domain) for domain in domains)))
