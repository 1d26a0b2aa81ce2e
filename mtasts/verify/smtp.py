"""Connect to an MX host's port 25 as a sender does, up to a TLS session, and no further.

Banner, EHLO, STARTTLS (RFC 3207), a TLS 1.2-or-newer handshake with the MX host name as
SNI (RFC 8461 §4.2 wants it), then QUIT: no MAIL FROM, no RCPT TO, so nothing is ever
delivered. Every step is bounded by the timeout and every reply by a size limit. The
handshake is made without verifying the certificate, so the chain as sent can be judged
afterwards (`mtasts.verify.certs`, `mtasts.verify.tlsa`) and named in a report's words; this
module only says what the server did. A reply's text is quoted through `mtasts.visible`: the
server chose it, and it reaches a terminal and the stack's messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import ssl
from collections.abc import Callable

from mtasts.verify.model import not_tried
from mtasts.verify.mx_tls import ProbeFailure, SmtpProbe, nameable
from mtasts.visible import visible

EHLO_NAME = "mtasts-verify.invalid"
_MAX_LINE = 2048  # RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; leave room for sloppy servers
_MAX_LINES = 100
_OLD_PROTOCOL_REASONS = ("UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION", "NO_PROTOCOLS_AVAILABLE")
_PROTOCOL_VERSION_ALERT = "WRONG_SSL_VERSION"
# The whole probe, in timeouts. Five steps each just under the timeout would otherwise take
# five, past the domain's budget (`session.DOMAIN_BUDGETS`, with the MX and address lookups
# before the probe), and the domain would read "did not finish" with its MX verdict lost.
PROBE_BUDGETS = 2


class _Refused(Exception):
    """The server answered with a code the probe cannot go on from."""


class _Silent(Exception):
    """The server stopped answering, or closed the connection."""


def probe_context() -> ssl.SSLContext:
    """TLS 1.2 or newer as RFC 8461 §4.2 requires; no verification here (`certs` judges the chain)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


async def _reply(reader: asyncio.StreamReader) -> tuple[int, list[str]]:
    """One SMTP reply (RFC 5321 §4.2): the code and the text of each line."""
    lines: list[str] = []
    while len(lines) < _MAX_LINES:
        try:
            raw = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as error:
            raise _Silent(
                "closed the connection" if not error.partial else "closed the connection mid-reply"
            ) from None
        except asyncio.LimitOverrunError:
            raise _Refused(f"sent a reply line longer than {_MAX_LINE} bytes") from None
        line = raw.decode("ascii", "replace").rstrip("\r\n")
        if len(line) < 3 or not line[:3].isdigit():
            raise _Refused(f"sent {line[:80]!r}, which is not an SMTP reply")
        lines.append(line[4:])
        if len(line) == 3 or line[3] != "-":
            return int(line[:3]), lines
    raise _Refused(f"sent a reply of more than {_MAX_LINES} lines")


def _unread(reader: asyncio.StreamReader) -> int:
    """How many bytes the server has sent that no read has taken yet.

    StreamReader has no public way to say; its `_buffer` (a bytearray from Python 3.4 to 3.13)
    is read here and nowhere else, and a Python without it fails loudly in the tests.
    """
    return len(reader._buffer)  # type: ignore[attr-defined]


def _said(lines: list[str]) -> str:
    """A reply's text on one line, every character visible and cut at 200 (`mtasts.visible`)."""
    return visible(" ".join(lines))


async def _command(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, command: str
) -> tuple[int, list[str]]:
    writer.write(command.encode("ascii") + b"\r\n")
    await writer.drain()
    return await _reply(reader)


def _chain(ssl_object: ssl.SSLObject | None) -> tuple[bytes, ...]:
    """The certificates as the server sent them, leaf first.

    The whole chain is public from Python 3.13 (`get_unverified_chain`); before that the
    same method exists on the C object only, and the leaf alone is the fallback.
    """
    if ssl_object is None:
        return ()
    getter = getattr(ssl_object, "get_unverified_chain", None)
    if getter is not None:
        return tuple(bytes(der) for der in getter() or ())
    inner = getattr(ssl_object, "_sslobj", None)
    private = getattr(inner, "get_unverified_chain", None)
    if private is not None:
        return tuple(certificate.public_bytes(ssl._ssl.ENCODING_DER) for certificate in private() or ())  # type: ignore[attr-defined]
    leaf = ssl_object.getpeercert(binary_form=True)
    return (leaf,) if leaf else ()


def _tls_failure(error: ssl.SSLError) -> tuple[str, bool]:
    reason = error.reason or ""
    old = reason in _OLD_PROTOCOL_REASONS or reason == _PROTOCOL_VERSION_ALERT
    if old:
        return "the server offers no TLS 1.2 or newer (RFC 8461 §4.2 requires TLS 1.2)", True
    return f"the TLS handshake failed ({reason or error})", False


