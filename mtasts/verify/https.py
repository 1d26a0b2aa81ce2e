"""Fetch the policy file the way a strict sender does (RFC 8461 §3.2, §3.3).

The connections go to every address that `verify`'s own resolver found for
`mta-sts.<domain>`, all at once, while the TLS server name, the certificate check and the
Host header stay on the name: so `--nameserver` steers everything and the name is still
what the certificate is judged against. A sender may pick any of the addresses, so each
one is asked. Redirects are never followed and at most 64 KiB is read. Nothing here
judges the response: `checks` does.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import re
import ssl
from dataclasses import dataclass

import httpx

from mtasts.policy import MAX_POLICY_BYTES, POLICY_PATH
from mtasts.verify.model import VerifyOptions


@dataclass(frozen=True)
class FetchResult:
    """What came back from one address: a response, or the error that stopped it.

    `error_kind` is one of "certificate", "tls", "connect", "timeout", "http" when `error` is
    set, or "unreachable" when this machine has no route to the address at all (an IPv6
    address from a host without IPv6): then nothing is known about what the address serves.
    `cache_max_age` (Cache-Control s-maxage or max-age, 0 for no-store/no-cache) and `age`
    (the Age header) say how long a cache may keep serving this answer.
    """

    url: str
    address: str
    status: int | None = None
    content_type: str | None = None
    location: str | None = None
    body: bytes | None = None
    too_large: bool = False
    tls_version: str | None = None
    error: str | None = None
    error_kind: str | None = None
    cache_max_age: int | None = None
    age: int = 0

    @property
    def cache_seconds_left(self) -> int:
        """How much longer a cache may serve this answer (RFC 9111 §4.2), 0 when unknown."""
        return max(0, (self.cache_max_age or 0) - self.age)


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """System trust (or `ca_file`, or SSL_CERT_FILE), host name checked, TLS 1.2 or newer."""
    cafile = ca_file or os.environ.get("SSL_CERT_FILE") or None
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def make_client(options: VerifyOptions) -> httpx.AsyncClient:
    # No keep-alive: connections are made to an address with a per-request server name, so a
    # pooled connection must never carry a request for another domain's name. Callers keep at
    # most `concurrency` fetches in flight (`Session.fetch_limit`): httpcore's pool rescans every
    # connection for every queued request on each change (httpcore 1.0.9), which made requests
    # queued in the pool cost more CPU than the TLS handshakes once hosts had several addresses.
    return httpx.AsyncClient(
        verify=ssl_context(options.ca_file),
        follow_redirects=False,
        trust_env=False,  # no proxies: senders connect directly
        timeout=httpx.Timeout(options.timeout),
        limits=httpx.Limits(max_connections=max(1, options.concurrency), max_keepalive_connections=0),
        headers={"User-Agent": "mtasts-verify (RFC 8461 policy check)", "Accept-Encoding": "identity"},
    )


def policy_url(host: str, port: int = 443) -> str:
    return f"https://{host}{'' if port == 443 else f':{port}'}/{POLICY_PATH}"


# The local machine cannot reach that kind of address at all: no verdict on the domain.
_LOCAL_ROUTE_ERRNOS = {errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}


def cache_lifetime(cache_control: str | None, age: str | None) -> tuple[int | None, int]:
    """(s-maxage or max-age, Age) from the headers (RFC 9111 §5.2.2, §5.1); no-store/no-cache is 0."""
    directives = {
        name.strip().lower(): value.strip().strip('"')
        for name, _, value in (part.partition("=") for part in (cache_control or "").split(","))
        if name.strip()
    }
    max_age: int | None = None
    if "no-store" in directives or "no-cache" in directives:
        max_age = 0
    else:
        for name in ("s-maxage", "max-age"):
            if re.fullmatch(r"\d{1,10}", directives.get(name, "")):
                max_age = int(directives[name])
                break
    seen = (age or "").strip()
    return max_age, int(seen) if re.fullmatch(r"\d{1,10}", seen) else 0


def _error_kind(error: BaseException) -> tuple[str, str]:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return "certificate", seen.verify_message or str(seen)
        if isinstance(seen, ssl.SSLError):
            return "tls", seen.reason or str(seen)
        if isinstance(seen, OSError) and seen.errno in _LOCAL_ROUTE_ERRNOS:
            return "unreachable", f"this machine has no route to it ({seen.strerror or seen})"
        seen = seen.__cause__ or seen.__context__
    if isinstance(error, httpx.TimeoutException):
        return "timeout", f"timed out ({type(error).__name__})"
    if isinstance(error, httpx.ConnectError):
        return "connect", str(error) or "connection failed"
    return "http", f"{type(error).__name__}: {error}"


async def fetch_from(
    client: httpx.AsyncClient,
    host: str,
    address: str,
    options: VerifyOptions,
    limit: asyncio.Semaphore | None = None,
) -> FetchResult:
    """One fetch; with `limit`, it waits for a place there before its own timeout starts."""
    if limit is not None:
        async with limit:
            return await fetch_from(client, host, address, options)
    url = policy_url(host, options.https_port)
    ip = ipaddress.ip_address(address)
    literal = f"[{ip}]" if ip.version == 6 else str(ip)
    host_header = host if options.https_port == 443 else f"{host}:{options.https_port}"
    request = client.build_request(
        "GET",
        f"https://{literal}:{options.https_port}/{POLICY_PATH}",
        headers={"Host": host_header},
        extensions={"sni_hostname": host},
    )
    try:
        async with asyncio.timeout(options.timeout):
            response = await client.send(request, stream=True)
            try:
                stream = response.extensions.get("network_stream")
                ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
                tls_version = ssl_object.version() if ssl_object is not None else None
                declared = response.headers.get("content-length", "")
                body = bytearray()
                too_large = declared.isdigit() and int(declared) > MAX_POLICY_BYTES
                if response.status_code == 200 and not too_large:
                    async for chunk in response.aiter_raw():
                        body += chunk
                        if len(body) > MAX_POLICY_BYTES:
                            too_large = True
                            break
            finally:
                await response.aclose()
    except TimeoutError:
        return FetchResult(
            url, address, error=f"no response within {options.timeout:g} s", error_kind="timeout"
        )
    except (httpx.HTTPError, ssl.SSLError, OSError) as error:
        kind, text = _error_kind(error)
        return FetchResult(url, address, error=text, error_kind=kind)
    max_age, age = cache_lifetime(response.headers.get("cache-control"), response.headers.get("age"))
    return FetchResult(
        url,
        address,
        status=response.status_code,
        content_type=response.headers.get("content-type"),
        location=response.headers.get("location"),
        body=None if too_large else bytes(body),
        too_large=too_large,
        tls_version=tls_version,
        cache_max_age=max_age,
        age=age,
    )


async def fetch_policy(
    client: httpx.AsyncClient,
    host: str,
    addresses: list[str],
    options: VerifyOptions,
    *,
    limit: asyncio.Semaphore | None = None,
) -> list[FetchResult]:
    """Fetch from every address at once; one result per address, in address order.

    RFC 8461 §3.3 leaves the choice of address to the sender, so an address serving a 404
    or an older file fails some senders even when another address serves the right one.
    `limit` bounds the fetches in flight across domains (see `make_client`).
    """
    # The same report whatever order DNS answered in.
    ordered = sorted(
        set(addresses), key=lambda a: (ipaddress.ip_address(a).version, int(ipaddress.ip_address(a)))
    )
    return list(
        await asyncio.gather(*(fetch_from(client, host, address, options, limit) for address in ordered))
    )
