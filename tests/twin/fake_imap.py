"""A scripted IMAP server on 127.0.0.1 for the lies a real server (the Dovecot twin) does not tell.

`FakeImap(messages, script)` is a context manager: on entry it issues a `trustme` certificate
for 127.0.0.1 and serves IMAP over TLS (port 993 style) on a free port of 127.0.0.1 from a
thread; `url` and `ca_file` are what a client needs. It answers just the commands `reports
--imap` sends (CAPABILITY, LOGIN, EXAMINE, UID SEARCH, UID FETCH, LOGOUT), honestly unless the
`Script` says otherwise: a byte every so often, other UIDVALIDITY lines, an echo of LOGIN,
announced sizes or literal sizes that lie, a flood of lines, a connection cut mid-FETCH. It
records the commands it got.

Every loop is bounded: a connection serves at most `MAX_COMMANDS` commands and stops
trickling or flooding after `Script.give_up` seconds, and each socket read times out, so a
client that misbehaves (or an old reader under test) cannot keep a test running for long.
Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import re
import socket
import socketserver
import ssl
import struct
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import trustme

HOST = "127.0.0.1"
USER = "tls-reports@example.com"
MAX_COMMANDS = 200


@dataclass
class Script:
    """How the server lies; the defaults are an honest server."""

    byte_delay: float = 0.0  # seconds between the bytes of every answer
    validity_lines: bytes = b"* OK [UIDVALIDITY 7] UIDs valid\r\n"
    login_reply: bytes | None = None  # instead of "OK"; `{user}` and `{password}` are filled in
    announced: dict[int, int] = field(default_factory=dict)  # UID → RFC822.SIZE to claim
    literal: dict[int, int | str] = field(
        default_factory=dict
    )  # UID → literal size to announce, nothing sent
    withheld: set[int] = field(default_factory=set)  # UIDs whose body FETCH leaves out
    # UIDs another client expunges just before the first FETCH of bodies: left out of it, and
    # of every SEARCH after it.
    expunged: set[int] = field(default_factory=set)
    empty_literals: dict[int, int] = field(default_factory=dict)  # UID → " {0}" literals sent as its body
    unasked: bytes | None = None  # a message sent under UID 99 with every FETCH of bodies
    search_reply: bytes | None = None  # what SEARCH answers after "* SEARCH", instead of the UIDs held
    flood_on_search: bool = False  # answer SEARCH with untagged lines until the client hangs up
    cut_at: int | None = None  # the UID in whose body FETCH the server closes the connection, mid-literal
    reset: bool = False  # with `cut_at`: close with a TCP reset instead of a clean close
    give_up: float = 20.0  # seconds after which trickling and flooding stop


class FakeImap:
    def __init__(self, messages: list[bytes], script: Script | None = None) -> None:
        self.messages = {uid: raw for uid, raw in enumerate(messages, start=1)}
        self.script = script or Script()
        self._gone: set[int] = set()  # expunged by "another client" (Script.expunged)
        self.commands: list[str] = []
        self.connections = 0
        self._dir = tempfile.TemporaryDirectory(prefix="fake-imap-")
        self.ca_file = Path(self._dir.name) / "ca.pem"
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(self.ca_file))
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(HOST).configure_cert(self._context)
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                fake._serve(self.request)

        self._server = socketserver.ThreadingTCPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"imaps://{USER.replace('@', '%40')}@{HOST}:{self.port}/INBOX"

    def __enter__(self) -> FakeImap:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._dir.cleanup()

    # --- one connection --------------------------------------------------------------------

    def _serve(self, raw: socket.socket) -> None:
        self.connections += 1
        raw.settimeout(10)
        started = time.monotonic()
        try:
            conn = self._context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            return
        reader = conn.makefile("rb")
        try:
            self._send(conn, b"* OK fake IMAP ready\r\n", started)
            for _ in range(MAX_COMMANDS):
                line = reader.readline(65536)
                if not line:
                    return
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                self.commands.append(text)
                if not self._answer(conn, text, started):
                    return
        except (OSError, ssl.SSLError):
            return
        finally:
            reader.close()
            conn.close()

    def _send(self, conn: ssl.SSLSocket, data: bytes, started: float) -> None:
        delay = self.script.byte_delay
        if not delay:
            conn.sendall(data)
            return
        for index in range(len(data)):
            if time.monotonic() - started > self.script.give_up:
                raise OSError("gave up trickling")
            conn.sendall(data[index : index + 1])
            time.sleep(delay)

    def _wait_for_hang_up(self, conn: ssl.SSLSocket) -> None:
        """After a promise the server will not keep: wait (bounded) until the client hangs up."""
        deadline = time.monotonic() + self.script.give_up
        while time.monotonic() < deadline:
            try:
                if not conn.recv(4096):
                    return
            except TimeoutError:
                continue

    def _answer(self, conn: ssl.SSLSocket, command: str, started: float) -> bool:
        tag, _, rest = command.partition(" ")
        verb, _, arguments = rest.partition(" ")
        verb = verb.upper()
        send = lambda data: self._send(conn, data, started)  # noqa: E731
        ok = f"{tag} OK done\r\n".encode()
        if verb == "CAPABILITY":
            send(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + ok)
        elif verb == "LOGIN":
            user, _, password = arguments.partition(" ")
            if self.script.login_reply is None:
                send(ok)
            else:
                reply = self.script.login_reply.replace(b"{user}", user.encode())
                send(
                    tag.encode() + b" " + reply.replace(b"{password}", password.strip('"').encode()) + b"\r\n"
                )
        elif verb == "EXAMINE":
            exists = f"* {len(self.messages)} EXISTS\r\n".encode()
            send(
                b"* FLAGS ()\r\n"
                + exists
                + self.script.validity_lines
                + f"{tag} OK [READ-ONLY] done\r\n".encode()
            )
        elif verb == "UID" and arguments.upper().startswith("SEARCH"):
            if self.script.flood_on_search:
                deadline = time.monotonic() + self.script.give_up
                while time.monotonic() < deadline:
                    conn.sendall(b"* OK " + b"x" * 4000 + b"\r\n")
                return False
            words = self.script.search_reply
            if words is None:
                held = [uid for uid in self.messages if uid not in self._gone]
                asked = re.fullmatch(r"SEARCH UID ([\d,]+)", arguments, re.IGNORECASE)
                if asked:
                    held = [uid for uid in held if str(uid) in asked.group(1).split(",")]
                words = " ".join(map(str, held)).encode()
            send(b"* SEARCH " + words + b"\r\n" + ok)
        elif verb == "UID" and arguments.upper().startswith("FETCH"):
            return self._fetch(conn, tag, arguments, started)
        elif verb == "LOGOUT":
            send(b"* BYE fake IMAP\r\n" + ok)
            return False
        else:
            send(f"{tag} BAD unknown command\r\n".encode())
        return True

    def _fetch(self, conn: ssl.SSLSocket, tag: str, arguments: str, started: float) -> bool:
        _, uid_set, items = arguments.split(" ", 2)
        if "BODY" in items:
            self._gone |= self.script.expunged
        uids = [
            int(uid)
            for uid in uid_set.split(",")
            if uid.isdigit() and int(uid) in self.messages and int(uid) not in self._gone
        ]
        sequence = {uid: number for number, uid in enumerate(self.messages, start=1)}
        answer = b""
        for uid in uids:
            raw = self.messages[uid]
            head = f"* {sequence[uid]} FETCH (UID {uid} "
            if "RFC822.SIZE" in items:
                answer += f"{head}RFC822.SIZE {self.script.announced.get(uid, len(raw))})\r\n".encode()
            elif uid in self.script.literal:
                self._send(
                    conn, answer + f"{head}BODY[] {{{self.script.literal[uid]}}}\r\n".encode(), started
                )
                self._wait_for_hang_up(conn)
                return False
            elif uid == self.script.cut_at and "BODY" in items:
                self._send(
                    conn, answer + f"{head}BODY[] {{{len(raw)}}}\r\n".encode() + raw[: len(raw) // 2], started
                )
                if self.script.reset:  # SO_LINGER 0: close() sends RST instead of FIN
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    conn.close()
                return False
            elif uid in self.script.empty_literals and "BODY" in items:
                chain = b" {0}\r\n" * self.script.empty_literals[uid]
                answer += f"{head}BODY[] {{0}}\r\n".encode() + chain + b")\r\n"
            elif uid not in self.script.withheld:
                answer += f"{head}BODY[] {{{len(raw)}}}\r\n".encode() + raw + b")\r\n"
        if self.script.unasked is not None and "BODY" in items:
            unasked = self.script.unasked
            answer += f"* 99 FETCH (UID 99 BODY[] {{{len(unasked)}}}\r\n".encode() + unasked + b")\r\n"
        self._send(conn, answer + f"{tag} OK done\r\n".encode(), started)
        return True

    def fetched_bodies(self) -> list[list[int]]:
        """The UIDs of each FETCH of message bodies, in order."""
        found = []
        for command in self.commands:
            match = re.search(r"UID FETCH ([\d,]+) \(BODY\.PEEK\[\]\)", command)
            if match:
                found.append([int(uid) for uid in match.group(1).split(",")])
        return found
