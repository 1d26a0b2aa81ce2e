"""Fetch the policy file the way a strict sender does (RFC 8461 §3.2, §3.3).

The connection goes to an address that `verify`'s own resolver found for
`mta-sts.<domain>`, while the TLS server name, the certificate check and the Host header
stay on the name: so `--nameserver` steers everything and the name is still what the
certificate is judged against. Redirects are never followed and at most 64 KiB is read.
Nothing here judges the response: `checks` does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import ssl
from dataclasses import dataclass

import httpx

from mtasts.policy import MAX_POLICY_BYTES, POLICY_PATH
from mtasts.verify.model import VerifyOptions


@dataclass(frozen=True)
class FetchResult:
    """What came back from one address: a response, or the error that stopped it.

    `error_kind` is one of "certificate", "tls", "connect", "timeout", "http" when `error` is set.
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


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """System trust (or `ca_file`, or SSL_CERT_FILE), host name checked, TLS 1.2 or newer."""
    cafile = ca_file or os.environ.get("SSL_CERT_FILE") or None
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def make_client(options: VerifyOptions) -> httpx.AsyncClient:
    # No keep-alive: connections are made to an address with a per-request server name, so a
    # pooled connection must never carry a request for another domain's name.
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


def _error_kind(error: BaseException) -> tuple[str, str]:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return "certificate", seen.verify_message or str(seen)
        if isinstance(seen, ssl.SSLError):
            return "tls", seen.reason or str(seen)
        seen = seen.__cause__ or seen.__context__
    if isinstance(error, httpx.TimeoutException):
        return "timeout", f"timed out ({type(error).__name__})"
    if isinstance(error, httpx.ConnectError):
        return "connect", str(error) or "connection failed"
    return "http", f"{type(error).__name__}: {error}"


async def fetch_from(
    client: httpx.AsyncClient, host: str, address: str, options: VerifyOptions
) -> FetchResult:
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
    return FetchResult(
        url,
        address,
        status=response.status_code,
        content_type=response.headers.get("content-type"),
        location=response.headers.get("location"),
        body=None if too_large else bytes(body),
        too_large=too_large,
        tls_version=tls_version,
    )


async def fetch_policy(
    client: httpx.AsyncClient, host: str, addresses: list[str], options: VerifyOptions
) -> list[FetchResult]:
    """Try the addresses in order until one answers over HTTP; every attempt is returned.

    A certificate or TLS failure stops the walk: it is the verdict, as it is for a sender.
    """
    attempts: list[FetchResult] = []
    for address in addresses:
        result = await fetch_from(client, host, address, options)
        attempts.append(result)
        if result.error_kind not in ("connect", "timeout"):
            break
    return attempts
