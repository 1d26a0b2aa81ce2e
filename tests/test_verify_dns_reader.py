"""verify's section-by-section response reader against dnspython's whole-message parser.

`mtasts.verify.dns` reads only what `verify` uses from a response, for speed. On any response
dnspython can build, both must find the same rcode, flags and records (CNAME chains followed,
repeats dropped); on damaged bytes the reader may refuse or accept, but never crash, and where
both accept they agree.
"""

from __future__ import annotations

import struct

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtasts.verify.dns import _absolute_name, _chained, _Question, _read_reply, _Truncated, record_text

QNAME = "_mta-sts.example.com."
OWNERS = (QNAME, "_MTA-STS.Example.COM.", "alias.example.net.", "target.example.org.", "other.example.")
TYPES = ("TXT", "MX", "A", "AAAA", "CNAME", "TLSA")
RDATA = {
    "TXT": ('"v=STSv1; id=1"', '"v=STSv1;" " id=1"', '"v=spf1 -all"', '""', '"\\255\\000caf\\195\\169"'),
    "MX": ("0 .", "10 mail.example.com.", "10 MAIL.example.com.", "20 mx.other.example."),
    "A": ("192.0.2.1", "192.0.2.2", "0.0.0.0"),
    "AAAA": ("2001:db8::1", "::", "::ffff:192.0.2.1", "2001:db8:0:0:1:0:0:1", "fe80::1:0:0:0"),
    "CNAME": ("alias.example.net.", "target.example.org.", "_mta-sts.example.com.", "ALIAS.example.NET."),
    "TLSA": ("3 1 1 " + "ab" * 32, "2 0 1 " + "cd" * 32),
    "RRSIG": ("TXT 13 3 300 20300101000000 20200101000000 12345 example.com. " + "AAAA" * 16,),
}

record = st.tuples(st.sampled_from(OWNERS), st.sampled_from((*TYPES, "RRSIG"))).flatmap(
    lambda owner_type: st.tuples(
        st.just(owner_type[0]), st.just(owner_type[1]), st.sampled_from(RDATA[owner_type[1]])
    )
)


@st.composite
def responses(draw: st.DrawFn) -> tuple[bytes, int, str]:
    qtype = draw(st.sampled_from(TYPES))
    query = dns.message.make_query(QNAME, qtype, want_dnssec=True)
    response = dns.message.make_response(query)
    response.id = draw(st.sampled_from((query.id, (query.id + 1) % 65536)))
    response.set_rcode(draw(st.sampled_from((0, 2, 3, 5, 16, 23))))
    if draw(st.booleans()):
        response.flags |= dns.flags.AD
    if draw(st.integers(0, 9)) == 0:
        response.flags |= dns.flags.TC
    for owner, rdtype, text in draw(st.lists(record, max_size=8)):
        response.answer.append(dns.rrset.from_text(owner, 300, "IN", rdtype, text))
    if draw(st.booleans()):
        response.authority.append(
            dns.rrset.from_text(
                "example.com.", 300, "IN", "SOA", "ns.example.com. host.example.com. 1 7200 900 1209600 86400"
            )
        )
    if draw(st.booleans()):
        response.additional.append(dns.rrset.from_text("ns.example.com.", 300, "IN", "A", "192.0.2.53"))
    if draw(st.booleans()):
        response.use_edns(False)  # no OPT: the extended rcode bits are lost, on both sides
    return response.to_wire(), query.id, qtype


def reference(wire: bytes, qid: int, qtype: str) -> tuple[str, int, int, tuple[str, ...]] | None:
    """What the stub found before it read sections itself: dnspython's whole message."""
    try:
        message = dns.message.from_wire(wire, raise_on_truncation=True)
    except dns.message.Truncated as truncated:
        return ("truncated", 0, 0, ()) if _asked(truncated.message(), qid, qtype) else None
    if not _asked(message, qid, qtype):
        return None
    if message.rcode() == dns.rcode.NXDOMAIN:
        return ("reply", message.rcode(), int(message.flags), ())
    try:
        rrset = message.resolve_chaining().answer
    except dns.message.ChainTooLong:
        return ("chain too long", 0, 0, ())
    records = tuple(record_text(rdata) for rdata in rrset) if rrset is not None else ()
    return ("reply", message.rcode(), int(message.flags), records)


def _asked(message: dns.message.Message, qid: int, qtype: str) -> bool:
    if not isinstance(message, dns.message.QueryMessage) or message.id != qid:
        return False
    if not message.flags & dns.flags.QR or len(message.question) != 1:
        return False
    asked = message.question[0]
    return (
        asked.name == dns.name.from_text(QNAME)
        and asked.rdtype == dns.rdatatype.from_text(qtype)
        and asked.rdclass == dns.rdataclass.IN
    )


def ours(wire: bytes, qid: int, qtype: str) -> tuple[str, int, int, tuple[str, ...]] | None:
    try:
        reply = _read_reply(wire, qid, _Question.of(QNAME, qtype))
    except _Truncated:
        return ("truncated", 0, 0, ())
    if reply is None:
        return None
    if reply.rcode == dns.rcode.NXDOMAIN:
        return ("reply", reply.rcode, reply.flags, ())
    try:
        records = tuple(_chained(reply))
    except dns.message.ChainTooLong:
        return ("chain too long", 0, 0, ())
    return ("reply", reply.rcode, reply.flags, records)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses())
