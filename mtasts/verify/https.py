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
import contextlib
import errno
import functools
import ipaddress
import os
import re
import socket
import ssl
import sys
from dataclasses import dataclass

import h11

from mtasts.policy import MAX_POLICY_BYTES, POLICY_PATH
from mtasts.trust import trusting_context
from mtasts.verify.model import VerifyOptions, not_tried
from mtasts.visible import clip


@dataclass(frozen=True)
class FetchResult:
    """What came back from one address: a response, or the error that stopped it.

    `error_kind` is one of "certificate", "tls", "connect", "timeout", "http" when `error` is
    set, or "unreachable" when this machine could not try the address at all (no route to an
    IPv6 address from a host without IPv6, or no file descriptor left for a socket): then
    nothing is known about what the address serves.
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
    """System trust (or `ca_file`, or SSL_CERT_FILE), host name checked, TLS 1.2 or newer;
    TrustStoreError for a CA file that cannot be used."""
    context = trusting_context(ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class Client:
    """What every fetch of one run shares: the TLS context, built once (loading the trust
    store is the costly part of making one). Each fetch has a connection of its own."""

    def __init__(self, options: VerifyOptions) -> None:
        self.context = ssl_context(options.ca_file)

    async def aclose(self) -> None:
        """Nothing stays open between fetches; here so a session closes whatever it holds."""


def make_client(options: VerifyOptions) -> Client:
    return Client(options)


def policy_url(host: str, port: int = 443) -> str:
    return f"https://{host}{'' if port == 443 else f':{port}'}/{POLICY_PATH}"


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
    """The kind and text of a failed fetch, from the first telling error in the chain."""
    seen: BaseException | None = error
    connect = False
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return "certificate", seen.verify_message or str(seen)
        if isinstance(seen, ssl.SSLError):
            return "tls", seen.reason or str(seen)
        if isinstance(seen, OSError) and (said := not_tried(seen)):
            return "unreachable", said  # no verdict on the domain
        connect = connect or isinstance(seen, OSError)
        seen = seen.__cause__ or seen.__context__
    if isinstance(error, TimeoutError):
        return "timeout", f"timed out ({type(error).__name__})"
    if connect:
        return "connect", str(error) or "connection failed"
    return "http", f"{type(error).__name__}: {error}"


# httpcore's limit on a response head, so a head that was accepted before still is.
_MAX_HEAD_BYTES = 100 * 1024
# Flights of TLS handshake messages the client sends back while it reads the response: a
# TLS 1.2 renegotiation takes two, a reply to KeyUpdates one. A policy is too small for a
# server to need any; each renegotiation is a full handshake of this run's CPU.
_MAX_ANSWERS = 8
_REQUEST_HEADERS = [
    ("User-Agent", "mtasts-verify (RFC 8461 policy check)"),
    ("Accept", "*/*"),
    ("Accept-Encoding", "identity"),  # the body is judged as served, never decoded
    ("Connection", "close"),  # one request per connection: the next fetch is for another name
]


class _ProtocolError(Exception):
    """The server broke HTTP/1.1 (h11's RemoteProtocolError, or it hung up before answering)."""


class _Response:
    """Status, headers (as httpx reads them: repeated ones joined) and the body, if read."""

    def __init__(self, head: h11.Response) -> None:
        self.status_code = head.status_code
        raw = [(name.decode("latin-1"), value) for name, value in head.headers]
        encoding = _header_encoding([value for _, value in raw])
        self._headers: dict[str, list[str]] = {}
        for name, value in raw:
            self._headers.setdefault(name, []).append(value.decode(encoding))

    def header(self, name: str) -> str | None:
        values = self._headers.get(name)
        return ", ".join(values) if values is not None else None


def _header_encoding(values: list[bytes]) -> str:
    # httpx's choice, so messages quoting a header read as before: ASCII, UTF-8, else Latin-1.
    for encoding in ("ascii", "utf-8"):
        try:
            for value in values:
                value.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "iso-8859-1"


class _HungUp(Exception):
    """The server closed the connection during the TLS handshake."""


class _TlsConnection:
    """One TLS connection over a plain non-blocking socket, driven by the event loop's socket calls.

    asyncio's streams over `start_tls` put a transport, an SSL protocol with its own buffers
    and flow control, and a stream reader between OpenSSL and us: per fetch, more CPU than the
    handshake itself. A policy fetch is one request and one response, so OpenSSL's memory BIOs
    are fed from the socket when the event loop says it is readable, and drained to
    `sock_sendall`, which every event loop offers. Closing aborts the connection: no
    close_notify, as for a fetch cut short.
    """

    def __init__(self, sock: socket.socket, context: ssl.SSLContext, host: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._sock = sock
        self._fd = sock.fileno()
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=host)
        self._readable: asyncio.Future[None] | None = None  # what `_recv` waits on
        self._watched = False  # the socket is registered with the event loop for reading
        self._answers = 0  # flights sent back while reading (`receive`)

    async def handshake(self) -> None:
        """SSLError for a refused handshake, `_HungUp` when the server hangs up first.

        The client's last flight is sent with the first `send`."""
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pass  # OpenSSL has said its part (in the outgoing BIO) and waits for the server's
            await self._flush()
            try:
                data = await self._recv()
            except OSError as error:
                raise _HungUp from error
            if not data:
                raise _HungUp
            self._incoming.write(data)
        # The client's last handshake flight stays in the BIO: `send` puts the request behind it,
        # so both leave in one segment (TLS 1.3 lets the client speak right after its Finished).

    async def send(self, data: bytes) -> None:
        self.tls.write(data)
        await self._flush()

    async def receive(self) -> bytes:
        """The next decrypted bytes; b"" once the server has closed, with or without close_notify."""
        while True:
            try:
                return self.tls.read(65536)
            except ssl.SSLWantReadError:
                # What OpenSSL wrote while reading is its part of something the server began:
                # a TLS 1.2 renegotiation (RFC 5746), or a reply to a KeyUpdate that asked for
                # one (RFC 8446 §4.6.3). Sent, as a sender's TLS stack sends it: a server may
                # hold its response until the renegotiation is done. A server that begins
                # again and again is cut off (_MAX_ANSWERS), and nothing is left to pile up.
                if self._outgoing.pending:
                    self._answers += 1
                    if self._answers > _MAX_ANSWERS:
                        raise _ProtocolError(
                            "the server renegotiated TLS or asked for new keys again and again "
                            f"before its response ended ({_MAX_ANSWERS} answered; a policy needs none)"
                        ) from None
                    with contextlib.suppress(OSError):  # the server stopped reading: what it
                        await self._flush()  # sent before that may still be there to read
                data = await self._recv()
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""  # a ragged end reads as the end, as asyncio's streams read it

    async def _recv(self) -> bytes:
        """What the socket holds once it is readable.

        Not `sock_recv`: it reads first, which here nearly always fails (the server has not
        answered yet) at the cost of an exception, and returns without suspending while the
        socket has data, so a server that never lets it run dry (endless chunk extensions, or
        the HelloRequests OpenSSL skips during the handshake) would hold the event loop, and
        every fetch's timeout with it. Waiting for readiness first always gives the loop a turn.

        The socket stays registered from one read to the next (a fetch reads two or three
        times, and each registration and removal is a system call), until readiness comes with
        nothing waiting for it (`_ready`) or the connection closes."""
        while True:
            readable = self._readable = self._loop.create_future()
            if not self._watched:
                self._loop.add_reader(self._fd, self._ready)
                self._watched = True
            try:
                await readable
            finally:
                self._readable = None
            try:
                return self._sock.recv(65536)
            except BlockingIOError:
                continue  # readiness that did not last

    def _ready(self) -> None:
        readable = self._readable
        if readable is None:
            # Data that nobody reads yet (the fetch is sending): the event loop would call
            # again on every turn until it is read, so stop watching until the next read.
            self._unwatch()
        elif not readable.done():  # done: woken already, or cancelled by the fetch's timeout
            readable.set_result(None)

    def _unwatch(self) -> None:
        if self._watched:
            self._loop.remove_reader(self._fd)
            self._watched = False

    async def _flush(self) -> None:
        pending = self._outgoing.read()
        if pending:
            await self._loop.sock_sendall(self._sock, pending)

    def abort(self) -> None:
        self._unwatch()  # before the descriptor is closed, and its number perhaps reused
        self._sock.close()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():  # cancelled by the fetch's timeout before the reader was removed
        waiter.set_result(None)


def connecting_errors(platform: str) -> frozenset[int]:
    """What a non-blocking connect returns while the connection is under way: EINPROGRESS,
    and on Windows WSAEWOULDBLOCK (Python's EWOULDBLOCK there). Elsewhere EWOULDBLOCK is
    EAGAIN, which from a connect means no local port was free: a failure, not a wait."""
    if platform == "win32":
        return frozenset({errno.EINPROGRESS, errno.EWOULDBLOCK})
    return frozenset({errno.EINPROGRESS})


_CONNECTING = connecting_errors(sys.platform)


async def _tcp_connect(sock: socket.socket, address: str, port: int) -> None:
    """`loop.sock_connect` for an address that is already an IP address, with its errors.

    sock_connect first makes sure the address needs no resolving, and reaches the wait by
    way of an exception; this is the same wait for the connection, without either."""
    error = sock.connect_ex((address, port))
    if error in _CONNECTING:
        loop = asyncio.get_running_loop()
        writable: asyncio.Future[None] = loop.create_future()
        loop.add_writer(sock.fileno(), _wake, writable)
        try:
            await writable
        finally:
            loop.remove_writer(sock.fileno())
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            raise OSError(error, f"Connect call failed {(address, port)}")
    elif error:
        raise OSError(error, os.strerror(error))


class _Awaiting:
    """What a fetch was waiting for, so that running out of time can say how far it got."""

    def __init__(self) -> None:
        self.what = "no TCP connection"


async def _connect(client: Client, host: str, address: str, port: int, awaiting: _Awaiting) -> _TlsConnection:
    """TCP, then TLS on the host name; OSError from the first, SSLError or `_HungUp` from the second."""
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as asyncio's transports set it
        await _tcp_connect(sock, address, port)
        awaiting.what = "connected, but the TLS handshake did not finish"
        connection = _TlsConnection(sock, client.context, host)
    except BaseException:
        sock.close()
        raise
    try:
        await connection.handshake()
    except BaseException:
        connection.abort()  # not just the socket: the connection may still be watching it
        raise
    return connection


@functools.lru_cache(maxsize=1024)
def _request(host_header: str) -> h11.Request:
    """The GET for one host, made once per host: h11 validates every header as an event is
    made, and a host is fetched from each of its addresses."""
    return h11.Request(
        method="GET", target=f"/{POLICY_PATH}", headers=[("Host", host_header), *_REQUEST_HEADERS]
    )


async def _get(
    connection: _TlsConnection, host_header: str, awaiting: _Awaiting
) -> tuple[_Response, bytearray, bool]:
    """One GET over h11; the body only for a 200 and at most MAX_POLICY_BYTES + 1 of it."""
    http = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD_BYTES)
    await connection.send(http.send(_request(host_header)) + http.send(h11.EndOfMessage()))
    response: _Response | None = None
    body = bytearray()
    head_bytes = 0  # before the final head: h11 limits each 1xx head, not how many come
    try:
        while True:
            event = http.next_event()
            if event is h11.NEED_DATA:
                data = await connection.receive()
                if not data and http.their_state is h11.SEND_RESPONSE:
                    raise _ProtocolError("Server disconnected without sending a response.")
                if response is None:
                    head_bytes += len(data)
                    if head_bytes > _MAX_HEAD_BYTES:
                        # A socket that always has data never lets the event loop run the timeout.
                        raise _ProtocolError(
                            f"more than {_MAX_HEAD_BYTES // 1024} KiB of informational (1xx) "
                            "responses or headers before the response"
                        )
                http.receive_data(data)
            elif isinstance(event, h11.Response):
                response = _Response(event)
                awaiting.what = f"HTTP {response.status_code} came, but the response did not end"
                declared = response.header("content-length") or ""
                if response.status_code != 200 or (declared.isdigit() and int(declared) > MAX_POLICY_BYTES):
                    return response, body, response.status_code == 200
            elif isinstance(event, h11.Data):
                assert response is not None  # h11 yields the head before any of the body
                body += event.data
                if len(body) > MAX_POLICY_BYTES:
                    return response, body, True
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                assert response is not None
                return response, body, False
    except h11.RemoteProtocolError as error:
        # h11 quotes a refused line as bytes (repr: printable), but the whole line, of up to a head's size.
        raise _ProtocolError(clip(str(error), 500)) from error


