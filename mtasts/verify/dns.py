"""DNS lookups for `verify`: one resolver for every name, answers as plain values.

With `--nameserver` every query (the policy host's address included) goes to that server;
otherwise the system's resolv.conf is used. Queries carry the AD and DO flags so a
validating resolver says whether the answer is DNSSEC-validated (information only).
Nothing here judges an answer: `checks` does.

The exchange with the resolver is a small stub (`Resolver.query`): dnspython reads resolv.conf
and parses names and the data of the rarer record types (`_record` reads the common ones), but
its asynchronous resolver is not used, because building a `Message` per question and its
resolution machinery cost more CPU than everything else `verify` does per domain. The stub
keeps what that resolver did for us: a fresh random ID per query and a fresh source port per
batch of questions (`_Channel`), answers accepted only from the server asked and only for the
question asked, TCP when the answer is truncated, a per-try timeout within the lifetime, and a
server that answers SERVFAIL, REFUSED or garbage taken out of the rotation. `_read_reply` says why
a response is read section by section rather than as a whole `Message`.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.ipv4
import dns.ipv6
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.wire

from mtasts.errors import MtaStsError
from mtasts.names import normalize
from mtasts.verify.model import VerifyOptions
from mtasts.visible import NAMES_LISTED, clip, listing, quoted

# Bounds the questions in flight at once, whatever the domain concurrency: the load on the
# resolver, and the sockets open (a domain's questions share one, a lone question has its own).
MAX_QUERIES_IN_FLIGHT = 256

# EDNS0 (RFC 6891) payload size, as DNS Flag Day 2020 advises, and the DO bit (RFC 3225).
_PAYLOAD = 1232
# RD, and AD: asks a validating resolver to say whether it validated (RFC 6840 §5.7).
_QUERY_FLAGS = dns.flags.RD | dns.flags.AD
# The header bits a response is read by, as plain ints: `int & IntFlag` runs enum code in Python.
_QR, _TC, _AD = int(dns.flags.QR), int(dns.flags.TC), int(dns.flags.AD)
_OPCODE_BITS = 0x7800  # the opcode's four bits in the flags word (RFC 1035 §4.1.1); QUERY is 0
# The OPT pseudo-record: root owner, type 41, class = payload size, TTL carries DO (RFC 6891 §6.1.3).
_OPT = b"\x00" + struct.pack("!HHIH", dns.rdatatype.OPT, _PAYLOAD, 0x8000, 0)


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
    # The answer came, and is itself the domain's fault (a CNAME loop, or a chain longer than
    # resolvers follow): every sender's resolver meets it too, so it is a failure, not unknown.
    broken: bool = False

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
        return listing(self.records, NAMES_LISTED, show=quoted)


class _BrokenChain(dns.message.ChainTooLong):
    """The answer's CNAME chain loops or runs past MAX_CHAIN names (what dnspython calls
    ChainTooLong, a loop included); the text says which."""


class _Unanswered(Exception):
    """Every server was taken out of the rotation: `answered` what they said (SERVFAIL,
    REFUSED, or "" when none answered), `failures` why the others gave no answer."""

    def __init__(self, answered: list[str], failures: list[str]) -> None:
        if not answered and not failures:
            answered = ["SERVFAIL"]
        self.answered = ", ".join(dict.fromkeys(answered))
        self.failures = ", ".join(dict.fromkeys(failures))
        super().__init__(self.answered or self.failures)


@dataclass(frozen=True)
class Resolver:
    """Where questions go and how long each may take: `timeout` per try, `lifetime` in all."""

    nameservers: tuple[str, ...]
    port: int = 53
    timeout: float = 2.0
    lifetime: float = 10.0

    def describe(self) -> str:
        """Who was asked, for "could not check" messages."""
        port = "" if self.port == 53 else f" port {self.port}"
        return f"the resolver {', '.join(self.nameservers) or '(none configured)'}{port}"

    async def query(self, name: str, rdtype: str, channels: Channels | None = None) -> _Reply:
        """The response to one question (NOERROR or NXDOMAIN, any other rcode is an error),
        asked over `channels` when the question is one of a batch.

        Raises TimeoutError when no server answered within the lifetime, `_Unanswered` when
        every server answered with an error, DNSException for a name that cannot be asked.
        """
        question = _Question.of(name, rdtype)
        channels = channels or Channels()
        malformed = _Malformed()
        deadline = time.monotonic() + self.lifetime
        servers = list(self.nameservers)
        answered: list[str] = []
        failures: list[str] = []
        while servers:
            for server in list(servers):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _TimedOut(malformed)
                try:
                    reply = await _exchange(
                        server, self.port, question, min(self.timeout, left), channels, malformed
                    )
                except TimeoutError:
                    continue
                except (OSError, EOFError, dns.exception.DNSException) as error:
                    failures.append(
                        f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                    )
                    servers.remove(server)
                    continue
                if reply.rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                    return reply
                rcode = dns.rcode.to_text(reply.rcode)  # type: ignore[arg-type]  # any int
                if rcode == "YXDOMAIN":
                    from dns.resolver import YXDOMAIN  # see make_resolver

                    raise YXDOMAIN
                answered.append(rcode)
                servers.remove(server)
        raise _Unanswered(answered, failures)


class NoResolverError(MtaStsError, ValueError):
    """This machine names no DNS resolver to ask, and no --nameserver was given."""


def system_nameservers() -> tuple[tuple[str, ...], int]:
    """The resolvers this machine names now (resolv.conf, or Windows' network settings) and
    their port, as senders here would ask; NoResolverError, saying the fix, when it names none
    (an empty or missing resolv.conf, as in some containers, or with the network down)."""
    # dns.resolver is imported only here: it loads dnspython's DNS-over-HTTPS support, and
    # with it an HTTP client, which the stub never uses (a tenth of `python -m mtasts` start-up).
    from dns.resolver import NoResolverConfiguration
    from dns.resolver import Resolver as SystemResolver

    try:
        system = SystemResolver()
    except NoResolverConfiguration as error:
        raise NoResolverError(
            f"this machine names no DNS resolver to ask ({error}): give it one (a nameserver line "
            "in /etc/resolv.conf; on Windows, a DNS server in the network settings)"
        ) from None
    return tuple(str(server) for server in system.nameservers), system.port


def make_resolver(options: VerifyOptions) -> Resolver:
    """The stub for a run: --nameserver, else the machine's resolvers; NoResolverError when
    there are none."""
    per_try = max(0.2, min(2.0, options.timeout / 2))  # retries fit in the lifetime
    if options.nameserver:
        return Resolver((options.nameserver,), options.port, per_try, options.timeout)
    servers, port = system_nameservers()  # read now: verify must see what senders see now
    return Resolver(servers, port, per_try, options.timeout)


@functools.lru_cache(maxsize=1024)
def _absolute_name(text: str) -> dns.name.Name:
    """`dns.name.from_text(text)`, for a name written with its final dot.

    from_text reads a name a character at a time (for its escapes), the costliest step of
    asking a question; a plain ASCII name with no escape and no empty label is split at
    its dots instead, and `Name` checks the label and name lengths as from_text's result
    would. Anything else goes to from_text. Kept for the next question (a `Name` is
    immutable): a domain asks five about its policy host."""
    if text.isascii() and "\\" not in text and text.endswith(".") and text != ".":
        labels = text[:-1].split(".")
        if all(labels):
            return dns.name.Name([*(label.encode("ascii") for label in labels), b""])
    return dns.name.from_text(text)


@dataclass(frozen=True)
class _Question:
    """One question: the name as dnspython checked it, and its wire forms for sending and matching."""

    name: dns.name.Name
    rdtype: int
    wire: bytes  # name, type, class and our OPT record: the query after its header
    owner: bytes  # the name in wire form, lower-case (names match case-insensitively, RFC 4343)
    type_class: bytes

    @classmethod
    def of(cls, name: str, rdtype: str) -> _Question:
        qname = _absolute_name(name)
        qtype = dns.rdatatype.from_text(rdtype)
        owner = qname.to_wire() or b""
        type_class = struct.pack("!HH", qtype, dns.rdataclass.IN)
        return cls(qname, qtype, owner + type_class + _OPT, owner.lower(), type_class)


@dataclass(frozen=True)
class _Reply:
    """What `verify` reads from a response: its rcode (with the EDNS extension), its header
    flags, and the answer section's records of the type asked or CNAME (`_Answer` below)."""

    question: _Question
    rcode: int
    flags: int
    answers: tuple[_Answer, ...]


# One answer record as `lookup` uses it: its owner and type; what makes it the same record as
# another (dnspython's rdata equality, which compares the canonical wire form); its text as
# `DnsResult.records` spells it; and a CNAME's target, for following the chain.
_Answer = tuple[dns.name.Name, int, Hashable, str, "dns.name.Name | None"]


class _Malformed:
    """How many replies to one question came from the server with the question's ID, but could
    not be read (and why the first could not): ignored, as a spoofed reply must be, and named
    when no answer came."""

    def __init__(self) -> None:
        self.count = 0
        self.first = ""

    def seen(self, error: dns.exception.DNSException) -> None:
        self.count += 1
        if not self.first:
            said = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            self.first = clip(said, 200)

    def describe(self) -> str:
        if not self.count:
            return ""
        replies = "a reply" if self.count == 1 else f"{self.count} replies"
        return f"{replies} with its ID could not be read: {self.first}"


class _TimedOut(TimeoutError):
    """No server answered within the lifetime; `malformed` says what came that was not an answer."""

    def __init__(self, malformed: _Malformed) -> None:
        super().__init__()
        self.malformed = malformed


class _Truncated(Exception):
    """The response to our question had the TC bit: ask again over TCP."""


def _read_reply(wire: bytes, qid: int, question: _Question) -> _Reply | None:
    """The response in `wire`, or None when it is not the answer to this query.

    dnspython's `Message.from_wire` builds every section into de-duplicated RRsets, hashing
    each record's canonical form, and its `resolve_chaining` walks the authority section for a
    negative TTL: together half of verify's DNS CPU, for data verify never reads. This reads the
    same wire with dnspython's own parsers (names, with their compression-pointer checks, and
    record data) and keeps only what `lookup` uses; a response dnspython would refuse
    (short, trailing bytes, a misplaced or repeated OPT, a TSIG) is refused here too.
    """
    if len(wire) < 12:
        raise dns.message.ShortHeader
    rid, flags, qdcount, ancount, nscount, arcount = struct.unpack_from("!6H", wire)
    if rid != qid or not flags & _QR or qdcount != 1:
        return None
    if flags & _OPCODE_BITS:  # not a standard query
        return None
    # The question as it came back: our name (in any case) and exactly our type and class.
    name_end = 12 + len(question.owner)
    if wire[12:name_end].lower() != question.owner or wire[name_end : name_end + 4] != question.type_class:
        return None
    if flags & _TC:
        raise _Truncated
    parser = dns.wire.Parser(wire, name_end + 4)
    answers = []
    for _ in range(ancount):
        owner = _answer_owner(parser, question)
        rdtype, rdclass, _ttl, length = parser.get_struct("!HHIH")
        if rdtype in (dns.rdatatype.OPT, dns.rdatatype.TSIG):
            raise dns.message.BadEDNS if rdtype == dns.rdatatype.OPT else dns.message.BadTSIG
        if rdclass == dns.rdataclass.IN and rdtype in (question.rdtype, dns.rdatatype.CNAME):
            with parser.restrict_to(length):
                answers.append((owner, rdtype, *_record(parser, rdtype)))
        else:
            parser.seek(parser.current + length)  # RRSIGs and the like: not read
    extended_rcode = None
    for additional, count in ((False, nscount), (True, arcount)):
        for _ in range(count):
            root = _skip_name(parser)
            rdtype, _rdclass, ttl, length = parser.get_struct("!HHIH")
            if rdtype == dns.rdatatype.TSIG:
                raise dns.message.BadTSIG  # signed answers are not asked for (no keyring)
            if rdtype == dns.rdatatype.OPT:
                # RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
                if not additional or extended_rcode is not None or not root:
                    raise dns.message.BadEDNS
                extended_rcode = ttl >> 24  # the upper eight bits of the rcode (RFC 6891 §6.1.3)
            parser.seek(parser.current + length)
    if parser.remaining():
        raise dns.message.TrailingJunk
    rcode = (flags & 0xF) | ((extended_rcode or 0) << 4)
    return _Reply(question, rcode, flags, tuple(answers))


def _record(parser: dns.wire.Parser, rdtype: int) -> tuple[Hashable, str, dns.name.Name | None]:
    """One record's data, restricted to its length: (identity, text, CNAME target).

    The types verify asks most (TXT, MX, A, AAAA, CNAME) are read here the way dnspython's
    rdata classes read them, without building an immutable `Rdata` (most of the CPU of reading
    an answer); what those classes refuse is refused here too, as FormError. Other types
    (TLSA) are built by dnspython."""
    with dns.exception.ExceptionWrapper(dns.exception.FormError):  # as dns.rdata.from_wire_parser
        if rdtype == dns.rdatatype.TXT:
            raw = parser.wire[parser.current : parser.end]
            strings = []
            while parser.remaining() > 0:
                strings.append(parser.get_counted_bytes())
            if not strings:
                raise dns.exception.FormError("a TXT record holds at least one string")
            return raw, b"".join(strings).decode("utf-8", "replace"), None
        if rdtype == dns.rdatatype.A:
            raw = parser.get_remaining()
            return raw, dns.ipv4.inet_ntoa(raw), None
        if rdtype == dns.rdatatype.AAAA:
            raw = parser.get_remaining()
            return raw, dns.ipv6.inet_ntoa(raw), None
        if rdtype == dns.rdatatype.MX:
            preference = parser.get_uint16()
            exchange = parser.get_name(None, True)  # names are compared case-insensitively
            return (preference, exchange), _mx_text(preference, exchange), None
        if rdtype == dns.rdatatype.CNAME:
            target = parser.get_name(None, True)
            return target, _name_text(target), target
        rdata = dns.rdata.from_wire_parser(dns.rdataclass.IN, rdtype, parser)  # type: ignore[arg-type]
    return rdata, record_text(rdata), None


# The question's name starts right after the header, at offset 12; an answer's owner is nearly
# always a compression pointer back at it (RFC 1035 §4.1.4).
_POINTER_TO_QUESTION = b"\xc0\x0c"


def _answer_owner(parser: dns.wire.Parser, question: _Question) -> dns.name.Name:
    """An answer record's owner: the question's name itself when it points there, which spares
    building a Name per record (the costliest step left in reading an answer)."""
    if parser.wire[parser.current : parser.current + 2] == _POINTER_TO_QUESTION:
        parser.seek(parser.current + 2)
        return question.name  # the question came back as asked (`_read_reply` checked it)
    return parser.get_name(decompress=True)


def _skip_name(parser: dns.wire.Parser) -> bool:
    """Step over a name in a section verify does not read; True when it is the root name.

    Its labels are not read, so a pointer in it is not followed either. The bytes are looked
    at in place: the parser's calls per label were most of the cost of reading an answer whose
    authority and additional sections hold a dozen names. Running past the end is FormError,
    as the parser's reads are."""
    wire, start, end = parser.wire, parser.current, parser.end
    at = start
    while at < end:
        length = wire[at]
        if length == 0:
            parser.seek(at + 1)
            return at == start
        if length >= 0xC0:  # a compression pointer ends the name
            parser.seek(at + 2)
            return False
        if length >= 0x40:
            raise dns.name.BadLabelType
        at += 1 + length
    raise dns.exception.FormError


# Query IDs read from the system's CSPRNG at once: a domain asks eight questions or more, and
# a `getrandom` call per ID was a system call per question for two bytes.
_IDS_PER_DRAW = 32
_drawn_ids: list[int] = []
# A forked child must not send the IDs its parent will also send. Windows has no fork (nor
# this hook).
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drawn_ids.clear)