async def probe(
    host: str,
    address: str,
    timeout: float,
    context: ssl.SSLContext,
    *,
    port: int = 25,
    on_connect: Callable[[], None] | None = None,
) -> SmtpProbe:
    """Banner, EHLO, STARTTLS, handshake and QUIT on `address`; never raises for network trouble.

    Each step (connect, each reply, the handshake) has `timeout` seconds, and the whole probe
    `PROBE_BUDGETS` of them. `on_connect` is called once the TCP connection stands, which says
    port 25 is open here even if the probe is cancelled before its verdict.
    """
    literal = str(ipaddress.ip_address(address))
    step = "connect"
    writer: asyncio.StreamWriter | None = None
    loop = asyncio.get_running_loop()
    total = timeout * PROBE_BUDGETS
    deadline = loop.time() + total

    def within() -> asyncio.Timeout:
        return asyncio.timeout_at(min(loop.time() + timeout, deadline))

    try:
        async with within():
            reader, writer = await asyncio.open_connection(literal, port, limit=_MAX_LINE)
        if on_connect is not None:
            on_connect()
        step = "banner"
        async with within():
            code, text = await _reply(reader)
        if code != 220:
            raise _Refused(f"greeted with {code} {_said(text)}")
        step = "EHLO"
        async with within():
            code, text = await _command(reader, writer, f"EHLO {EHLO_NAME}")
        if code != 250:
            raise _Refused(f"answered EHLO with {code} {_said(text)}")
        if not any(line.split(" ", 1)[0].upper() == "STARTTLS" for line in text[1:]):
            await _quit(reader, writer, timeout)
            return SmtpProbe(
                host, address, ProbeFailure.NO_STARTTLS, "the EHLO reply does not offer STARTTLS"
            )
        step = "STARTTLS"
        async with within():
            code, text = await _command(reader, writer, "STARTTLS")
        if code != 220:
            await _quit(reader, writer, timeout)
            return SmtpProbe(
                host,
                address,
                ProbeFailure.NO_STARTTLS,
                f"answered STARTTLS with {code} {_said(text)}",
            )
        if early := _unread(reader):
            # The handshake follows the 220 at once (RFC 3207 §4), and nothing said before it
            # counts (§4.2): bytes behind the 220 are plaintext anyone on the path may have
            # written, a reply a client would take for the answer to its first command over
            # TLS (CVE-2011-0411's class; "NO STARTTLS", Poddebniak et al., 2021). A 220 injected
            # after EHLO leaves the real one here, or in front of the handshake, which then fails.
            return SmtpProbe(
                host,
                address,
                ProbeFailure.TLS,
                f"the server sent {early} bytes after its 220 reply to STARTTLS, before the TLS "
                "handshake (RFC 3207 §4.2): a broken server, or an attempt to inject a reply",
                early_plaintext=True,
            )
        step = "the TLS handshake"
        async with within():
            # Without SNI for a name no TLS client can send: the server's TLS is still seen,
            # and `certs` says the name is one no certificate can hold.
            await writer.start_tls(context, server_hostname=host if nameable(host) else None)
        ssl_object = writer.get_extra_info("ssl_object")
        version = ssl_object.version() if ssl_object is not None else None
        chain = _chain(ssl_object)
        await _quit(reader, writer, timeout)
        return SmtpProbe(host, address, tls_version=version, chain=chain)
    except TimeoutError:
        if loop.time() >= deadline:
            return SmtpProbe(
                host,
                address,
                ProbeFailure.SILENT,
                f"too slow: {step} was not done {total:g} s after the probe began "
                f"(each step may take {timeout:g} s, the whole probe {total:g} s)",
            )
        if step == "connect":
            return SmtpProbe(host, address, ProbeFailure.UNREACHABLE, f"no connection within {timeout:g} s")
        return SmtpProbe(host, address, ProbeFailure.SILENT, f"no answer to {step} within {timeout:g} s")
    except ssl.SSLError as error:
        detail, old = _tls_failure(error)
        return SmtpProbe(host, address, ProbeFailure.TLS, detail, old_protocol=old)
    except _Refused as error:
        return SmtpProbe(host, address, ProbeFailure.REFUSED, f"the server {error}")
    except _Silent as error:
        if step == "the TLS handshake":
            return _closed_in_handshake(host, address)
        return SmtpProbe(host, address, ProbeFailure.SILENT, f"the server {error} (at {step})")
    except OSError as error:
        if step == "connect":
            kind = ProbeFailure.NO_ROUTE if not_tried(error) else ProbeFailure.UNREACHABLE
            return SmtpProbe(host, address, kind, _connect_error(error))
        if step == "the TLS handshake":
            if not str(error):  # asyncio's lost connection: a ConnectionResetError without text
                return _closed_in_handshake(host, address)
            return SmtpProbe(
                host, address, ProbeFailure.TLS, f"the TLS handshake failed ({error.strerror or error})"
            )
        return SmtpProbe(
            host, address, ProbeFailure.SILENT, f"the connection failed at {step}: {error.strerror or error}"
        )
    finally:
        if writer is not None:
            writer.transport.abort()


def _closed_in_handshake(host: str, address: str) -> SmtpProbe:
    return SmtpProbe(
        host, address, ProbeFailure.TLS, "the server closed the connection during the TLS handshake"
    )


def _connect_error(error: OSError) -> str:
    if error.errno == errno.ECONNREFUSED:
        return "connection refused"
    if said := not_tried(error):
        return said
    if error.errno == errno.EHOSTUNREACH:
        return f"no route ({error.strerror or error})"
    return f"could not connect ({error.strerror or error})"


async def _quit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
    """Say QUIT and leave without waiting for the 221: the verdict is known already, and a
    round trip less per address keeps the MX check off `verify`'s critical path."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(min(timeout, 2.0)):
            writer.write(b"QUIT\r\n")
            await writer.drain()
