"""In-process DNS and HTTPS servers on 127.0.0.1 for the `verify` unit tests (no tests here).

`FakeDns` answers from a dict of (name, type) → record texts; `FakeHttps` serves a
response per Host header with a trustme certificate. Both run in threads so synchronous
callers (the command line, `check_policy_served_sync`) can use them too.
"""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import trustme

from tests.smtp_fake import FakeSmtp

Zone = dict[tuple[str, str], list[str]]


class FakeDns:
    """A UDP DNS server answering from `zone`; names in `silent` get no answer (a timeout),
    names in `rcodes` get that error code (SERVFAIL, REFUSED) and no data."""

    def __init__(self, zone: Zone | None = None, *, authenticated: bool = False) -> None:
        self.zone: Zone = dict(zone or {})
        self.silent: set[str] = set()
        self.rcodes: dict[str, int] = {}
        self.authenticated = authenticated
        self.questions: list[tuple[str, str]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._running = True
        self._thread.start()

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.questions.append((name, rdtype))
        if name in self.rcodes:
            response.set_rcode(self.rcodes[name])
            return response
        if self.authenticated:
            response.flags |= dns.flags.AD
        for _ in range(32):  # follow CNAMEs inside the zone, loops and long chains too
            cname = self.zone.get((name, "CNAME"))
            if cname and rdtype != "CNAME":
                response.answer.append(dns.rrset.from_text(name + ".", 300, "IN", "CNAME", cname[0] + "."))
                name = cname[0].rstrip(".").lower()
                continue
            break
        records = self.zone.get((name, rdtype), [])
        if records:
            texts = [r + "." if rdtype in ("CNAME",) else r for r in records]
            response.answer.append(dns.rrset.from_text_list(name + ".", 300, "IN", rdtype, texts))
        elif not any(key[0] == name or key[0].endswith("." + name) for key in self.zone):
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response

    def _serve(self) -> None:
        while self._running:
            try:
                wire, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(wire)
            name = query.question[0].name.to_text(omit_final_dot=True).lower()
            if name in self.silent:
                continue
            self.sock.sendto(self._answer(query).to_wire(), peer)

    def close(self) -> None:
        self._running = False
        self.sock.close()


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/plain"})
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes
    delay: float = 0.0  # seconds between the request and the response: a far-away host


class FakeHttps:
    """An HTTPS server for `names` with a certificate from `ca`; replies chosen by Host header."""

    def __init__(
        self,
        ca: trustme.CA,
        names: list[str],
        replies: dict[str, Reply] | None = None,
        *,
        expired: bool = False,
        only_tls_1_1: bool = False,
        address: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`address`/`port`: where to listen; several servers on one port stand for the
        several A/AAAA addresses of one host (any loopback address, ::1 for IPv6)."""
        self.replies: dict[str, Reply] = dict(replies or {})
        self.requests: list[tuple[str, str]] = []
        if expired:
            now = datetime.datetime.now(datetime.UTC)
            cert = ca.issue_cert(
                *names,
                not_before=now - datetime.timedelta(days=30),
                not_after=now - datetime.timedelta(days=1),
            )
        else:
            cert = ca.issue_cert(*names)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        if only_tls_1_1:  # an outdated server; OpenSSL offers TLS 1.1 only at security level 0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
                fake.requests.append((host, self.path))
                reply = fake.replies.get(host, Reply(404, b"not found\n"))
                time.sleep(reply.delay)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.send_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(reply.body)

            def setup(self) -> None:
                self.request.do_handshake()  # in this request's thread, not the accepting one
                super().setup()

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 512
            daemon_threads = True
            address_family = socket.AF_INET6 if ":" in address else socket.AF_INET

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # failed handshakes are what some tests provoke

        self.server = Server((address, port), Handler)
        self.server.socket = context.wrap_socket(
            self.server.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


GOOD_POLICY = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.mx.example.com\nmax_age: 86400\n"


@contextlib.contextmanager
def silent_listeners(addresses: list[str], port: int) -> Iterator[None]:
    """A tarpit: TCP listeners on `addresses` whose connections complete in the backlog and
    are never spoken to, so each one holds a client's place until its timeout."""
    listeners = []
    try:
        for address in addresses:
            listener = socket.socket()
            listener.bind((address, port))
            listener.listen(8)
            listeners.append(listener)
        yield
    finally:
        for listener in listeners:
            listener.close()


def good_zone(domain: str = "example.com", *, sts_id: str = "abc123") -> Zone:
    """A domain whose every check passes when its policy host serves GOOD_POLICY."""
    host = f"mta-sts.{domain}"
    return {
        (f"_mta-sts.{domain}", "TXT"): [f'"v=STSv1; id={sts_id}"'],
        (domain, "MX"): ["10 mail.example.com.", "20 b.mx.example.com."],
        (host, "A"): ["127.0.0.1"],
        (host, "MX"): ["0 ."],
        (host, "TXT"): ['"v=spf1 -all"'],
        (f"_smtp._tls.{domain}", "TXT"): [f'"v=TLSRPTv1; rua=mailto:tls@{domain}"'],
        # The MX hosts, served by the World's FakeSmtp.
        ("mail.example.com", "A"): ["127.0.0.1"],
        ("b.mx.example.com", "A"): ["127.0.0.1"],
    }


class World:
    """A fake DNS server and HTTPS server, with the CA file and options that reach them."""

    def __init__(self, tmp_path: object, zone: Zone, replies: dict[str, Reply], names: list[str]) -> None:
        from pathlib import Path

        from mtasts.verify import VerifyOptions

        self.ca = trustme.CA()
        self.ca_file = str(Path(str(tmp_path)) / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        self.dns = FakeDns(zone)
        self.https = FakeHttps(self.ca, names, replies)
        self.smtp = FakeSmtp(self.ca, ["mail.example.com", "b.mx.example.com"])
        self.options = VerifyOptions(
            nameserver="127.0.0.1",
            port=self.dns.port,
            ca_file=self.ca_file,
            timeout=2.0,
            https_port=self.https.port,
            smtp_port=self.smtp.port,
        )

    def close(self) -> None:
        self.dns.close()
        self.https.close()
        self.smtp.close()
