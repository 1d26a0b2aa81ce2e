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
    DomainReport,
    Finding,
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


async def _fetch(session: Session, lookups: Lookups, host: str) -> tuple[DnsResult, list[FetchResult]]:
    """Fetch over IPv4 as soon as the A answer is in (both hosting providers serve IPv4); IPv6
    is tried when there is no IPv4 address or none of them could be reached."""
    a = await lookups.get(host, "A")
    attempts = await fetch_policy(session.client, host, list(a.records), session.options) if a.records else []
    if attempts and attempts[-1].error_kind not in ("connect", "timeout"):
        return a, attempts
    aaaa = await lookups.get(host, "AAAA")
    if aaaa.records:
        attempts += await fetch_policy(session.client, host, list(aaaa.records), session.options)
    return (a if a.records or not aaaa.records else aaaa), attempts


async def check_policy_file(
    domain: str,
    options: VerifyOptions,
    expected_text: str | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    session: Session | None = None,
) -> tuple[list[Finding], str | None]:
    """Fetch and judge the policy file of `domain` (policy-fetch, policy-syntax).

    With `expected_text`, also a `stack-drift` finding saying whether the served text is
    exactly that. The stack's readiness resource waits until this reports no failure.
    """
    domain = normalize(domain)
    own = session is None
    session = session or Session(options, client=client)
    host = f"mta-sts.{domain}"
    lookups = Lookups(session.resolver, session.query_limit)
    findings: list[Finding] = []
    text: str | None = None
    try:
        async with asyncio.timeout(options.timeout * _DOMAIN_BUDGETS):
            addresses, attempts = await _fetch(session, lookups, host)
        fetch_findings, text = checks.policy_fetch(host, addresses, attempts)
        findings += fetch_findings
        if text is not None:
            findings += checks.policy_syntax(text)[0]
    except TimeoutError:
        findings.append(
            Finding(
                POLICY_FETCH, Status.FAIL, f"{host}: no result within {options.timeout * _DOMAIN_BUDGETS:g} s"
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
        if text == expected_text:
            findings.append(Finding(STACK_DRIFT, Status.PASS, f"{host} serves exactly the expected policy"))
        else:
            seen = "nothing usable" if text is None else f"a policy with id {policy_id(text)}"
            findings.append(
                Finding(
                    STACK_DRIFT,
                    Status.FAIL,
                    f"{host} serves {seen}, not the expected policy (id {policy_id(expected_text)})",
                    "wait for the host to deploy the new file; publish the new id only after it is served",
                )
            )
    return findings, text


def check_policy_served_sync(
    domain: str,
    expected_text: str | None,
    *,
    ca_file: str | None = None,
    timeout: float = 10.0,
    nameserver: str | None = None,
    port: int = 53,
) -> tuple[list[Finding], str | None]:
    """`check_policy_file` for synchronous callers (the stack's readiness resource).

    Runs its own event loop, in a worker thread when the caller already runs one.
    """
    options = VerifyOptions(nameserver=nameserver, port=port, ca_file=ca_file, timeout=timeout, concurrency=1)
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
        found, report.policy_id = checks.discovery(domain, await lookups.result(f"_mta-sts.{domain}", "TXT"))
        return found

    async def policy() -> list[Finding]:
        addresses, attempts = await fetch_task
        found, report.policy_text = checks.policy_fetch(host, addresses, attempts)
        syntax, state["policy"] = checks.policy_syntax(report.policy_text)
        return found + syntax

    async def coverage() -> list[Finding]:
        hosts, found = checks.mx_hosts(domain, await lookups.result(domain, "MX"))
        return found + checks.mx_coverage(domain, hosts, state["policy"])

    async def dnssec() -> list[Finding]:
        answers = [await lookups.result(f"_mta-sts.{domain}", "TXT"), await lookups.result(domain, "MX")]
        return checks.dnssec(domain, answers)

    async def dane() -> list[Finding]:
        return checks.dane(*(await tlsa_task))

    async def drift() -> list[Finding]:
        assert expected is not None
        answers = {key: await lookups.result(*key) for key in sorted(declared)}
        return checks.stack_drift(expected, report.policy_id, report.policy_text, answers)

    async def answer(
        name: str, rdtype: str, judge: Callable[[str, DnsResult], list[Finding]]
    ) -> list[Finding]:
        return judge(name, await lookups.result(name, rdtype))

    try:
        await step(DISCOVERY, discovery)
        await step(POLICY_FETCH, policy)
        await step(MX_COVERAGE, coverage)
        await step(POLICY_HOST_NULL_MX, lambda: answer(host, "MX", checks.policy_host_null_mx))
        await step(POLICY_HOST_SPF, lambda: answer(host, "TXT", checks.policy_host_spf))
        await step(POLICY_HOST_CNAME, lambda: answer(host, "CNAME", checks.policy_host_cname))
        await step(
            TLS_RPT, lambda: answer(f"_smtp._tls.{domain}", "TXT", lambda _, a: checks.tls_rpt(domain, a))
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
                Status.FAIL,
                f"checks for {domain} did not finish within {budget:g} s; results are partial",
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
