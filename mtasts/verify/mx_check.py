"""Run the MX check: every MX host × every A and AAAA address probed at once, then judged.

`MxProber` is what one run shares (the TLS context, the trusted roots read once, a bound on
probes in flight, the MX hosts' lookups); `run_mx_check` asks DNS through it, probes with
`mtasts.verify.smtp` and judges with `checks.mx_tls`. `check_mx_tls_sync` is the same for the
stack (the program's gate before it switches to `enforce`), with a resolver of its own.
What the results weigh in a report is `checks.mx_tls.judge`'s; in a stack, `mtasts.live`'s.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TypeVar

from cryptography import x509

from mtasts.verify import certs, smtp
from mtasts.verify.checks import mx_tls as judging
from mtasts.verify.dns import DnsResult, Lookups, Resolver, lookup, make_resolver
from mtasts.verify.model import MX_TLS, Finding, Status, VerifyOptions
from mtasts.verify.mx_tls import PORT_25_BLOCKED, MxOutcome, MxTlsEntry, MxToday, SmtpMode, SmtpProbe

# Sockets open at once across domains; an MX host takes seconds only when it is silent.
MAX_PROBES_IN_FLIGHT = 200
# One domain's probes, and its MX hosts' lookups, in flight at once: a domain whose hundreds of
# MX addresses stall must not hold every place above, and leave the run's other domains
# waiting past their time budget. A usual domain has fewer (every Proton domain has six).
MAX_PER_DOMAIN = 16

T = TypeVar("T")


async def bounded(calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """`asyncio.gather` of the calls, at most MAX_PER_DOMAIN of them running at once; in call order."""
    places = asyncio.Semaphore(MAX_PER_DOMAIN)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with places:
            return await call()

    return list(await asyncio.gather(*(one(call) for call in calls)))


class MxProber:
    """The TLS context, the roots, the probe limit and the probes one run shares.

    Domains hosted by one provider share its MX hosts (every Proton domain names
    mail.protonmail.ch), so each host's addresses are looked up, and each host and address is
    probed and judged, once per run, whichever domain asks first; the SNI is the host name, so
    the same host and address present the same chain.
    """

    def __init__(
        self,
        options: VerifyOptions,
        resolver: Resolver | None = None,
        query_limit: asyncio.Semaphore | None = None,
        probes_in_flight: int | None = None,
    ) -> None:
        self.options = options
        self.context = smtp.probe_context()
        self.limit = asyncio.Semaphore(probes_in_flight or MAX_PROBES_IN_FLIGHT)
        self._resolver = resolver
        self._query_limit = query_limit
        self._roots: certs.Roots | None = None
        if options.smtp != SmtpMode.OFF:
            # Read before the run opens its sockets (about 10 ms for a system store of 150 roots),
            # in this thread: a read that found no descriptor left mid-run would leave no root to trust.
            self.roots()
        self._probes: dict[tuple[str, str], asyncio.Task[SmtpProbe]] = {}
        self._answers: dict[tuple[str, str], asyncio.Task[DnsResult]] = {}
        self._judged: dict[tuple[object, ...], MxTlsEntry] = {}
        # Whether any probe of the run took a connection: if none did, port 25 is blocked here
        # (`checks.mx_tls.port_25_blocked`), which no single domain's probes can tell.
        self.reached_port_25 = False

    def get(self, name: str, rdtype: str) -> asyncio.Task[DnsResult]:
        """The run-wide lookup of an MX host's name and type (its addresses, its TLSA records),
        started on first use: hundreds of domains on one provider ask it once."""
        if self._resolver is None:
            self._resolver = make_resolver(self.options)
        key = (name, rdtype)
        if key not in self._answers:
            self._answers[key] = asyncio.ensure_future(
                lookup(self._resolver, name, rdtype, self._query_limit)
            )
        return self._answers[key]

    async def answer(self, name: str, rdtype: str) -> DnsResult:
        """`get`'s answer, shielded like the probes: one domain running out of time must not
        cancel the lookup another awaits."""
        return await asyncio.shield(self.get(name, rdtype))

    def judge(
        self,
        probe: SmtpProbe,
        tlsa_answer: DnsResult | None,
        roots: Sequence[x509.Certificate],
        now: datetime.datetime,
    ) -> MxTlsEntry:
        """`checks.mx_tls.judge_probe`, once per probe and TLSA answer."""
        key = (probe, tlsa_answer)
        if key not in self._judged:
            self._judged[key] = judging.judge_probe(probe, tlsa_answer, roots, now)
        return self._judged[key]

    def judged_so_far(self) -> list[MxTlsEntry]:
        """The verdicts of the probes that finished, for a check cut short by its deadline.

        A probe whose TLSA answer is not in yet keeps a failure (the certificate alone fails
        it) but not a pass (the TLSA records might fail it).
        """
        roots = self.roots()
        now = datetime.datetime.now(datetime.UTC)
        entries = []
        for (host, _), task in self._probes.items():
            if not task.done() or task.cancelled() or task.exception() is not None:
                continue
            answer = self._answers.get((tlsa_name(host), "TLSA"))
            tlsa_answer = None
            if answer is not None and answer.done() and not answer.cancelled() and answer.exception() is None:
                tlsa_answer = answer.result()
            entry = self.judge(task.result(), tlsa_answer, roots, now)
            if tlsa_answer is None and entry.outcome is MxOutcome.PASSED:
                entry = replace(
                    entry,
                    outcome=MxOutcome.UNCHECKED,
                    message=f"DANE not judged: the TLSA lookup of {tlsa_name(host)} did not finish in time",
                    fix=judging.tlsa_lookup_fix(host),
                )
            entries.append(entry)
        return entries

    def roots(self) -> certs.Roots:
        """The trusted roots, read once (at the start unless the run's MX check is off)."""
        if self._roots is None:
            self._roots = certs.Roots(certs.load_roots(self.options.ca_file))
        return self._roots

    async def probe(self, host: str, address: str) -> SmtpProbe:
        key = (host, address)
        if key not in self._probes:
            self._probes[key] = asyncio.ensure_future(self._probe(host, address))
        # Shielded: one domain running out of time must not cancel the probe another awaits.
        return await asyncio.shield(self._probes[key])

    async def _probe(self, host: str, address: str) -> SmtpProbe:
        async with self.limit:
            seen = await smtp.probe(
                host, address, self.options.timeout, self.context, port=self.options.smtp_port,
                on_connect=self._connected,
            )  # fmt: skip
        self.reached_port_25 = self.reached_port_25 or seen.reached
        return seen

    def _connected(self) -> None:
        self.reached_port_25 = True


def tlsa_name(host: str) -> str:
    """Where an MX host's TLSA records live: port 25 over TCP (RFC 7672 §2.2.1)."""
    return f"_25._tcp.{host}"


@dataclass
class MxCheck:
    """The entries (one per host and address), the probes behind them, and DNS trouble seen."""

    entries: list[MxTlsEntry] = field(default_factory=list)
    probes: list[SmtpProbe] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _addresses(host: str, answers: Sequence[DnsResult]) -> list[str]:
    found: set[str] = set()
    for answer in answers:
        for record in answer.records if answer.ok else ():
            try:
                found.add(str(ipaddress.ip_address(record)))
            except ValueError:
                continue
    return sorted(found, key=lambda a: (ipaddress.ip_address(a).version, int(ipaddress.ip_address(a))))


async def run_mx_check(prober: MxProber, hosts: Sequence[str]) -> MxCheck:
    """Probe every address of every host at once and judge each; never raises for network trouble."""
    check = MxCheck()
    if not hosts:
        return check
    for host in hosts[:MAX_PER_DOMAIN]:
        prober.get(tlsa_name(host), "TLSA")  # asked beside the addresses; the rest, by `tlsa_answers`
    found = await bounded([partial(prober.answer, host, kind) for host in hosts for kind in ("A", "AAAA")])
    targets: list[tuple[str, str]] = []
    for index, host in enumerate(hosts):
        answers = list(found[2 * index : 2 * index + 2])
        for answer in answers:
            if not answer.ok:
                check.findings.append(
                    Finding(MX_TLS, Status.UNCHECKED, f"could not check {host}: {answer.error}")
                )
        addresses = _addresses(host, answers)
        if not addresses and all(answer.ok for answer in answers):
            check.findings.append(
                Finding(
                    MX_TLS,
                    Status.WARN,
                    f"MX host {host} has no A or AAAA records: senders cannot deliver to it",
                    "publish the MX host's addresses, or remove the MX record",
                )
            )
        targets += [(host, address) for address in addresses]
    probes, tlsa = await asyncio.gather(
        bounded([partial(prober.probe, host, address) for host, address in targets]),
        tlsa_answers(prober, hosts),
    )
    roots = prober.roots()
    now = datetime.datetime.now(datetime.UTC)
    check.probes = list(probes)
    for probe in check.probes:
        check.entries.append(prober.judge(probe, tlsa[probe.host], roots, now))
    return check


async def tlsa_answers(prober: MxProber, hosts: Sequence[str]) -> dict[str, DnsResult]:
    """Each MX host's TLSA answer, at most MAX_PER_DOMAIN lookups of one domain at once."""
    found = await bounded([partial(prober.answer, tlsa_name(host), "TLSA") for host in hosts])
    return dict(zip(hosts, found, strict=True))


def check_mx_tls_sync(
    hosts: Sequence[str],
    *,
    ca_file: str | None = None,
    timeout: float = 10.0,
    nameserver: str | None = None,
    port: int = 53,
    smtp_port: int = 25,
) -> MxCheck:
    """`run_mx_check` for synchronous callers (the program, before anything registers)."""
    from mtasts.verify.policy_served import _run_sync  # its module needs the session, which needs this one

    options = VerifyOptions(
        nameserver=nameserver, port=port, ca_file=ca_file, timeout=timeout, smtp_port=smtp_port
    )

    async def work() -> MxCheck:
        prober = MxProber(options, make_resolver(options))
        try:
            async with asyncio.timeout(timeout * 4):
                return await run_mx_check(prober, hosts)
        except TimeoutError:
            # The zone chooses how many MX hosts there are, and tarpits among them must not hide
            # the verdicts of the hosts that answered: a failure still stops an enforce run.
            judged = prober.judged_so_far()
            return MxCheck(
                entries=judged,
                findings=[
                    Finding(
                        MX_TLS,
                        Status.UNCHECKED,
                        f"could not check: the MX check did not finish within {timeout * 4:g} s "
                        f"({len(judged):,} MX address(es) judged by then, the others not checked)",
                    )
                ],
            )

    return _run_sync(work())


def live_mx_today_sync(
    domain: str,
    *,
    ca_file: str | None = None,
    timeout: float = 10.0,
    nameserver: str | None = None,
    port: int = 53,
    smtp_port: int = 25,
) -> MxToday:
    """The domain's live MX hosts (system resolver), probed now, in sentences (`reports --stack`)."""
    from mtasts.verify.checks import mx_coverage  # the judging side of the MX answer
    from mtasts.verify.policy_served import _run_sync  # its module needs the session, which needs this one

    options = VerifyOptions(
        nameserver=nameserver, port=port, ca_file=ca_file, timeout=timeout, smtp_port=smtp_port
    )

    async def work() -> MxToday:
        resolver = make_resolver(options)
        lookups = Lookups(resolver)
        prober = MxProber(options, resolver)
        try:
            async with asyncio.timeout(timeout * 4):
                answer = await lookups.result(domain, "MX")
                if not answer.ok:
                    return MxToday(
                        unchecked=f"the MX records of {domain} could not be looked up: {answer.error}"
                    )
                hosts, said = mx_coverage.hosts(domain, answer)
                if not hosts:  # NXDOMAIN or a null MX: nothing to probe, which is no pass
                    return MxToday(unchecked=said[0].message if said else f"{domain} has no MX host")
                check = await run_mx_check(prober, hosts)
        except TimeoutError:
            # As in `check_mx_tls_sync`: tarpits among the MX hosts must not hide a failure that
            # is in already, which holds enforce back.
            late = f"the MX check did not finish within {timeout * 4:g} s"
            judged = prober.judged_so_far()
            if not judged:
                return MxToday(unchecked=late)
            return _today(judged, also_not_checked=(f"the other MX addresses: {late}",))
        finally:
            lookups.cancel()
        if judging.port_25_blocked(check.probes):  # the run is this domain: its probes are all there are
            return MxToday(unchecked=PORT_25_BLOCKED)
        return _today(check.entries)

    return _run_sync(work())


def _today(entries: Sequence[MxTlsEntry], also_not_checked: tuple[str, ...] = ()) -> MxToday:
    """The entries' verdicts in sentences, each naming its host and address."""
    return MxToday(
        failures=tuple(
            f"{e.host} ({e.address}): {e.message}" for e in entries if e.outcome is MxOutcome.FAILED
        ),
        warnings=tuple(f"{e.host} ({e.address}): {e.warning}" for e in entries if e.warning),
        not_checked=tuple(
            f"{e.host} ({e.address}): {e.message}" for e in entries if e.outcome is MxOutcome.UNCHECKED
        )
        + also_not_checked,
        passed=sum(e.outcome is MxOutcome.PASSED and not e.warning for e in entries),
    )
