"""verify's DNS stub against a resolver that misbehaves: truncation, stray answers, garbage."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from mtasts.verify.dns import DnsResult, Lookups, Resolver, lookup

NAME = "_mta-sts.example.com"
RECORD = '"v=STSv1; id=20240101"'

Reply = Callable[[dns.message.Message], list[bytes]]


def answer(query: dns.message.Message) -> dns.message.Message:
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text(NAME + ".", 300, "IN", "TXT", RECORD))
    return response


class OddResolver:
    """UDP answers as `udp` makes them (several datagrams per query, or none); TCP answers
    truthfully, or as `tcp` makes it, and counts its queries."""

    def __init__(self, udp: Reply, tcp: Callable[[dns.message.Message], bytes] | None = None) -> None:
        self.udp_reply = udp
        self.tcp_reply = tcp or (lambda query: answer(query).to_wire())
        self.tcp_queries = 0
        self.peers: set[tuple[str, int]] = set()  # where the UDP queries came from
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen()
        threading.Thread(target=self._serve_udp, daemon=True).start()
        threading.Thread(target=self._serve_tcp, daemon=True).start()

    def _serve_udp(self) -> None:
        while True:
            try:
                wire, peer = self.udp.recvfrom(4096)
            except OSError:
                return
            self.peers.add(peer)
            try:
                for datagram in self.udp_reply(dns.message.from_wire(wire)):
                    self.udp.sendto(datagram, peer)
            except OSError:
                return  # closed while it was still sending

    def _serve_tcp(self) -> None:
        while True:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            with conn:
                (length,) = struct.unpack("!H", conn.recv(2))
                query = dns.message.from_wire(conn.recv(length))
                self.tcp_queries += 1
                wire = self.tcp_reply(query)
                conn.sendall(struct.pack("!H", len(wire)) + wire)

    def close(self) -> None:
        self.udp.close()
        self.tcp.close()


@pytest.fixture
def resolver_with() -> Iterator[Callable[..., tuple[OddResolver, Resolver]]]:
    made: list[OddResolver] = []

    def make(
        udp: Reply, tcp: Callable[[dns.message.Message], bytes] | None = None
    ) -> tuple[OddResolver, Resolver]:
        server = OddResolver(udp, tcp)
        made.append(server)
        return server, Resolver(("127.0.0.1",), server.port, timeout=0.5, lifetime=1.5)

    yield make
    for server in made:
        server.close()


def truncated_over_udp(query: dns.message.Message) -> list[bytes]:
    """An empty answer with TC set: the stub must ask again over TCP (RFC 7766 §5)."""
    response = dns.message.make_response(query)
    response.flags |= dns.flags.TC
    return [response.to_wire()]


def test_a_truncated_answer_is_asked_again_over_tcp(
    resolver_with: Callable[..., tuple[OddResolver, Resolver]],
) -> None:
    server, resolver = resolver_with(truncated_over_udp)
    result = asyncio.run(lookup(resolver, NAME, "TXT"))
    assert result.ok, result.error
    assert result.records == ("v=STSv1; id=20240101",)
    assert server.tcp_queries == 1


def test_answers_with_another_id_or_question_and_garbage_are_ignored_until_the_real_answer(
    resolver_with: Callable[..., tuple[OddResolver, Resolver]],
) -> None:
    def stray_first(query: dns.message.Message) -> list[bytes]:
        real = answer(query)
        other_id = answer(query)
        other_id.id = (query.id + 1) % 65536
        other_question = dns.message.make_response(dns.message.make_query("evil.example.", "TXT"))
        other_question.id = query.id
        other_question.answer.append(
            dns.rrset.from_text("evil.example.", 300, "IN", "TXT", '"v=STSv1; id=evil"')
        )
        return [b"\x00garbage", other_id.to_wire(), other_question.to_wire(), real.to_wire()]

    server, resolver = resolver_with(stray_first)
    result = asyncio.run(lookup(resolver, NAME, "TXT"))
    assert result.records == ("v=STSv1; id=20240101",), result
    assert server.tcp_queries == 0


def test_a_domains_questions_share_one_socket_each_with_its_own_id_and_answer(
    resolver_with: Callable[..., tuple[OddResolver, Resolver]],
) -> None:
    # Asked at once, a batch goes out from one source port with a fresh ID per question, and
    # each answer (given here in reverse order) goes to its own question; once all are
    # answered, the socket is closed.
    held: list[tuple[dns.message.Message, int]] = []
    names = [f"q{index}.example.com" for index in range(5)]

    def own_answer(query: dns.message.Message) -> dns.message.Message:
        name = query.question[0].name
        response = dns.message.make_response(query)
        response.answer.append(dns.rrset.from_text(name, 300, "IN", "TXT", f'"{name}"'))
        return response

    def in_reverse(query: dns.message.Message) -> list[bytes]:
        held.append((query, query.id))
        if len(held) < len(names):
            return []
        return [own_answer(query).to_wire() for query, _ in reversed(held)]

    server, resolver = resolver_with(in_reverse)

    async def ask_all() -> list[DnsResult]:
        lookups = Lookups(resolver)
        before = len(os.listdir("/proc/self/fd"))
        results = [await task for task in [lookups.get(name, "TXT") for name in names]]
        assert len(os.listdir("/proc/self/fd")) <= before
        return results

    results = asyncio.run(ask_all())
    assert [result.records for result in results] == [(f"{name}.",) for name in names]
    assert len({qid for _, qid in held}) == len(names)
    assert len(server.peers) == 1, server.peers


def test_a_resolver_sending_only_stray_answers_is_reported_as_not_answering_within_the_lifetime(
    resolver_with: Callable[..., tuple[OddResolver, Resolver]],
) -> None:
    def only_strays(query: dns.message.Message) -> list[bytes]:
        stray = answer(query)
        stray.id = (query.id + 1) % 65536
        return [b"\xff" * 3, stray.to_wire()]

    _, resolver = resolver_with(only_strays)
    result = asyncio.run(asyncio.wait_for(lookup(resolver, NAME, "TXT"), 5))
    assert not result.ok
    assert f"did not answer {NAME} TXT within 1.5 s" in (result.error or "")


def test_a_lookup_waiting_for_a_place_under_the_shared_limit_still_gets_its_whole_lifetime(
    resolver_with: Callable[..., tuple[OddResolver, Resolver]],
) -> None:
    # The queries in flight are bounded across domains (Session.query_limit). A lookup queued
    # behind others that stall has not asked anything yet: it must not run out of time while
    # it waits, nor say the resolver did not answer a question never sent.
    _, resolver = resolver_with(lambda query: [answer(query).to_wire()])

    async def queued_behind_a_stall() -> object:
        limit = asyncio.Semaphore(1)
        async with limit:  # another domain's lookups hold every place for a while
            waiting = asyncio.ensure_future(lookup(resolver, NAME, "TXT", limit))
            await asyncio.sleep(resolver.lifetime + 1.5)
        return await asyncio.wait_for(waiting, 5)

    result = asyncio.run(queued_behind_a_stall())
    assert result.ok, result.error
    assert result.records == ("v=STSv1; id=20240101",)


def test_an_answer_truncated_over_tcp_too_is_named_as_truncated(
    resolver_with: Callable[..., tuple[OddResolver, Resolver]],
) -> None:
    def truncated(query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.TC
        return response

    _, resolver = resolver_with(
        lambda query: [truncated(query).to_wire()], lambda query: truncated(query).to_wire()
    )
    result = asyncio.run(lookup(resolver, NAME, "TXT"))
    assert not result.ok
    assert "truncated over TCP too" in (result.error or ""), result.error
    assert "another question" not in (result.error or "")


def test_replies_with_the_right_id_that_cannot_be_read_are_named_when_no_answer_comes(
    resolver_with: Callable[..., tuple[OddResolver, Resolver]],
) -> None:
    # Such a reply is skipped (a spoofed one must not end the wait), so the lookup runs out
    # of time; saying only "did not answer" hid that the resolver, or something on the way,
    # answered every time with a damaged reply.
    _, resolver = resolver_with(lambda query: [answer(query).to_wire()[:-1]])
    result = asyncio.run(lookup(resolver, NAME, "TXT"))
    assert f"did not answer {NAME} TXT within 1.5 s (" in (result.error or ""), result.error
    assert "replies with its ID could not be read: FormError" in (result.error or ""), result.error


def test_a_resolver_flooding_garbage_is_still_given_up_on_within_the_lifetime(
    resolver_with: Callable[..., tuple[OddResolver, Resolver]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A datagram that is not the answer is skipped and the next one read; when the socket
    # always has one (a flood at line rate), a reader that drained it before returning never
    # gave the event loop back, so neither the per-try timeout nor anything else could run.
    # A real flood from this machine does not outrun the reader, so the socket here reads as
    # one that always holds another stray answer with the right ID.
    _, resolver = resolver_with(lambda query: [answer(query).to_wire()])  # makes it readable
    reads = 0

    class Flooded(socket.socket):
        qid = b""

        def send(self, data: bytes, *args: int) -> int:
            self.qid = data[:2]
            return super().send(data, *args)

        def recv(self, size: int, *args: int) -> bytes:
            nonlocal reads
            if self.type != socket.SOCK_DGRAM or not self.qid:
                return super().recv(size, *args)
            reads += 1
            if reads > 200_000:
                raise OSError("the flood ended")  # so that a reader that does not stop still ends
            stray = dns.message.make_response(dns.message.make_query("evil.example.", "TXT"))
            return self.qid + stray.to_wire()[2:]

    monkeypatch.setattr(socket, "socket", Flooded)
    result = asyncio.run(lookup(resolver, NAME, "TXT"))
    assert f"did not answer {NAME} TXT within 1.5 s" in (result.error or ""), result.error
    assert reads < 200_000


def test_a_resolver_that_gave_no_answer_is_not_reported_as_answering_servfail(
    resolver_with: Callable[..., tuple[OddResolver, Resolver]],
) -> None:
    # Truncated over UDP, then over TCP an answer for another question: no server said any
    # rcode. A SERVFAIL there would read as a validating resolver's verdict (bogus DNSSEC),
    # which the MX check fails a host for (`checks.mx_tls`).
    def other_question(query: dns.message.Message) -> bytes:
        stray = dns.message.make_response(dns.message.make_query("evil.example.", "TLSA"))
        stray.id = query.id
        return stray.to_wire()

    _, resolver = resolver_with(truncated_over_udp, other_question)
    result = asyncio.run(lookup(resolver, "_25._tcp.mx.example.com", "TLSA"))
    assert not result.ok
    assert "gave no answer" in (result.error or ""), result.error
    assert result.rcode != "SERVFAIL"


@pytest.mark.parametrize("rcode", [9, 15, 16])  # NOTAUTH, unassigned, BADVERS (extended)
def test_a_resolver_answering_another_error_rcode_is_not_reported_as_answering_servfail(
    resolver_with: Callable[..., tuple[OddResolver, Resolver]], rcode: int
) -> None:
    # Only a SERVFAIL is a validating resolver's verdict of bogus DNSSEC (`checks.mx_tls`);
    # an rcode the resolver did say is kept as it said it.
    def error(query: dns.message.Message) -> list[bytes]:
        response = dns.message.make_response(query)
        response.set_rcode(rcode)  # type: ignore[arg-type]  # any int
        return [response.to_wire()]

    _, resolver = resolver_with(error)
    result = asyncio.run(lookup(resolver, "_25._tcp.mx.example.com", "TLSA"))
    said = dns.rcode.to_text(rcode)  # type: ignore[arg-type]  # any int
    assert f"answered {said} for _25._tcp.mx.example.com TLSA" in (result.error or ""), result.error
    assert result.rcode == said


@pytest.mark.parametrize("reported_on", ["recv", "send"])
def test_an_answer_that_came_before_a_refusal_is_read_not_failed_with_it(reported_on: str) -> None:
    # A domain's questions share a socket, and it reports an ICMP error (port unreachable)
    # ahead of the datagrams it already holds, on the next recv or send. The first question's
    # answer came before the refusal that a later question met: it must be read, not lost
    # with the socket's error as if that server had refused it too.
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    resolver = Resolver(("127.0.0.1",), udp.getsockname()[1], timeout=0.5, lifetime=1.5)
    answered = threading.Event()

    def answer_once_then_close() -> None:
        wire, peer = udp.recvfrom(4096)
        udp.sendto(answer(dns.message.from_wire(wire)).to_wire(), peer)
        udp.close()  # the questions after it meet a closed port
        answered.set()

    threading.Thread(target=answer_once_then_close, daemon=True).start()

    async def ask() -> list[DnsResult]:
        lookups = Lookups(resolver)
        first = lookups.get(NAME, "TXT")
        await asyncio.sleep(0)  # the first question is sent
        assert answered.wait(5)  # holding the loop, so its answer waits unread in the socket
        # The second question's datagram draws the ICMP error; a third one's send reports it.
        later = [
            lookups.get(f"q{index}.example.com", "TXT") for index in range(1 if reported_on == "recv" else 2)
        ]
        return [await task for task in [first, *later]]

    try:
        first, *later = asyncio.run(ask())
    finally:
        udp.close()
    assert first.ok and first.records == ("v=STSv1; id=20240101",), first
    assert all("ConnectionRefusedError" in (result.error or "") for result in later), later


def test_query_ids_are_random_bytes_drawn_a_batch_at_a_time_and_not_shared_with_a_forked_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each ID is two bytes of the system's CSPRNG, used once; one read serves many questions.
    from mtasts.verify import dns as stub

    reads: list[int] = []

    def counted(count: int) -> bytes:
        reads.append(count)
        return bytes(range(count))

    stub._drawn_ids.clear()  # IDs left by earlier tests
    monkeypatch.setattr(stub.secrets, "token_bytes", counted)
    ids = [stub._query_id() for _ in range(2 * stub._IDS_PER_DRAW)]
    assert reads == [2 * stub._IDS_PER_DRAW] * 2
    drawn = struct.unpack(f"!{stub._IDS_PER_DRAW}H", bytes(range(2 * stub._IDS_PER_DRAW)))
    assert sorted(ids) == sorted(drawn * 2)
    monkeypatch.undo()

    stub._query_id()  # leaves IDs drawn in this process
    assert stub._drawn_ids
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(writer, b"%d" % len(stub._drawn_ids))
        finally:
            os._exit(0)  # never back into pytest
    os.close(writer)
    os.waitpid(child, 0)
    assert os.read(reader, 16) == b"0"
    os.close(reader)