def test_the_reader_finds_what_dnspython_finds_in_any_well_formed_response(
    case: tuple[bytes, int, str],
) -> None:
    wire, qid, qtype = case
    assert ours(wire, qid, qtype) == reference(wire, qid, qtype)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses(), st.data())
def test_damaged_responses_never_crash_the_reader_and_agree_where_both_read_them(
    case: tuple[bytes, int, str], data: st.DataObject
) -> None:
    wire, qid, qtype = case
    damaged = bytearray(wire)
    for _ in range(data.draw(st.integers(1, 4))):
        if not damaged:
            break
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    cut = bytes(damaged[: data.draw(st.integers(0, len(damaged)))])
    for candidate in (bytes(damaged), cut):
        try:
            found = ours(candidate, qid, qtype)
        except dns.exception.DNSException:
            continue  # refused as garbage: the stub keeps waiting for the real answer
        try:
            expected = reference(candidate, qid, qtype)
        except dns.exception.DNSException:
            continue  # dnspython refuses what the reader accepts: only in sections it skips
        if found is None and expected is not None and expected[0] == "truncated":
            # dnspython forgives a truncated message anything after the header (a lying
            # question count, say); the reader asks such a message's header to be sound too.
            continue
        assert found == expected


def test_a_compressed_owner_and_an_answer_for_another_class_are_read_as_dnspython_reads_them() -> None:
    query = dns.message.make_query(QNAME, "TXT")
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text(QNAME, 300, "IN", "TXT", '"v=STSv1; id=1"'))
    response.answer.append(dns.rrset.from_text(QNAME, 300, "CH", "TXT", '"v=STSv1; id=2"'))
    wire = response.to_wire()
    assert b"\xc0\x0c" in wire  # the answers' owner points back at the question
    assert ours(wire, query.id, "TXT") == reference(wire, query.id, "TXT")
    assert ours(wire, query.id, "TXT") == ("reply", 0, int(response.flags), ("v=STSv1; id=1",))


def test_an_opt_record_outside_the_additional_section_or_twice_is_refused_like_dnspython() -> None:
    query = dns.message.make_query(QNAME, "TXT", use_edns=0)
    response = dns.message.make_response(query)
    wire = bytearray(response.to_wire())
    # The header says two additional records; the OPT record is repeated after itself.
    opt = wire[wire.index(b"\x00\x00\x29") :]
    wire[10:12] = (2).to_bytes(2, "big")
    wire += opt
    for reader in (ours, reference):
        try:
            reader(bytes(wire), query.id, "TXT")
        except dns.exception.DNSException:
            continue
        raise AssertionError(f"{reader.__name__} read a response with two OPT records")


def test_an_extended_rcode_reaches_the_stub_as_dnspython_computes_it() -> None:
    query = dns.message.make_query(QNAME, "TXT", use_edns=0)
    response = dns.message.make_response(query)
    response.set_rcode(dns.rcode.BADVERS)
    assert ours(response.to_wire(), query.id, "TXT") == (
        "reply",
        dns.rcode.BADVERS,
        int(response.flags),
        (),
    )


name_text = st.lists(
    st.one_of(
        st.sampled_from(
            ("example", "com", "_mta-sts", "_25", "_tcp", "a" * 63, "a" * 64, "", "@", "\\.", "\\065")
        ),
        st.text(alphabet=st.characters(codec="ascii"), max_size=70),
        st.text(max_size=5),
    ),
    max_size=6,
).map(".".join)


@settings(max_examples=1500, deadline=None)
@given(name_text, st.booleans())
def test_a_question_name_is_read_as_dnspython_reads_it(text: str, absolute: bool) -> None:
    text = text + "." if absolute else text
    try:
        expected: object = dns.name.from_text(text)
    except Exception as error:
        expected = type(error)
    try:
        found: object = _absolute_name(text)
    except Exception as error:
        found = type(error)
    assert found == expected
    if isinstance(found, dns.name.Name):
        assert found.labels == expected.labels  # type: ignore[attr-defined]


# Each record type the reader parses itself, with any data: it refuses exactly what dnspython's
# rdata classes refuse (a wrong address length, a TXT string running past the record, a name
# pointing forward...), and where both read it they spell it alike.
FAST_TYPES = ("TXT", "MX", "A", "AAAA", "CNAME")


@settings(max_examples=1500, deadline=None)
@given(
    st.sampled_from(FAST_TYPES),
    st.one_of(
        st.binary(max_size=40),
        st.lists(st.binary(max_size=6), max_size=4).map(
            lambda parts: b"".join(bytes([len(p)]) + p for p in parts)
        ),
        st.sampled_from((b"\x00\x0a\xc0\x0c", b"\x00\x0a\xc0\x0d", b"\xc0\x0c", b"\x00\x0a\x00", b"\x05ab")),
    ),
)
def test_any_record_data_is_read_or_refused_as_dnspython_reads_it(qtype: str, rdata: bytes) -> None:
    query = dns.message.make_query(QNAME, qtype)
    header = struct.pack("!6H", query.id, 0x8180, 1, 1, 0, 0)
    question = dns.name.from_text(QNAME).to_wire() + struct.pack("!HH", dns.rdatatype.from_text(qtype), 1)
    answer = b"\xc0\x0c" + struct.pack("!HHIH", dns.rdatatype.from_text(qtype), 1, 300, len(rdata)) + rdata
    wire = header + (question or b"") + answer
    outcomes = []
    for reader in (ours, reference):
        try:
            outcomes.append(reader(wire, query.id, qtype))
        except dns.exception.DNSException:
            outcomes.append("refused")
    assert outcomes[0] == outcomes[1]
