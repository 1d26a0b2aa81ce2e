"""DNS lookups for `verify`: one resolver for every name, answers as plain values.

With `--nameserver` every query (the policy host's address included) goes to that server;
otherwise the system's resolv.conf is used. Queries carry the AD and DO flags so a
validating resolver says whether the answer is DNSSEC-validated (information only).
Nothing here judges an answer: `checks` does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver

from mtasts.names import normalize
from mtasts.verify.model import VerifyOptions

# Bounds the UDP sockets open at once, whatever the domain concurrency (one socket per query).
MAX_QUERIES_IN_FLIGHT = 256


@dataclass(frozen=True)
class DnsResult:
    """The answer to one question, or why there was none.

    `records` is the data in text form: TXT strings joined, `MX` as "priority host", names
    lower-case without the trailing dot. `error` is set when the resolver gave no usable
    answer (timeout, SERVFAIL, REFUSED), and says who did not answer what: nothing is then
    known about the name. NXDOMAIN and an empty answer are answers, not errors.
    """

    name: str
    rdtype: str
    records: tuple[str, ...] = ()
    rcode: str = "NOERROR"
    error: str | None = None
    authenticated: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def nxdomain(self) -> bool:
        return self.rcode == "NXDOMAIN"

    def describe(self) -> str:
        """How the answer looked, for messages: the records, NXDOMAIN, no records, or the error."""
        if self.error:
            return self.error
        if self.nxdomain:
            return f"{self.name} does not exist (NXDOMAIN)"
        if not self.records:
            return f"no {self.rdtype} records at {self.name}"
        return ", ".join(repr(record) for record in self.records)


def make_resolver(options: VerifyOptions) -> dns.asyncresolver.Resolver:
    if options.nameserver:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [options.nameserver]
        resolver.port = options.port
    else:
        resolver = dns.asyncresolver.Resolver()
    resolver.cache = None  # verify must see what senders see now
    resolver.lifetime = options.timeout
    resolver.timeout = max(0.2, min(2.0, options.timeout / 2))  # per try; retries fit in the lifetime
    resolver.use_edns(0, dns.flags.DO, 1232)
    resolver.flags = dns.flags.RD | dns.flags.AD
    return resolver


def record_text(rdata: object) -> str:
    rdtype = rdata.rdtype  # type: ignore[attr-defined]
    if rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
    if rdtype == dns.rdatatype.MX:
        exchange = rdata.exchange.to_text(omit_final_dot=True)  # type: ignore[attr-defined]
        return f"{rdata.preference} {normalize(exchange) or '.'}"  # type: ignore[attr-defined]
    if rdtype == dns.rdatatype.CNAME:
        return normalize(rdata.target.to_text(omit_final_dot=True))  # type: ignore[attr-defined]
    return rdata.to_text()  # type: ignore[attr-defined]


def _servers(resolver: dns.asyncresolver.Resolver) -> str:
    """Who was asked, for "could not check" messages."""
    port = "" if resolver.port == 53 else f" port {resolver.port}"
    listing = ", ".join(str(server) for server in resolver.nameservers) or "(none configured)"
    return f"the resolver {listing}{port}"


def _rcode(error: dns.resolver.NoNameservers) -> tuple[str, str]:
    """(what the servers answered: SERVFAIL, REFUSED, or "" when none answered, and why not)."""
    answered, failures = [], []
    for entry in error.kwargs.get("errors", []):
        reason = entry[3] if isinstance(entry, tuple) and len(entry) > 3 else None
        if isinstance(reason, str):
            answered.append(reason)
        elif isinstance(reason, BaseException):
            failures.append(f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__)
    if not answered and not failures:
        answered = ["SERVFAIL"]
    return ", ".join(dict.fromkeys(answered)), ", ".join(dict.fromkeys(failures))


def _ad(response: dns.message.Message | None) -> bool:
    return bool(response is not None and response.flags & dns.flags.AD)


async def lookup(
    resolver: dns.asyncresolver.Resolver,
    name: str,
    rdtype: str,
    limit: asyncio.Semaphore | None = None,
) -> DnsResult:
    """Ask one question; never raises for DNS trouble and never outlives the resolver's lifetime."""
    lifetime = float(resolver.lifetime)
    try:
        async with asyncio.timeout(lifetime + 1.0):
            if limit is None:
                answer = await resolver.resolve(name + ".", rdtype, raise_on_no_answer=False, search=False)
            else:
                async with limit:
                    answer = await resolver.resolve(
                        name + ".", rdtype, raise_on_no_answer=False, search=False
                    )
    except dns.resolver.NXDOMAIN as error:
        responses = list(error.responses().values()) if hasattr(error, "responses") else []
        return DnsResult(name, rdtype, rcode="NXDOMAIN", authenticated=any(_ad(r) for r in responses))
    except (dns.resolver.LifetimeTimeout, TimeoutError):
        return DnsResult(
            name,
            rdtype,
            rcode="",
            error=f"{_servers(resolver)} did not answer {name} {rdtype} within {lifetime:g} s",
        )
    except dns.resolver.NoNameservers as error:
        said, failures = _rcode(error)
        rcode = said if said in ("SERVFAIL", "REFUSED", "NOTIMP", "FORMERR") else "SERVFAIL"
        what = f"answered {said}" if said else "gave no answer"
        if said and failures:
            what += " or no answer"
        return DnsResult(
            name,
            rdtype,
            rcode=rcode,
            error=f"{_servers(resolver)} {what} for {name} {rdtype}" + (f" ({failures})" if failures else ""),
        )
    except dns.exception.DNSException as error:
        return DnsResult(name, rdtype, rcode="", error=f"{_servers(resolver)}: {name} {rdtype}: {error}")
    records = tuple(record_text(rdata) for rdata in answer.rrset) if answer.rrset is not None else ()
    return DnsResult(name, rdtype, records=records, authenticated=_ad(answer.response))


class Lookups:
    """Each question asked once per domain, all of them concurrently.

    `get` starts a query on first use and hands back the same task afterwards, so the checks
    and the drift comparison share answers without waiting on each other.
    """

    def __init__(self, resolver: dns.asyncresolver.Resolver, limit: asyncio.Semaphore | None = None) -> None:
        self._resolver = resolver
        self._limit = limit
        self._tasks: dict[tuple[str, str], asyncio.Task[DnsResult]] = {}

    def get(self, name: str, rdtype: str) -> asyncio.Task[DnsResult]:
        key = (normalize(name), rdtype.upper())
        if key not in self._tasks:
            self._tasks[key] = asyncio.ensure_future(lookup(self._resolver, key[0], key[1], self._limit))
        return self._tasks[key]

    async def result(self, name: str, rdtype: str) -> DnsResult:
        return await self.get(name, rdtype)

    def cancel(self) -> None:
        for task in self._tasks.values():
            task.cancel()
