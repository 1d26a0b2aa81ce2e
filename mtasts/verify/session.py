"""What every domain of one `verify` run shares: one resolver, one TLS context (`https.Client`), and limits on
the DNS queries and policy fetches in flight.

Sharing them is for throughput (a bound on open sockets however many domains run at once).
The per-domain time budget lives here too, since both the policy check and the full verifier
bound their work by it. Asking and judging are left to the callers.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from mtasts.verify import dns, mx_check
from mtasts.verify.dns import Resolver, make_resolver
from mtasts.verify.event_loop import WINDOWS_SOCKETS
from mtasts.verify.https import Client, make_client
from mtasts.verify.model import VerifyOptions
from mtasts.verify.mx_check import MxProber

# A domain's lookups and fetch each take at most `timeout`; they overlap, so a few budgets
# bound the whole domain even in the worst chain (addresses → connect/TLS → response).
DOMAIN_BUDGETS = 4


def in_flight_limits(concurrency: int, platform: str = sys.platform) -> tuple[int, int, int]:
    """How many DNS queries, policy fetches and MX probes may be in flight at once.

    A fetch or a probe holds one socket; a query up to two (its batch's UDP socket, and a TCP
    one once its answer came truncated, which any domain's records can make it). On Windows
    the most they can hold together stays within what its selector loop watches
    (`event_loop.WINDOWS_SOCKETS`): the fetches get what the other two leave."""
    queries, fetches, probes = dns.MAX_QUERIES_IN_FLIGHT, max(1, concurrency), mx_check.MAX_PROBES_IN_FLIGHT
    if platform == "win32":
        queries, probes = min(queries, WINDOWS_SOCKETS // 6), min(probes, WINDOWS_SOCKETS // 4)
        fetches = min(fetches, WINDOWS_SOCKETS - 2 * queries - probes)
    return queries, fetches, probes


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
        queries, fetches, probes = in_flight_limits(options.concurrency)
        self.query_limit = asyncio.Semaphore(queries)
        # At most `concurrency` connections open at once (sockets, and TLS handshakes competing
        # for the CPU), however many addresses the domains in flight have.
        self.fetch_limit = asyncio.Semaphore(fetches)
        self.mx = MxProber(options, self.resolver, self.query_limit, probes)
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
