"""A deadline for one whole request to Netlify, however slowly the server answers.

httpx's timeouts bound each read and write, not the request: a server that sends one byte a
second never trips a 30 s read timeout, and `pulumi up` would wait for it for hours. So every
socket read and write of the client's connections is given at most the time left before the
request's deadline, and none once it has passed.

Manages: `Deadline`, set by the transport before each request, and `bound_by`, which puts it
under every connection pool of an httpx client. Leaves alone: what a request is and what its
failure means (pulumi_mta_sts/netlify/transport.py). Imported only when a client is made: it
imports httpcore, which `pulumi preview` need not load.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx


class Deadline:
    """When the current request must be over (time.monotonic), or None between requests."""

    def __init__(self) -> None:
        self.at: float | None = None

    def start(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def stop(self) -> None:
        self.at = None

    @property
    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def clamp(self, timeout: float | None, error: type[Exception]) -> float | None:
        """`timeout`, shortened to the time left; `error` once none is left."""
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise error("the request's deadline passed")
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        timeout = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, timeout, socket_options), self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bound_by(client: httpx.Client, deadline: Deadline) -> None:
    """Put `deadline` under every connection `client` makes, direct or through a proxy.

    httpx (pinned <0.29) has no public way to give its transport a network backend, so this
    reaches the pools it built; tests/test_netlify_hostile.py fails if that stops working.
    """
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is None:  # a transport the caller mounted, e.g. a test's MockTransport
            continue
        pool._network_backend = _Backend(pool._network_backend, deadline)
