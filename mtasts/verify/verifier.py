"""Run every check for one or many domains: every lookup concurrent, every step bounded.

Domains run concurrently under a semaphore, sharing one `Session`. Per domain, every DNS
question is asked at once; the policy fetch (`policy_served`) starts as soon as the policy
host's addresses are known, and the TLSA lookups as soon as the MX hosts are. A check that
raises becomes a failed finding, never a crash, and a domain that overruns its time budget
reports what it could not finish. Judging is left to `mtasts.verify.checks`, asking DNS to
`mtasts.verify.dns`, fetching to `mtasts.verify.https`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Any

from mtasts import constants
from mtasts.constants import discovery_name, tls_rpt_name
from mtasts.desired import DesiredState
from mtasts.names import normalize
from mtasts.verify.checks import (
    discovery,
    dnssec,
    mx_coverage,
    mx_tls,
    policy_file,
    policy_host,
    stack_drift,
    tlsrpt,
)
from mtasts.verify.checks.phrasing import unanswered, unexpected
from mtasts.verify.dns import DnsResult, Lookups
from mtasts.verify.model import (
    DANE,
    DISCOVERY,
    DNSSEC,
    INTERNAL,
    MX_COVERAGE,
    MX_TLS,
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
from mtasts.verify.mx_check import MxCheck, run_mx_check, tlsa_answers
from mtasts.verify.mx_tls import SmtpMode
from mtasts.verify.policy_served import fetch_addresses, judge_fetch
from mtasts.verify.session import DOMAIN_BUDGETS, Session


def domain_questions(domain: str) -> tuple[tuple[str, str], ...]:
    """The (name, type) questions every domain's checks need, asked before any is judged."""
    host = constants.policy_host(domain)
    return (
        (discovery_name(domain), "TXT"),
        (domain, "MX"),
        (tls_rpt_name(domain), "TXT"),
        (host, "A"),
        (host, "AAAA"),
        (host, "MX"),
        (host, "TXT"),
        (host, "CNAME"),
    )


def stack_questions(expected: DesiredState) -> set[tuple[str, str]]:
    """The questions `stack-drift` judges: every (name, type) the stack declares, and the apex
    MX, whose hosts the stack's policy must cover even when the stack does not publish them
    (RFC 8461 §4.1; without `proton` the mail provider's records are not the stack's)."""
    declared = {(record.name, record.type) for record in expected.records}
    return declared | {(expected.settings.domain, "MX")}


async def _domain_checks(
    domain: str, session: Session, expected: DesiredState | None, report: DomainReport, lookups: Lookups
) -> None:
    host = constants.policy_host(domain)
    findings = report.findings
    compared = stack_questions(expected) if expected is not None else set()
    # Ask every question now; the judgements below await the answers they need.
    for name, rdtype in (*domain_questions(domain), *compared):
        lookups.get(name, rdtype)

    async def tlsa() -> tuple[list[str], dict[str, DnsResult]]:
        hosts, _ = mx_coverage.hosts(domain, await lookups.result(domain, "MX"))
        return hosts, await tlsa_answers(session.mx, hosts)

    async def mx_check() -> MxCheck:
        hosts, _ = mx_coverage.hosts(domain, await lookups.result(domain, "MX"))
        return await run_mx_check(session.mx, hosts)

    smtp = SmtpMode(session.options.smtp)
    fetch_task = asyncio.ensure_future(fetch_addresses(session, lookups, host))
    tlsa_task = asyncio.ensure_future(tlsa())
    mx_task = asyncio.ensure_future(mx_check()) if smtp is not SmtpMode.OFF else None
    state: dict[str, Any] = {"policy": None}

    async def step(check: str, judge: Callable[[], Awaitable[list[Finding]]]) -> None:
        # One check's bug or unforeseen answer must not hide the others.
        try:
            findings.extend(await judge())
        except Exception as error:
            findings.append(Finding(check, Status.FAIL, unexpected(error)))

    async def judge_discovery() -> list[Finding]:
        sts = await lookups.result(discovery_name(domain), "TXT")
        if not sts.ok:
            return unanswered(DISCOVERY, sts)
        found, report.policy_id = discovery.judge(domain, sts)
        return found

    async def judge_policy() -> list[Finding]:
        addresses, attempts = await fetch_task
        found, report.policy_text = judge_fetch(host, addresses, attempts)
        state["fetch_unchecked"] = report.policy_text is None and any(
            finding.status is Status.UNCHECKED for finding in found
        )
        syntax, state["policy"] = policy_file.syntax(report.policy_text)
        return found + syntax

    async def judge_coverage() -> list[Finding]:
        mx = await lookups.result(domain, "MX")
        if not mx.ok:
            return unanswered(MX_COVERAGE, mx)
        hosts, found = mx_coverage.hosts(domain, mx)
        return found + mx_coverage.judge(domain, hosts, state["policy"])

    async def judge_dnssec() -> list[Finding]:
        answers = [await lookups.result(discovery_name(domain), "TXT"), await lookups.result(domain, "MX")]
        return dnssec.validation(domain, answers)

    async def judge_dane() -> list[Finding]:
        return dnssec.dane(*(await tlsa_task))

    async def judge_mx_tls() -> list[Finding]:
        assert mx_task is not None
        found = await mx_task
        report.mx_tls = found.entries
        policy = state["policy"]
        judge = partial(
            mx_tls.judge,
            found.entries,
            found.probes,
            mode=policy.mode.value if policy is not None else None,
            patterns=policy.mx if policy is not None else None,
            smtp=smtp,
        )
        blocked = not session.mx.reached_port_25
        judged = judge(machine_blocked=blocked)
        if blocked and mx_tls.port_25_blocked(found.probes):
            # Blocked as far as the run knows yet; if a later probe connects, these MX hosts
            # are this domain's trouble after all (`Session.settle_port_25`).
            session.unsettled.append(partial(_replace, findings, judged, judge(machine_blocked=False)))
        return found.findings + judged

    async def judge_drift() -> list[Finding]:
        assert expected is not None
        sts = await lookups.result(discovery_name(domain), "TXT")
        answers = {key: await lookups.result(*key) for key in sorted(compared)}
        missing = unanswered(STACK_DRIFT, sts, *(a for a in answers.values() if a is not sts))
        if missing or state.get("fetch_unchecked"):
            # Comparing with what could not be seen would call it drift; say what is unknown.
            return missing or [
                Finding(STACK_DRIFT, Status.UNCHECKED, "could not check: the policy could not be fetched")
            ]
        return stack_drift.judge(expected, report.policy_id, report.policy_text, answers)

    async def answer(
        check: str, name: str, rdtype: str, judge: Callable[[str, DnsResult], list[Finding]]
    ) -> list[Finding]:
        found = await lookups.result(name, rdtype)
        return unanswered(check, found) or judge(name, found)

    try:
        await step(DISCOVERY, judge_discovery)
        await step(POLICY_FETCH, judge_policy)
        await step(MX_COVERAGE, judge_coverage)
        await step(POLICY_HOST_NULL_MX, lambda: answer(POLICY_HOST_NULL_MX, host, "MX", policy_host.null_mx))
        await step(POLICY_HOST_SPF, lambda: answer(POLICY_HOST_SPF, host, "TXT", policy_host.spf))
        await step(POLICY_HOST_CNAME, lambda: answer(POLICY_HOST_CNAME, host, "CNAME", policy_host.cname))
        await step(
            TLS_RPT,
            lambda: answer(TLS_RPT, tls_rpt_name(domain), "TXT", lambda _, a: tlsrpt.judge(domain, a)),
        )
        await step(DNSSEC, judge_dnssec)
        await step(DANE, judge_dane)
        if mx_task is not None:
            await step(MX_TLS, judge_mx_tls)
        if expected is not None:
            await step(STACK_DRIFT, judge_drift)
    finally:
        fetch_task.cancel()
        tlsa_task.cancel()
        if mx_task is not None:
            mx_task.cancel()