async def _fetch_once(client: Client, host: str, address: str, options: VerifyOptions) -> FetchResult:
    # The fetch is a bare TLS connection and h11 rather than httpx: httpx's client, connection
    # pool and anyio layers cost twice the TLS handshake in CPU per fetch, and verify makes a
    # fresh connection for every address anyway. Errors read as httpx reported them.
    url = policy_url(host, options.https_port)
    host_header = host if options.https_port == 443 else f"{host}:{options.https_port}"
    awaiting = _Awaiting()
    try:
        async with asyncio.timeout(options.timeout):
            try:
                connection = await _connect(client, host, address, options.https_port, awaiting)
            except OSError as error:
                if isinstance(error, ssl.SSLError) or not_tried(error):
                    raise
                raise _ConnectFailed from error
            except _HungUp:
                # OpenSSL's name for a peer that hangs up mid-handshake, as verify has said it.
                return FetchResult(url, address, error="UNEXPECTED_EOF_WHILE_READING", error_kind="tls")
            try:
                tls_version = connection.tls.version()
                awaiting.what = f"connected over {tls_version or 'TLS'}, but no HTTP response"
                response, body, too_large = await _get(connection, host_header, awaiting)
            except OSError as error:
                raise _ReadFailed(str(error)) from error
            finally:
                # One request per connection, read in full or cut short on purpose: no goodbye.
                connection.abort()
    except TimeoutError:
        return FetchResult(
            url, address, error=f"{awaiting.what} within {options.timeout:g} s", error_kind="timeout"
        )
    except _ConnectFailed:
        return FetchResult(url, address, error="All connection attempts failed", error_kind="connect")
    except (_ProtocolError, _ReadFailed) as error:
        name = "RemoteProtocolError" if isinstance(error, _ProtocolError) else "ReadError"
        return FetchResult(url, address, error=f"{name}: {error}", error_kind="http")
    except (ssl.SSLError, OSError) as error:
        kind, text = _error_kind(error)
        return FetchResult(url, address, error=text, error_kind=kind)
    max_age, age = cache_lifetime(response.header("cache-control"), response.header("age"))
    return FetchResult(
        url,
        address,
        status=response.status_code,
        content_type=response.header("content-type"),
        location=response.header("location"),
        body=None if too_large else bytes(body),
        too_large=too_large,
        tls_version=tls_version,
        cache_max_age=max_age,
        age=age,
    )