def _query_id() -> int:
    """A fresh ID from the system's CSPRNG, uniform over all 65,536 (each is two random bytes)
    and used once: the next of the IDs drawn `_IDS_PER_DRAW` at a time."""
    if not _drawn_ids:
        _drawn_ids.extend(struct.unpack(f"!{_IDS_PER_DRAW}H", secrets.token_bytes(2 * _IDS_PER_DRAW)))
    return _drawn_ids.pop()


def _query_wire(qid: int, question: _Question) -> bytes:
    return struct.pack("!HHHHHH", qid, _QUERY_FLAGS, 1, 0, 0, 1) + question.wire


# Datagrams read per turn of the event loop: a resolver that floods the socket still lets
# the timeouts, and every other task, run between turns.
_DATAGRAMS_PER_TURN = 32


class _Channel:
    """One connected UDP socket to one server, carrying the questions asked of it at once.

    A socket per query cost a socket, a connect, a close and two event-loop registrations
    each time: a fifth of a query's CPU. The questions a domain asks at once (`Lookups`) share
    one socket instead, with one reader for its life, and each keeps a fresh random ID; as
    glibc's stub does for A and AAAA, the source port is then random per batch, not per
    question. A reply is matched by ID and question as before; the socket is connected, so
    the kernel drops datagrams from any other address or port. The channel closes as soon as
    no question waits on it, so a later question, or a retry, gets a fresh port."""

    def __init__(self, server: str, port: int, on_close: Callable[[_Channel], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_close = on_close
        self._waiting: dict[int, tuple[_Question, asyncio.Future[_Reply], _Malformed]] = {}
        self._sock = socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.setblocking(False)
            # Connecting a UDP socket only records the address: it never waits on the network.
            self._sock.connect((server, port))
            self._loop.add_reader(self._sock.fileno(), self._readable)
        except BaseException:
            self._sock.close()
            raise

    async def ask(self, question: _Question, malformed: _Malformed) -> _Reply:
        """The reply to `question`; `_Truncated` when it came truncated, OSError when the
        server's address refused it. Waits until cancelled (the caller's timeout); replies
        that could not be read are counted in `malformed`."""
        qid = _query_id()
        while qid in self._waiting:
            qid = _query_id()
        reply: asyncio.Future[_Reply] = self._loop.create_future()
        self._waiting[qid] = (question, reply, malformed)
        try:
            wire = _query_wire(qid, question)
            try:
                self._sock.send(wire)  # a datagram this small is sent at once
            except BlockingIOError:
                await self._loop.sock_sendall(self._sock, wire)
            except OSError as error:
                self._refused(error)  # an earlier question's ICMP error, reported here
            return await reply
        finally:
            del self._waiting[qid]
            if not self._waiting:
                self._close()

    def _readable(self) -> None:
        error = self._drain()
        if error is not None:
            self._refused(error)

    def _drain(self) -> OSError | None:
        """Read and hand on the datagrams the socket holds, a turn's worth at most (so that a
        flood cannot hold the loop); the error the socket reported instead, if any."""
        for _ in range(_DATAGRAMS_PER_TURN):
            try:
                datagram = self._sock.recv(65535)
            except BlockingIOError:
                return None
            except OSError as error:
                return error
            self._deliver(datagram)
        return None

    def _deliver(self, datagram: bytes) -> None:
        """Hand a datagram to the question its ID names, if it is that question's answer."""
        qid = int.from_bytes(datagram[:2], "big")
        entry = self._waiting.get(qid)
        if entry is None or entry[1].done():
            return  # for a question given up on, or a guess
        question, reply, malformed = entry
        try:
            answer = _read_reply(datagram, qid, question)
        except _Truncated as truncated:
            reply.set_exception(truncated)  # it may hide records: asked again over TCP
            return
        except dns.exception.DNSException as error:
            # Garbage from the right address, or a spoofed reply: keep waiting for the
            # answer, and say so if it never comes.
            malformed.seen(error)
            return
        if answer is not None:
            reply.set_result(answer)

    def _refused(self, error: OSError) -> None:
        """An ICMP error (port unreachable) came back for one question: the socket reports it
        once, to whichever call comes next, and it concerns the server every question here was
        sent to, so each of them fails with it.

        The socket reports it ahead of the datagrams it already holds, so those are read first:
        an answer that came before the refusal is an answer. A later error the drain meets is
        not handed on: the questions still waiting fail with this one."""
        self._drain()
        for _, reply, _ in self._waiting.values():
            if not reply.done():
                reply.set_exception(OSError(error.errno, error.strerror))

    def _close(self) -> None:
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()
        self._on_close(self)


class Channels:
    """The UDP channels open for one batch of questions (a domain's `Lookups`), one per server."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, int], _Channel] = {}

    async def ask(self, server: str, port: int, question: _Question, malformed: _Malformed) -> _Reply:
        channel = self._open.get((server, port))
        if channel is None:
            channel = _Channel(server, port, lambda closed: self._closed((server, port), closed))
            self._open[server, port] = channel
        return await channel.ask(question, malformed)

    def _closed(self, key: tuple[str, int], channel: _Channel) -> None:
        if self._open.get(key) is channel:
            del self._open[key]


async def _exchange(
    server: str, port: int, question: _Question, timeout: float, channels: Channels, malformed: _Malformed
) -> _Reply:
    """One try over UDP, then TCP when the answer was truncated (RFC 7766 §5)."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        try:
            return await channels.ask(server, port, question, malformed)
        except _Truncated:
            pass
        qid = _query_id()
        wire = _query_wire(qid, question)
        with socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.setblocking(False)
            await loop.sock_connect(tcp, (server, port))
            await loop.sock_sendall(tcp, struct.pack("!H", len(wire)) + wire)
            (length,) = struct.unpack("!H", await _read_exactly(loop.sock_recv, tcp, 2))
            try:
                reply = _read_reply(await _read_exactly(loop.sock_recv, tcp, length), qid, question)
            except _Truncated:
                raise dns.exception.FormError("the answer was truncated over TCP too") from None
            if reply is None:
                raise dns.exception.FormError("the answer over TCP is for another question")
            return reply


async def _read_exactly(
    receive: Callable[[socket.socket, int], Awaitable[bytes]], sock: socket.socket, count: int
) -> bytes:
    data = b""
    while len(data) < count:
        chunk = await receive(sock, count - len(data))
        if not chunk:
            raise EOFError("the server closed the connection")
        data += chunk
    return data


def _chained(reply: _Reply) -> list[str]:
    """The answer's CNAME chain followed to the records of the type asked, as a resolver does
    (dnspython's `resolve_chaining`: at most MAX_CHAIN names), without repeats (RFC 2181 §5);
    the records' texts."""
    question = reply.question
    if not dns.rdatatype.is_singleton(question.rdtype) and all(  # type: ignore[arg-type]  # an int
        answer[0] is question.name and answer[1] == question.rdtype for answer in reply.answers
    ):
        # Nearly every answer: records of the type asked, each owned by the question's own
        # Name (`_answer_owner`), so there is no chain to follow and no name to hash.
        return _texts(reply.answers)
    at: dict[tuple[dns.name.Name, int], list[_Answer]] = {}
    for answer in reply.answers:
        owner, rdtype = answer[0], answer[1]
        if dns.rdatatype.is_singleton(rdtype):  # type: ignore[arg-type]  # an int, as RdataType is
            at[owner, rdtype] = [answer]  # a name has one CNAME: the last one read stands
        else:
            at.setdefault((owner, rdtype), []).append(answer)
    name = question.name
    chain = [name]
    for _ in range(dns.message.MAX_CHAIN):
        found = at.get((name, question.rdtype))
        if found:
            return _texts(found)
        aliases = at.get((name, dns.rdatatype.CNAME))
        if question.rdtype == dns.rdatatype.CNAME or not aliases:
            return []
        name = aliases[0][4]  # type: ignore[assignment]  # a CNAME answer has its target
        if name in chain:
            raise _BrokenChain(f"its CNAME records loop ({_chain_text([*chain, name])})")
        chain.append(name)
    raise _BrokenChain(
        f"its CNAME chain is longer than resolvers follow ({_chain_text(chain[:4])} … "
        f"{dns.message.MAX_CHAIN} aliases and more)"
    )


def _texts(answers: Iterable[_Answer]) -> list[str]:
    texts: dict[Hashable, str] = {}
    for answer in answers:
        texts.setdefault(answer[2], answer[3])  # of equal records the first read stands
    return list(texts.values())


def _chain_text(names: list[dns.name.Name]) -> str:
    return " → ".join(_name_text(name) for name in names)


def record_text(rdata: object) -> str:
    """A dnspython record as `DnsResult.records` spells it."""
    rdtype = rdata.rdtype  # type: ignore[attr-defined]
    if rdtype == dns.rdatatype.TXT:
        return b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
    if rdtype == dns.rdatatype.MX:
        return _mx_text(rdata.preference, rdata.exchange)  # type: ignore[attr-defined]
    if rdtype == dns.rdatatype.CNAME:
        return _name_text(rdata.target)  # type: ignore[attr-defined]
    return rdata.to_text()  # type: ignore[attr-defined]


def _mx_text(preference: int, exchange: dns.name.Name) -> str:
    return f"{preference} {_name_text(exchange) or '.'}"


def _name_text(name: dns.name.Name) -> str:
    return normalize(name.to_text(omit_final_dot=True))


async def lookup(
    resolver: Resolver,
    name: str,
    rdtype: str,
    limit: asyncio.Semaphore | None = None,
    channels: Channels | None = None,
) -> DnsResult:
    """Ask one question (over `channels`, when it is one of a batch); never raises for DNS trouble.

    With `limit` (the queries in flight across domains), it first waits for a place there, and
    only then does the resolver's lifetime start: a question still queued behind others has not
    been asked, so running out of time then would blame the resolver for it."""
    if limit is None:
        return await _lookup(resolver, name, rdtype, channels)
    async with limit:
        return await _lookup(resolver, name, rdtype, channels)


async def _lookup(resolver: Resolver, name: str, rdtype: str, channels: Channels | None) -> DnsResult:
    """`lookup` once a place is held; never outlives the resolver's lifetime (each try of
    `Resolver.query` is bounded by the time left of it)."""
    try:
        reply = await resolver.query(name + ".", rdtype, channels)
        authenticated = bool(reply.flags & _AD)
        if reply.rcode == dns.rcode.NXDOMAIN:
            return DnsResult(name, rdtype, rcode="NXDOMAIN", authenticated=authenticated)
        records = _chained(reply)
    except TimeoutError as error:
        garbled = error.malformed.describe() if isinstance(error, _TimedOut) else ""
        return DnsResult(
            name,
            rdtype,
            rcode="",
            error=f"{resolver.describe()} did not answer {name} {rdtype} within {resolver.lifetime:g} s"
            + (f" ({garbled})" if garbled else ""),
        )
    except _Unanswered as error:
        said, failures = error.answered, error.failures
        # SERVFAIL reads as a validating resolver's verdict of bogus DNSSEC (`checks.mx_tls`): it
        # stands only where a server said it; another rcode is kept as said, none ("") as none.
        rcode = "SERVFAIL" if "SERVFAIL" in said.split(", ") else said
        what = f"answered {said}" if said else "gave no answer"
        if said and failures:
            what += " or no answer"
        return DnsResult(
            name,
            rdtype,
            rcode=rcode,
            error=f"{resolver.describe()} {what} for {name} {rdtype}"
            + (f" ({failures})" if failures else ""),
        )
    except _BrokenChain as error:
        return DnsResult(
            name,
            rdtype,
            rcode="",
            error=f"{name} {rdtype}: {error}, so senders' resolvers fail on it too",
            broken=True,
        )
    except dns.exception.DNSException as error:
        return DnsResult(name, rdtype, rcode="", error=f"{resolver.describe()}: {name} {rdtype}: {error}")
    return DnsResult(name, rdtype, records=tuple(records), authenticated=authenticated)


class Lookups:
    """Each question asked once per domain, all of them concurrently.

    `get` starts a query on first use and hands back the same task afterwards, so the checks
    and the drift comparison share answers without waiting on each other.
    """

    def __init__(self, resolver: Resolver, limit: asyncio.Semaphore | None = None) -> None:
        self._resolver = resolver
        self._limit = limit
        self._tasks: dict[tuple[str, str], asyncio.Task[DnsResult]] = {}
        self._channels = Channels()  # the questions asked at once share a socket per server

    def get(self, name: str, rdtype: str) -> asyncio.Task[DnsResult]:
        key = (normalize(name), rdtype.upper())
        if key not in self._tasks:
            self._tasks[key] = asyncio.ensure_future(
                lookup(self._resolver, key[0], key[1], self._limit, self._channels)
            )
        return self._tasks[key]

    async def result(self, name: str, rdtype: str) -> DnsResult:
        return await self.get(name, rdtype)

    def cancel(self) -> None:
        for task in self._tasks.values():
            task.cancel()