def _replace(findings: list[Finding], old: list[Finding], new: list[Finding]) -> None:
    """`old`, a run of `findings`, replaced by `new` in its place."""
    for start, finding in enumerate(findings):
        if finding is old[0]:
            findings[start : start + len(old)] = new
            return


async def verify_domain(
    domain: str,
    options: VerifyOptions,
    expected: DesiredState | None = None,
    *,
    session: Session | None = None,
) -> DomainReport:
    """Every check for one domain. Never raises for network trouble; bounded in time.

    With a `session` shared by several calls, whether port 25 is blocked here is the whole
    run's to say: a report that says so is judged again, in place, when a later call's MX
    probe connects.
    """
    domain = normalize(domain)
    report = DomainReport(domain=domain, findings=[], policy_text=None, policy_id=None)
    own = session is None
    session = session or Session(options)
    lookups = Lookups(session.resolver, session.query_limit)
    budget = options.timeout * DOMAIN_BUDGETS
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
        report.findings.append(Finding(INTERNAL, Status.FAIL, unexpected(error, "the checks")))
    finally:
        lookups.cancel()
        session.settle_port_25()
        if own:
            await session.aclose()
    return report


# Container allocations between two runs of the cyclic garbage collector's youngest generation,
# while many domains are checked (the interpreter's default is 700).
_GC_ALLOCATIONS_PER_RUN = 20_000


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the garbage collector less often for a while, then as before.

    Checking a domain allocates thousands of short-lived containers (tasks, futures, frames,
    answers) that reference counting frees; at the default threshold the collector still ran
    hundreds of times per hundred domains, walking every report kept so far: a twentieth of
    `verify`'s CPU. Nothing `verify` makes needs the collector to be freed in time."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], _GC_ALLOCATIONS_PER_RUN), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


async def verify_domains(
    domains: list[str],
    options: VerifyOptions,
    expected: dict[str, DesiredState] | None = None,
) -> list[DomainReport]:
    """Check many domains concurrently (at most `options.concurrency` at once), in input order."""
    expected = {normalize(name): state for name, state in (expected or {}).items()}
    with _fewer_collections():
        async with Session(options) as session:
            limit = asyncio.Semaphore(session.limits.domains)  # `concurrency`, unless fitted to fewer sockets

            async def one(domain: str) -> DomainReport:
                async with limit:
                    return await verify_domain(
                        domain, options, expected.get(normalize(domain)), session=session
                    )

            reports = list(await asyncio.gather(*(one(domain) for domain in domains)))
            session.settle_port_25()  # a probe that connected after the last domain was judged
            return reports
