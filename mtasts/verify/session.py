"""What every domain of one `verify` run shares: one resolver, one TLS context (`https.Client`), and limits on
the DNS queries and policy fetches in flight.

Sharing them is for throughput (a bound on open sockets however many domains run at once).
The per-domain time budget lives here too, since both the policy check and the full verifier
bound their work by it. Asking and judging are left to the callers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import NamedTuple

from mtasts.verify import descriptors, dns, mx_check
from mtasts.verify.dns import Resolver, make_resolver
from mtasts.verify.https import Client, make_client
from mtasts.verify.model import VerifyOptions
from mtasts.verify.mx_check import MxProber

# A domain's lookups and fetch each take at most `timeout`; they overlap, so a few budgets
# bound the whole domain even in the worst chain (addresses → connect/TLS → response).
DOMAIN_BUDGETS = 4


class InFlight(NamedTuple):
    """How many DNS queries, policy fetches and MX probes may be in flight at once."""

    queries: int
    fetches: int
    probes: int

    @property
    def sockets(self) -> int:
        """The most they hold at once: a fetch or a probe one socket, a query up to two (its
        batch's UDP socket, and a TCP one once its answer came truncated, which any domain's
        records can make it)."""
        return 2 * self.queries + self.fetches + self.probes

    @property
    def domains(self) -> int:
        """Domains checked at once: as many as fetches (`--concurrency` bounds both), so that
        limits fitted to little room do not start domains whose budgets run out in a queue."""
        return self.fetches


def in_flight_limits(concurrency: int, room: int | None) -> InFlight:
    """The run's limits, fitted to the sockets there is `room` for (`descriptors.room`; None:
    unbounded): the fetches get what the queries and probes leave."""
    limits = InFlight(dns.MAX_QUERIES_IN_FLIGHT, max(1, concurrency), mx_check.MAX_PROBES_IN_FLIGHT)
    if room is None or limits.sockets <= room:
        return limits
    queries, probes = max(1, min(limits.queries, room // 6)), max(1, min(limits.probes, room // 4))
    return InFlight(queries, max(1, min(limits.fetches, room - 2 * queries - probes)), probes)


class Session:
    """One resolver, one HTTPS client, a query limit, a fetch limit and the MX prober, shared
    across domains, and the domains whose MX verdict waits on the whole run's probes."""

    def __init__(
        self,
        options: VerifyOptions,
        *,
        resolver: Resolver | None = None,
        client: Client | None = None,
    ) -> None:
        self.options = options
        self.resolver = resolver or make_resolver(options)
        self._own_client = client is None
        self.client = client or make_client(options)
        self.limits = in_flight_limits(options.concurrency, descriptors.room())
        self.query_limit = asyncio.Semaphore(self.limits.queries)
        # At most `concurrency` connections open at once (sockets, and TLS handshakes competing
        # for the CPU), however many addresses the domains in flight have.
        self.fetch_limit = asyncio.Semaphore(self.limits.fetches)
        self.mx = MxProber(options, self.resolver, self.query_limit, self.limits.probes)
        # Domains judged as if port 25 were blocked here, before any probe of the run had
        # connected: each call judges its domain by its MX addresses instead.
        self.unsettled: list[Callable[[], None]] = []

    def settle_port_25(self) -> None:
        """Once a probe of the run has connected, port 25 is open here: the domains judged before
        as if it were blocked are judged again (`checks.mx_tls.port_25_blocked`)."""
        if self.mx.reached_port_25:
            for settle in self.unsettled:
                settle()
            self.unsettled.clear()

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