class _ConnectFailed(Exception):
    """No TCP connection (refused, reset): httpx's ConnectError."""


class _ReadFailed(Exception):
    """The connection broke after it was made: httpx's ReadError."""


async def fetch_from(
    client: Client,
    host: str,
    address: str,
    options: VerifyOptions,
    limit: asyncio.Semaphore | None = None,
) -> FetchResult:
    """One fetch; with `limit`, it waits for a place there before its own timeout starts."""
    if limit is None:
        return await _fetch_once(client, host, address, options)
    async with limit:
        return await _fetch_once(client, host, address, options)


def _address_order(address: str) -> tuple[int, int]:
    parsed = ipaddress.ip_address(address)
    return parsed.version, int(parsed)


# One host's addresses fetched at once: a policy host with hundreds of addresses that stall
# must not hold every place of `limit` and leave the other domains of a run waiting past their
# time budget. GitHub Pages hosts have five addresses, Netlify's one.
MAX_FETCHES_PER_HOST = 8


async def fetch_policy(
    client: Client,
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
    ordered = sorted(set(addresses), key=_address_order)
    own = asyncio.Semaphore(MAX_FETCHES_PER_HOST)

    async def one(address: str) -> FetchResult:
        async with own:  # before `limit`: the host's other addresses wait here, not in its queue
            return await fetch_from(client, host, address, options, limit)

    return list(await asyncio.gather(*(one(address) for address in ordered)))
