"""A small SMTP server on a loopback address for the fast tests: banner, EHLO, STARTTLS, QUIT.

Enough of RFC 5321 and RFC 3207 for `verify`'s probe, with the faults the probe must name:
no STARTTLS, a certificate chosen by the test, TLS 1.1 only, silence after accepting, and a
554 banner. The real-server tests use Postfix (tests/twin/mail.py); this one is for speed.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import threading
import warnings

import trustme


class FakeSmtp:
    """One listener; `cert` (default: from `ca` for `names`) is what STARTTLS presents;
    `delay`: seconds before each reply (banner, EHLO, STARTTLS), as a slow or tarpitting host;
    `starttls_reply`: what STARTTLS is answered with (a code other than 220 refuses it);
    `after_starttls`: plaintext sent in the same write as that reply, as a broken server or a
    reply injected on the path would."""

    def __init__(
        self,
        ca: trustme.CA,
        names: list[str],
        *,
        cert: trustme.LeafCert | None = None,
        starttls: bool = True,
        silent: bool = False,
        banner: str = "220 fake.example ESMTP",
        starttls_reply: str = "220 go ahead",
        only_tls_1_1: bool = False,
        delay: float = 0.0,
        after_starttls: bytes = b"",
        address: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.sessions: list[list[str]] = []  # the commands of each connection
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        (cert or ca.issue_cert(*names)).configure_cert(context)
        if only_tls_1_1:  # OpenSSL offers TLS 1.1 only at security level 0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        fake = self
        self._stop = threading.Event()

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                commands: list[str] = []
                fake.sessions.append(commands)
                connection: socket.socket = self.request
                connection.settimeout(10)
                if silent:
                    fake._stop.wait(10)
                    return
                with contextlib.suppress(OSError, ssl.SSLError):
                    fake._stop.wait(delay)
                    connection.sendall(banner.encode() + b"\r\n")
                    stream = connection.makefile("rb")
                    while line := stream.readline(4096):
                        command = line.decode("ascii", "replace").strip()
                        commands.append(command)
                        verb = command.split(" ", 1)[0].upper()
                        if verb != "QUIT":
                            fake._stop.wait(delay)
                        if verb == "EHLO":
                            lines = ["250-fake.example", "250-PIPELINING"]
                            if starttls and not isinstance(connection, ssl.SSLSocket):
                                lines.append("250-STARTTLS")
                            lines.append("250 8BITMIME")
                            connection.sendall("\r\n".join(lines).encode() + b"\r\n")
                        elif verb == "STARTTLS" and starttls:
                            connection.sendall(starttls_reply.encode() + b"\r\n" + after_starttls)
                            if starttls_reply.startswith("220"):
                                connection = context.wrap_socket(connection, server_side=True)
                                stream = connection.makefile("rb")
                        elif verb == "QUIT":
                            connection.sendall(b"221 bye\r\n")
                            return
                        else:
                            connection.sendall(b"502 not here\r\n")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            address_family = socket.AF_INET6 if ":" in address else socket.AF_INET

            def handle_error(self, request: object, client_address: object) -> None:
                pass

        self.server = Server((address, port), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
