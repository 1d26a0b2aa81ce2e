"""The MX check's parts on their own: the TLSA matcher (properties over certificates made
here), the certificate judgement, the SMTP probe against a fake server, and how a domain's
entries weigh. The real Postfix and Unbound are in tests/test_e2e_mx_tls.py."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import os
import socket
import time
from collections.abc import Iterator

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from mtasts.rules.mx_tls import CONNECT_FIX
from mtasts.verify import certs, tlsa
from mtasts.verify.checks import mx_tls
from mtasts.verify.dns import DnsResult
from mtasts.verify.model import Status
from mtasts.verify.mx_tls import PORT_25_BLOCKED, MxOutcome, MxToday, ProbeFailure, SmtpMode, SmtpProbe
from mtasts.verify.smtp import probe, probe_context
from tests.smtp_fake import FakeSmtp

NOW = datetime.datetime.now(datetime.UTC)
HOST = "mail.example.com"
CA = trustme.CA()
OTHER_CA = trustme.CA()
LEAF = CA.issue_cert(HOST)
OTHER_LEAF = CA.issue_cert(HOST)  # same name and CA, another key


def chain_of(leaf: trustme.LeafCert, ca: trustme.CA = CA) -> list[x509.Certificate]:
    """The leaf and its CA, as a server sending its whole chain presents them."""
    pems = [blob.bytes() for blob in leaf.cert_chain_pems] + [ca.cert_pem.bytes()]
    return [x509.load_pem_x509_certificate(pem) for pem in pems]


CHAIN = chain_of(LEAF)
ROOTS = [x509.load_pem_x509_certificate(CA.cert_pem.bytes())]

selectors = st.sampled_from([0, 1])
matchings = st.sampled_from([0, 1, 2])


# The TLSA matcher


@given(selector=selectors, matching=matchings)
@settings(max_examples=30, deadline=None)
def test_a_dane_ee_record_made_from_the_leaf_matches_it(selector: int, matching: int) -> None:
    record = tlsa.record_for(CHAIN[0], 3, selector, matching)
    assert tlsa.matches(record, CHAIN)
    assert tlsa.judge([record], CHAIN) is tlsa.Dane.MATCHED


@given(selector=selectors, matching=matchings)
@settings(max_examples=30, deadline=None)
def test_a_dane_ee_record_for_another_key_does_not_match(selector: int, matching: int) -> None:
    record = tlsa.record_for(chain_of(OTHER_LEAF)[0], 3, selector, matching)
    assert not tlsa.matches(record, CHAIN)
    assert tlsa.judge([record], CHAIN) is tlsa.Dane.MISMATCHED


@given(selector=selectors, matching=matchings, data=st.data())
@settings(max_examples=40, deadline=None)
def test_changing_any_byte_of_a_record_breaks_the_match(
    selector: int, matching: int, data: st.DataObject
) -> None:
    record = tlsa.record_for(CHAIN[0], 3, selector, matching)
    index = data.draw(st.integers(0, len(record.data) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = bytearray(record.data)
    changed[index] ^= flip
    assert not tlsa.matches(tlsa.Tlsa(3, selector, matching, bytes(changed)), CHAIN)


@given(selector=selectors, matching=matchings)
@settings(max_examples=30, deadline=None)
def test_a_dane_ta_record_matches_the_ca_the_server_sends_and_never_the_leaf(
    selector: int, matching: int
) -> None:
    assert tlsa.matches(tlsa.record_for(CHAIN[1], 2, selector, matching), CHAIN)
    assert not tlsa.matches(tlsa.record_for(CHAIN[0], 2, selector, matching), CHAIN)
    # A CA the leaf was not issued by does not anchor it, even if the server sends it.
    foreign = [CHAIN[0], x509.load_pem_x509_certificate(OTHER_CA.cert_pem.bytes())]
    assert not tlsa.matches(tlsa.record_for(foreign[1], 2, selector, matching), foreign)


@given(usage=st.sampled_from([0, 1]), selector=selectors, matching=matchings)
@settings(max_examples=20, deadline=None)
def test_pkix_usages_are_never_usable_for_smtp(usage: int, selector: int, matching: int) -> None:
    record = tlsa.record_for(CHAIN[0], usage, selector, matching)
    assert not record.usable
    assert not tlsa.matches(record, CHAIN)
    assert tlsa.judge([record], CHAIN) is tlsa.Dane.UNUSABLE


@given(usage=st.integers(0, 255), selector=st.integers(0, 255), matching=st.integers(0, 255),
       data=st.binary(min_size=1, max_size=64))  # fmt: skip
def test_a_record_reads_back_from_its_text(usage: int, selector: int, matching: int, data: bytes) -> None:
    record = tlsa.Tlsa(usage, selector, matching, data)
    assert tlsa.parse(record.text()) == record


def long_chain(length: int) -> list[x509.Certificate]:
    """A leaf for HOST and `length - 1` certificates above it, each signed by the next (one key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST if i == 0 else f"ca{i}")])
             for i in range(length + 1)]  # fmt: skip
    chain = []
    for index in range(length):
        builder = (
            x509.CertificateBuilder().subject_name(names[index]).issuer_name(names[index + 1])
            .public_key(key.public_key()).serial_number(index + 1)
            .not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=9))
        )  # fmt: skip
        if index == 0:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        chain.append(builder.sign(key, hashes.SHA256()))
    return chain


def random_ta_records(count: int) -> list[tlsa.Tlsa]:
    return [tlsa.Tlsa(2, 1, 1, os.urandom(32)) for _ in range(count)]


def test_dane_ta_records_verify_each_chain_link_once_and_only_as_deep_as_a_sender(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A hostile zone's many DANE-TA records against its host's long chain once cost every
    # record a signature check per link (1,300 x 300: a minute, stalling every domain).
    chain = long_chain(tlsa.MAX_CHAIN + 5)
    checks = []
    original = tlsa._issued_by
    monkeypatch.setattr(tlsa, "_issued_by", lambda child, issuer: checks.append(1) or original(child, issuer))
    judged = tlsa.judge_bounded(random_ta_records(200), chain)
    assert judged.dane is tlsa.Dane.MISMATCHED
    assert len(checks) <= tlsa.MAX_CHAIN - 1
    assert (
        "200 usable TLSA records" in judged.left_out
        and f"{tlsa.MAX_CHAIN + 5} certificates" in judged.left_out
    )


def test_a_matching_dane_ta_record_among_many_still_matches() -> None:
    chain = long_chain(4)
    records = [*random_ta_records(30), tlsa.record_for(chain[2], 2, 0, 1), *random_ta_records(30)]
    assert tlsa.judge_bounded(records, chain) == tlsa.Judgement(tlsa.Dane.MATCHED)
    # An anchor past the depth a sender verifies does not count.
    deep = long_chain(tlsa.MAX_CHAIN + 2)
    assert (
        tlsa.judge([tlsa.record_for(deep[-1], 2, 0, 1)], deep) is tlsa.Dane.MISMATCHED
    )  # one key: selector 0


def test_text_that_is_not_a_tlsa_record_is_ignored() -> None:
    for text in ("", "3 1 1", "3 1 1 xyz", "300 1 1 ab", "3 1 1 abc", "a b c dd"):
        assert tlsa.parse(text) is None, text


# The certificate judgement


def test_a_chain_to_a_trusted_root_for_the_host_passes_with_its_names_and_expiry() -> None:
    verdict = certs.judge(HOST, CHAIN, ROOTS, NOW)
    assert verdict.result_type is None, verdict.problem
    assert verdict.names == (HOST,)
    assert verdict.not_after is not None and verdict.not_after > NOW


def test_a_certificate_for_another_name_is_a_host_mismatch_naming_both() -> None:
    verdict = certs.judge("mx2.example.com", CHAIN, ROOTS, NOW)
    assert verdict.result_type == "certificate-host-mismatch"
    assert HOST in verdict.problem and "mx2.example.com" in verdict.problem


def test_a_wildcard_covers_one_label_only() -> None:
    wildcard = chain_of(CA.issue_cert("*.mx.example.com"))
    assert certs.judge("a.mx.example.com", wildcard, ROOTS, NOW).result_type is None
    assert certs.judge("a.b.mx.example.com", wildcard, ROOTS, NOW).result_type == "certificate-host-mismatch"
    assert certs.judge("mx.example.com", wildcard, ROOTS, NOW).result_type == "certificate-host-mismatch"


def test_an_expired_certificate_is_reported_with_its_date() -> None:
    ended = NOW - datetime.timedelta(days=2)
    expired = chain_of(CA.issue_cert(HOST, not_before=NOW - datetime.timedelta(days=90), not_after=ended))
    verdict = certs.judge(HOST, expired, ROOTS, NOW)
    assert verdict.result_type == "certificate-expired"
    assert f"{ended:%Y-%m-%d}" in verdict.problem


def test_a_chain_to_an_unknown_root_is_not_trusted() -> None:
    verdict = certs.judge(HOST, chain_of(OTHER_CA.issue_cert(HOST), OTHER_CA), ROOTS, NOW)
    assert verdict.result_type == "certificate-not-trusted"


def test_a_runs_roots_make_their_store_once_and_judge_as_a_list_of_them_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A store of a system's 150 roots cost 0.4 of the 0.7 ms a chain's verification took, made
    # again for every MX address a run probes.
    made: list[int] = []
    store = certs.Store

    def counting(roots: list[x509.Certificate]) -> certs.Store:
        made.append(len(roots))
        return store(roots)

    monkeypatch.setattr(certs, "Store", counting)
    roots = certs.Roots([*ROOTS, x509.load_pem_x509_certificate(OTHER_CA.cert_pem.bytes())])
    chains = [CHAIN, chain_of(OTHER_CA.issue_cert(HOST), OTHER_CA), chain_of(trustme.CA().issue_cert(HOST))]
    verdicts = [certs.judge(HOST, chain, roots, NOW) for chain in chains]
    assert made == [2]
    assert verdicts == [certs.judge(HOST, chain, list(roots), NOW) for chain in chains]
    assert [v.result_type for v in verdicts] == [None, None, "certificate-not-trusted"]


def test_a_certificate_expiring_within_14_days_warns() -> None:
    soon = chain_of(CA.issue_cert(HOST, not_after=NOW + datetime.timedelta(days=5)))
    verdict = certs.judge(HOST, soon, ROOTS, NOW)
    assert verdict.result_type is None and verdict.expires_within(NOW)
    assert not certs.judge(HOST, CHAIN, ROOTS, NOW).expires_within(NOW)


# Names a certificate may hold: a dNSName is an IA5String, so any ASCII, ESC and CR LF
# included (read in lower case), and a subject or issuer a UTF8String; and as many names as
# the issuer signs.
HOSTILE_NAMES = ["a\x1b[2j.example", "b.example\r\n  pass  mx-tls: ok", "c\x7f\x08.example"]
MANY_NAMES = HOSTILE_NAMES + [f"n{number}.example" for number in range(5000)]


def leaf_for(names: list[str], issuer: str | None = None) -> list[x509.Certificate]:
    """A leaf for `names`, signed by CA (as CHAIN's leaf is); with `issuer`, by a key of its
    own under that issuer name, which no root knows."""
    from cryptography.hazmat.primitives import serialization

    key = ec.generate_private_key(ec.SECP256R1())
    ca_key = serialization.load_pem_private_key(CA.private_key_pem.bytes(), None)
    ca_name = x509.load_pem_x509_certificate(CA.cert_pem.bytes()).subject
    issuer_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]) if issuer else ca_name
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
    )
    signer = key if issuer else ca_key
    return [builder.sign(signer, hashes.SHA256()), *([] if issuer else CHAIN[1:])]  # type: ignore[arg-type]


def shown_safely(text: str) -> None:
    """On one line (no CR or LF), nothing that steers a terminal, and bounded."""
    assert text.isprintable() and len(text) < 1000, text[:1000]


def test_a_mismatched_certificates_names_are_escaped_and_the_first_ten_listed() -> None:
    verdict = certs.judge("mx2.example.com", leaf_for(MANY_NAMES), ROOTS, NOW)
    assert verdict.result_type == "certificate-host-mismatch"
    shown_safely(verdict.problem)
    assert "a\\x1b[2j.example, b.example\\r\\n  pass" in verdict.problem and "c\\x7f\\x08" in verdict.problem
    assert "n6.example and 4,993 more, not mx2.example.com" in verdict.problem, verdict.problem


def test_a_passing_certificates_names_are_escaped_and_the_first_ten_listed() -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    chain = leaf_for([*MANY_NAMES, HOST])
    seen = SmtpProbe(
        HOST, "192.0.2.1", tls_version="TLSv1.3", chain=tuple(c.public_bytes(Encoding.DER) for c in chain)
    )
    entry = mx_tls.judge_probe(seen, None, ROOTS, NOW)
    assert entry.outcome is MxOutcome.PASSED, entry.message
    shown_safely(entry.message)
    assert "n6.example and 4,994 more valid until" in entry.message, entry.message
    assert entry.certificate_names[-1] == HOST  # --json keeps the names as they are: it escapes them itself


def test_an_untrusted_issuers_name_is_escaped() -> None:
    verdict = certs.judge(
        HOST, leaf_for([HOST], issuer="Evil CA\x1b[2J\u202e\r\n  PASS  mx-tls: fine"), ROOTS, NOW
    )
    assert verdict.result_type == "certificate-not-trusted"
    shown_safely(verdict.problem)
    assert "issued by CN=Evil CA\\x1b[2J\\u202e\\r\\n" in verdict.problem, verdict.problem


def resigned(
    leaf: x509.Certificate,
    *,
    subject: x509.Name | None = None,
    extensions: list[x509.Extension[x509.ExtensionType]] | None = None,
    extra: x509.ExtensionType | None = None,
) -> x509.Certificate:
    """`leaf` signed again by a key of its own (so no chain leads to it), with its subject or its
    extensions replaced, or one more extension added."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateBuilder(
        issuer_name=leaf.issuer,
        subject_name=subject or leaf.subject,
        public_key=key.public_key(),
        serial_number=1,
        not_valid_before=leaf.not_valid_before_utc,
        not_valid_after=leaf.not_valid_after_utc,
        extensions=list(leaf.extensions) if extensions is None else extensions,
    )
    if extra is not None:
        builder = builder.add_extension(extra, critical=False)
    return builder.sign(key, hashes.SHA256())


@pytest.mark.parametrize("field", ["issuer", "subject"])
def test_an_untrusted_certificate_whose_names_do_not_parse_is_judged_not_raised(field: str) -> None:
    # cryptography reads a certificate's names only when asked: a UTF8String holding bytes
    # that are not UTF-8 loads, then raised ValueError from the message that quotes the
    # issuer, and the error lost every MX address of the domain, not only this one.
    from cryptography.hazmat.primitives.serialization import Encoding

    marker = "QQQQ"
    leaf = leaf_for([HOST], issuer=marker if field == "issuer" else "Some CA")[0]
    if field == "subject":
        leaf = resigned(leaf, subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, marker)]))
    der = leaf.public_bytes(Encoding.DER).replace(marker.encode(), b"\xff\xfe\xfd\xfc")
    seen = SmtpProbe(HOST, "192.0.2.1", tls_version="TLSv1.3", chain=(der,))
    entry = mx_tls.judge_probe(seen, None, ROOTS, NOW)
    assert (entry.outcome, entry.result_type) == (MxOutcome.FAILED, "certificate-not-trusted"), entry
    shown_safely(entry.message)
    assert "does not lead to a trusted root" in entry.message, entry.message


def test_a_certificate_with_an_extension_twice_is_judged_not_raised() -> None:
    # OpenSSL completes the handshake with such a leaf when it does not verify (the probe's
    # way); cryptography then raised DuplicateExtension reading its names, which lost every MX
    # address of the domain, not only this one.
    from cryptography.hazmat.primitives.serialization import Encoding

    san = x509.SubjectAlternativeName([x509.DNSName(HOST)])
    spare = x509.ObjectIdentifier("2.5.29.99")  # same length as subjectAltName's 2.5.29.17
    built = resigned(leaf_for([HOST])[0], extra=x509.UnrecognizedExtension(spare, san.public_bytes()))
    der = built.public_bytes(Encoding.DER).replace(bytes.fromhex("0603551d63"), bytes.fromhex("0603551d11"))
    seen = SmtpProbe(HOST, "192.0.2.1", tls_version="TLSv1.3", chain=(der,))
    entry = mx_tls.judge_probe(seen, None, ROOTS, NOW)
    assert (entry.outcome, entry.result_type) == (MxOutcome.FAILED, "certificate-not-trusted"), entry
    shown_safely(entry.message)
    assert "2.5.29.17 extension twice" in entry.message, entry.message


def test_a_certificate_cryptography_cannot_read_is_could_not_check_not_raised() -> None:
    # An x400Address in the subjectAltName is RFC 5280's and OpenSSL's, but cryptography raises
    # UnsupportedGeneralNameType reading the names, which lost every MX address of the domain.
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import ExtensionOID

    dns_name = b"\x82" + bytes([len(HOST)]) + HOST.encode()
    x400_address = b"\xa3\x02\x30\x00"
    names = b"\x30" + bytes([len(dns_name + x400_address)]) + dns_name + x400_address
    san = x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, names)
    built = resigned(
        leaf_for([HOST])[0], extensions=[x509.Extension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, False, san)]
    )
    seen = SmtpProbe(HOST, "192.0.2.1", tls_version="TLSv1.3", chain=(built.public_bytes(Encoding.DER),))
    entry = mx_tls.judge_probe(seen, None, ROOTS, NOW)
    assert entry.outcome is MxOutcome.UNCHECKED, entry
    shown_safely(entry.message)
    assert "the certificate could not be read" in entry.message and "x400Address" in entry.message, entry


def test_roots_come_from_the_ca_file_given(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "ca.pem"
    CA.cert_pem.write_to_path(str(path))
    assert [root.subject for root in certs.load_roots(str(path))] == [ROOTS[0].subject]


def _without_default_roots(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """OpenSSL's default file and directory hold nothing, as on Windows."""
    import ssl
    from pathlib import Path

    missing = str(Path(str(tmp_path)) / "nothing")
    paths = ssl.DefaultVerifyPaths(missing, missing, "SSL_CERT_FILE", missing, "SSL_CERT_DIR", missing)
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: paths)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)


def test_without_openssl_s_roots_the_system_store_s_server_roots_are_trusted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    # Windows keeps its roots in a store OpenSSL does not read (Python's ssl reads it for HTTPS
    # there): without it every MX chain was "not trusted". `ssl.enum_certificates` is Windows'
    # own; stood in here with what it hands back.
    import ssl

    from cryptography.hazmat.primitives.serialization import Encoding

    _without_default_roots(monkeypatch, tmp_path)
    der = CA.cert_pem.bytes()
    trusted = x509.load_pem_x509_certificate(der).public_bytes(Encoding.DER)
    client_only = x509.load_pem_x509_certificate(OTHER_CA.cert_pem.bytes()).public_bytes(Encoding.DER)
    entries = [
        (trusted, "x509_asn", {ssl.Purpose.SERVER_AUTH.oid}),
        (client_only, "x509_asn", {ssl.Purpose.CLIENT_AUTH.oid}),  # trusted for another purpose
        (b"not a certificate", "x509_asn", True),
        (trusted, "pkcs_7_asn", True),
    ]
    asked: list[str] = []
    monkeypatch.setattr(ssl, "enum_certificates", lambda store: asked.append(store) or entries, raising=False)
    roots = certs.load_roots(None)
    assert asked == ["ROOT"] and [root.subject for root in roots] == [ROOTS[0].subject]
    assert certs.judge(HOST, chain_of(CA.issue_cert(HOST)), roots, NOW).result_type is None


def test_a_ca_file_given_is_trusted_alone_and_without_roots_anywhere_the_fix_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    import ssl
    from pathlib import Path

    from cryptography.hazmat.primitives.serialization import Encoding

    _without_default_roots(monkeypatch, tmp_path)
    monkeypatch.setattr(ssl, "enum_certificates", lambda store: [], raising=False)
    assert certs.load_roots(None) == []
    verdict = certs.judge(HOST, chain_of(CA.issue_cert(HOST)), [], NOW)
    assert "no trusted root certificates were found on this machine (use --ca-file)" in verdict.problem
    # A file given stands alone: the system store is not added to it.
    other = x509.load_pem_x509_certificate(OTHER_CA.cert_pem.bytes()).public_bytes(Encoding.DER)
    monkeypatch.setattr(ssl, "enum_certificates", lambda store: [(other, "x509_asn", True)], raising=False)
    path = Path(str(tmp_path)) / "ca.pem"
    CA.cert_pem.write_to_path(str(path))
    assert [root.subject for root in certs.load_roots(str(path))] == [ROOTS[0].subject]


# The probe against a fake SMTP server


@pytest.fixture
def servers() -> Iterator[list[FakeSmtp]]:
    started: list[FakeSmtp] = []
    yield started
    for server in started:
        server.close()


def run_probe(server: FakeSmtp, timeout: float = 2.0, host: str = HOST) -> SmtpProbe:
    return asyncio.run(probe(host, "127.0.0.1", timeout, probe_context(), port=server.port))


def test_the_probe_reaches_tls_and_never_sends_mail(servers: list[FakeSmtp]) -> None:
    servers.append(server := FakeSmtp(CA, [HOST]))
    seen = run_probe(server)
    assert seen.failure is None, seen.detail
    assert seen.tls_version in ("TLSv1.2", "TLSv1.3")
    assert seen.chain and certs.dns_names(x509.load_der_x509_certificate(seen.chain[0])) == (HOST,)
    verbs = [command.split(" ")[0].upper() for command in server.sessions[0]]
    assert verbs[:2] == ["EHLO", "STARTTLS"] and "MAIL" not in verbs and "RCPT" not in verbs


def test_the_probe_sees_the_whole_chain_as_sent(servers: list[FakeSmtp]) -> None:
    intermediate = CA.create_child_ca()
    leaf = intermediate.issue_cert(HOST)
    servers.append(server := FakeSmtp(CA, [HOST], cert=leaf))
    seen = run_probe(server)
    assert len(seen.chain) == 2  # leaf and intermediate: the intermediate counts for trust and DANE-TA
    parsed = certs.parse_chain(seen.chain)
    assert parsed is not None and certs.judge(HOST, parsed, ROOTS, NOW).result_type is None


def test_an_mx_name_no_tls_client_can_send_as_sni_is_probed_without_it_and_judged_a_mismatch(
    servers: list[FakeSmtp],
) -> None:
    # A legal DNS label of 20 spaces is written "\\032" x 20: 80 characters, past IDNA's 63,
    # and start_tls(server_hostname=...) once raised UnicodeError, losing the domain's verdicts.
    weird = "\\032" * 20 + ".example.com"
    servers.append(server := FakeSmtp(CA, [HOST]))
    seen = run_probe(server, host=weird)
    assert seen.failure is None and seen.tls_version, seen.detail
    entry = mx_tls.judge_probe(seen, None, ROOTS, NOW)
    assert entry.result_type == "certificate-host-mismatch"
    assert "not a host name a certificate can name" in entry.message


def test_a_server_without_starttls_is_named(servers: list[FakeSmtp]) -> None:
    servers.append(server := FakeSmtp(CA, [HOST], starttls=False))
    assert run_probe(server).failure is ProbeFailure.NO_STARTTLS


def test_a_server_offering_only_tls_1_1_fails_validation(servers: list[FakeSmtp]) -> None:
    servers.append(server := FakeSmtp(CA, [HOST], only_tls_1_1=True))
    seen = run_probe(server)
    assert seen.failure is ProbeFailure.TLS and seen.old_protocol, seen.detail


def test_a_silent_server_is_given_up_on_within_the_timeout(servers: list[FakeSmtp]) -> None:
    servers.append(server := FakeSmtp(CA, [HOST], silent=True))
    loop_start = datetime.datetime.now()
    seen = run_probe(server, timeout=0.5)
    assert (datetime.datetime.now() - loop_start).total_seconds() < 2
    assert seen.failure is ProbeFailure.SILENT and "0.5 s" in seen.detail


def test_a_host_slow_at_every_step_is_given_up_on_within_the_whole_probes_budget(
    servers: list[FakeSmtp],
) -> None:
    """Banner, EHLO and STARTTLS each just under the timeout: every step passes its own limit,
    but the probe stops at `PROBE_BUDGETS` timeouts and says so, instead of overrunning the
    domain's budget and losing the MX verdict with it."""
    servers.append(server := FakeSmtp(CA, [HOST], delay=0.8))
    start = time.monotonic()
    seen = run_probe(server, timeout=1.0)
    elapsed = time.monotonic() - start
    assert seen.failure is ProbeFailure.SILENT, seen
    assert "too slow" in seen.detail and "2 s" in seen.detail, seen.detail
    assert 1.9 < elapsed < 2.8, elapsed
    judged = mx_tls.judge_probe(seen, None, ROOTS, NOW)
    assert judged.outcome is MxOutcome.UNCHECKED


def test_a_host_slow_at_one_step_still_passes(servers: list[FakeSmtp]) -> None:
    servers.append(server := FakeSmtp(CA, [HOST], delay=0.3))
    seen = run_probe(server, timeout=1.0)
    assert seen.failure is None and seen.chain, seen


def test_a_reply_sent_behind_the_220_to_starttls_fails_at_once_without_showing_it(
    servers: list[FakeSmtp],
) -> None:
    # Bytes before the handshake are plaintext anyone on the path can add (RFC 3207 §4.2): the
    # probe ignored them, and the host passed; a client that read them would take them for the
    # reply to its first command over TLS.
    servers.append(server := FakeSmtp(CA, [HOST], after_starttls=b"250 injected\r\n"))
    start = time.monotonic()
    seen = run_probe(server, timeout=5.0)
    assert time.monotonic() - start < 1
    assert seen.failure is ProbeFailure.TLS, seen
    assert "sent 14 bytes after its 220 reply to STARTTLS" in seen.detail and "RFC 3207" in seen.detail
    assert "injected" not in seen.detail
    entry = mx_tls.judge_probe(seen, None, ROOTS, NOW)
    assert (entry.outcome, entry.result_type) == (MxOutcome.FAILED, "validation-failure")
    assert "behind the 220 to STARTTLS" in entry.fix and "TLS 1.2" not in entry.fix  # not its TLS settings


def test_a_554_banner_is_a_refusal_not_a_tls_verdict(servers: list[FakeSmtp]) -> None:
    servers.append(server := FakeSmtp(CA, [HOST], banner="554 go away"))
    seen = run_probe(server)
    assert seen.failure is ProbeFailure.REFUSED and "554" in seen.detail


# A server's reply text, as a hostile server writes it: an ESC sequence that clears the
# screen, a CR that rewrites the line, a bidi override, and a second reply line made to read
# as a verdict of its own.
HOSTILE_REPLY = "go away\x1b[2J\x1b]0;owned\x07\rall fine\u202e"


@pytest.mark.parametrize(
    "reply",
    [
        {"banner": f"554 {HOSTILE_REPLY}"},
        {"banner": f"554-{HOSTILE_REPLY}\r\n554   PASS  mx-tls: STARTTLS with a valid certificate"},
        {"starttls_reply": f"454 {HOSTILE_REPLY}"},
        {"banner": "\r\n".join(f"554-{'x' * 2000}" for _ in range(99)) + "\r\n554 end"},
    ],
    ids=["banner", "multi-line-banner", "starttls", "100-kB-banner"],
)
def test_a_servers_reply_text_is_quoted_escaped_and_bounded(
    servers: list[FakeSmtp], reply: dict[str, str]
) -> None:
    from mtasts.verify.model import DomainReport
    from mtasts.verify.report import text_report

    servers.append(server := FakeSmtp(CA, [HOST], **reply))  # type: ignore[arg-type]
    seen = run_probe(server)
    assert seen.detail.isprintable() and len(seen.detail) < 400, seen.detail
    if "x" * 2000 in reply.get("banner", ""):
        assert "…(+" in seen.detail, seen.detail  # cut, and said so
    else:  # the override's UTF-8 bytes read as ASCII are three U+FFFD
        assert "go away\\x1b[2J\\x1b]0;owned\\x07\\rall fine\ufffd" in seen.detail, seen.detail
    entry = mx_tls.judge_probe(seen, None, ROOTS, NOW)
    findings = mx_tls.judge(
        [entry], [seen], mode="enforce", patterns=[HOST], smtp=SmtpMode.ON, machine_blocked=False
    )
    text = text_report([DomainReport("example.com", findings)])
    lines = text.split("\n")
    assert "\x1b" not in text and "\r" not in text and all(line.isprintable() for line in lines)
    assert not any(line.lstrip().startswith("PASS") for line in lines), text
    assert entry.message == seen.detail or seen.detail in entry.message


async def probe_scripted(replies: list[bytes], then_close: bool = True, timeout: float = 2.0) -> SmtpProbe:
    """The probe against a server that sends `replies` one per line it reads, then closes."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for index, reply in enumerate(replies):
            if index:
                await reader.readline()
            writer.write(reply)
            await writer.drain()
        if then_close:
            writer.transport.abort()
        else:
            await asyncio.sleep(timeout * 3)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        return await probe(HOST, "127.0.0.1", timeout, probe_context(), port=port)


def test_a_server_closing_where_the_handshake_should_begin_is_said_so() -> None:
    # asyncio reports the lost connection as a ConnectionResetError with no text, which
    # read "the TLS handshake failed ()".
    seen = asyncio.run(probe_scripted([b"220 hi\r\n", b"250-x\r\n250 STARTTLS\r\n", b"220 go\r\n"]))
    assert seen.failure is ProbeFailure.TLS, seen
    assert seen.detail == "the server closed the connection during the TLS handshake", seen.detail


def test_a_closed_port_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    seen = asyncio.run(probe(HOST, "127.0.0.1", 1.0, probe_context(), port=port))
    assert seen.failure is ProbeFailure.UNREACHABLE and not seen.reached


# How the entries weigh


def good_probe(address: str = "192.0.2.1", host: str = HOST) -> SmtpProbe:
    from cryptography.hazmat.primitives.serialization import Encoding

    return SmtpProbe(
        host, address, tls_version="TLSv1.3", chain=tuple(c.public_bytes(Encoding.DER) for c in CHAIN)
    )


def tlsa_answer(*records: str, authenticated: bool = True, rcode: str = "NOERROR") -> DnsResult:
    error = None if rcode == "NOERROR" else f"the resolver answered {rcode}"
    return DnsResult(
        f"_25._tcp.{HOST}", "TLSA", records, rcode=rcode, error=error, authenticated=authenticated
    )


def test_a_validated_tlsa_record_that_matches_nothing_fails_as_tlsa_invalid() -> None:
    wrong = tlsa.record_for(chain_of(OTHER_LEAF)[0], 3, 1, 1).text()
    entry = mx_tls.judge_probe(good_probe(), tlsa_answer(wrong), ROOTS, NOW)
    assert (entry.outcome, entry.result_type, entry.dane) == (MxOutcome.FAILED, "tlsa-invalid", "mismatched")
    findings = mx_tls.judge(
        [entry], [good_probe()], mode="testing", patterns=[HOST], smtp=SmtpMode.ON, machine_blocked=False
    )
    assert [f.status for f in findings] == [Status.FAIL]  # DANE senders defer, whatever the mode


def test_tlsa_records_without_the_ad_bit_protect_nothing_and_fail_nothing() -> None:
    wrong = tlsa.record_for(chain_of(OTHER_LEAF)[0], 3, 1, 1).text()
    entry = mx_tls.judge_probe(good_probe(), tlsa_answer(wrong, authenticated=False), ROOTS, NOW)
    assert (entry.outcome, entry.dane) == (MxOutcome.PASSED, "not-validated")
    findings = mx_tls.judge(
        [entry], [good_probe()], mode="enforce", patterns=[HOST], smtp=SmtpMode.ON, machine_blocked=False
    )
    assert any("protect nothing" in f.message and f.status is Status.INFO for f in findings)
    assert not any(f.status is Status.FAIL for f in findings)


def test_a_servfail_for_tlsa_is_dnssec_invalid() -> None:
    entry = mx_tls.judge_probe(good_probe(), tlsa_answer(rcode="SERVFAIL"), ROOTS, NOW)
    assert (entry.outcome, entry.result_type) == (MxOutcome.FAILED, "dnssec-invalid")


def test_a_matching_dane_ta_record_passes() -> None:
    entry = mx_tls.judge_probe(
        good_probe(), tlsa_answer(tlsa.record_for(CHAIN[1], 2, 1, 1).text()), ROOTS, NOW
    )
    assert (entry.outcome, entry.dane) == (MxOutcome.PASSED, "matched")


def test_more_tlsa_records_than_are_compared_and_none_matching_is_could_not_check_not_a_failure() -> None:
    texts = [record.text() for record in random_ta_records(tlsa.MAX_RECORDS + 100)]
    entry = mx_tls.judge_probe(good_probe(), tlsa_answer(*texts), ROOTS, NOW)
    assert entry.outcome is MxOutcome.UNCHECKED and entry.result_type is None
    assert f"only the first {tlsa.MAX_RECORDS} of {tlsa.MAX_RECORDS + 100} usable" in entry.message
    assert f"and {tlsa.MAX_RECORDS + 97} more" in entry.message and len(entry.message) < 400
    # A certificate failure beside it still says DANE was not judged.
    entry = mx_tls.judge_probe(good_probe(host="mx2.example.com"), tlsa_answer(*texts), ROOTS, NOW)
    assert entry.result_type == "certificate-host-mismatch" and "DANE not judged: " in entry.message
    # Within the bound, a mismatch stays a failure, its listing as short.
    entry = mx_tls.judge_probe(good_probe(), tlsa_answer(*texts[: tlsa.MAX_RECORDS]), ROOTS, NOW)
    assert entry.result_type == "tlsa-invalid" and len(entry.message) < 400


def test_certificate_failures_stop_mail_under_enforce_and_warn_under_testing() -> None:
    entry = mx_tls.judge_probe(good_probe(host="mx2.example.com"), None, ROOTS, NOW)
    assert entry.result_type == "certificate-host-mismatch"
    probes = [good_probe(host="mx2.example.com")]
    enforce = mx_tls.judge(
        [entry], probes, mode="enforce", patterns=["*.example.com"], smtp=SmtpMode.ON, machine_blocked=False
    )
    testing = mx_tls.judge(
        [entry], probes, mode="testing", patterns=["*.example.com"], smtp=SmtpMode.ON, machine_blocked=False
    )
    assert [f.status for f in enforce] == [Status.FAIL] and "mx2.example.com (192.0.2.1)" in enforce[
        0
    ].message
    assert [f.status for f in testing] == [Status.WARN]


def test_a_host_no_pattern_covers_is_left_to_mx_coverage() -> None:
    entry = mx_tls.judge_probe(good_probe(host="other.example.net"), None, ROOTS, NOW)
    assert entry.outcome is MxOutcome.FAILED
    assert mx_tls.judge([entry], [good_probe(host="other.example.net")], mode="enforce", patterns=[HOST],
                        smtp=SmtpMode.ON, machine_blocked=False) == []  # fmt: skip


def test_port_25_blocked_everywhere_is_said_once_and_only_require_makes_it_unchecked() -> None:
    blocked = [
        SmtpProbe(HOST, address, ProbeFailure.UNREACHABLE, "timed out")
        for address in ("192.0.2.1", "192.0.2.2")
    ]
    entries = [mx_tls.judge_probe(p, None, ROOTS, NOW) for p in blocked]
    on = mx_tls.judge(
        entries, blocked, mode="enforce", patterns=[HOST], smtp=SmtpMode.ON, machine_blocked=True
    )
    required = mx_tls.judge(
        entries, blocked, mode="enforce", patterns=[HOST], smtp=SmtpMode.REQUIRE, machine_blocked=True
    )
    assert [(f.status, f.message) for f in on] == [(Status.INFO, PORT_25_BLOCKED)]
    assert [f.status for f in required] == [Status.UNCHECKED]


@pytest.mark.parametrize("mode", ["enforce", "testing"])
def test_mx_hosts_taking_no_connection_in_a_run_that_reached_port_25_are_the_domains_own(mode: str) -> None:
    # Another domain's MX connected, so port 25 is open here: these hosts are down, or
    # filter this machine, and it says so per address, where the domain's owner reads it.
    probes = [
        SmtpProbe(HOST, "192.0.2.1", ProbeFailure.UNREACHABLE, "connection refused"),
        SmtpProbe(HOST, "192.0.2.2", ProbeFailure.UNREACHABLE, "no connection within 2 s"),
    ]
    entries = [mx_tls.judge_probe(p, None, ROOTS, NOW) for p in probes]
    on = mx_tls.judge(entries, probes, mode=mode, patterns=[HOST], smtp=SmtpMode.ON, machine_blocked=False)
    assert [(f.status, f.message) for f in on] == [
        (Status.WARN, f"could not check {HOST} (192.0.2.1): connection refused"),
        (Status.WARN, f"could not check {HOST} (192.0.2.2): no connection within 2 s"),
    ]
    required = mx_tls.judge(
        entries, probes, mode=mode, patterns=[HOST], smtp=SmtpMode.REQUIRE, machine_blocked=False
    )
    assert [f.status for f in required] == [Status.UNCHECKED, Status.UNCHECKED]


# `reports --stack`: clean reports do not make enforce safe when an MX host fails today


def advice_for(mx_today: MxToday | None, mode: str = "testing") -> list[str]:
    from mtasts.config import parse_settings
    from mtasts.reports.summary import DomainSummary
    from mtasts.reports.verdict import Verdict, stack_advice

    settings = parse_settings(
        {"domain": "example.com", "mode": mode, "mx": [HOST], "tlsRpt": ["mailto:t@example.com"]}
    )
    ready = Verdict(
        True, ("14 days of reports from 2 organizations, 900 sessions under an sts policy and none failed",)
    )
    advice = stack_advice("prod", settings, DomainSummary("example.com"), ready, mx_today)
    return [*advice.lines, advice.command or ""]


def test_clean_reports_with_an_mx_host_failing_today_are_not_safe_and_say_which() -> None:
    failing = MxToday(
        failures=(f"{HOST} (192.0.2.1): certificate-expired: the certificate expired on 2026-11-30",)
    )
    lines = advice_for(failing)
    assert (
        lines[0].startswith("enforce is not safe for example.com yet") and "certificate-expired" in lines[1]
    )
    assert lines[-1] == ""  # no command to switch


def test_a_certificate_expiring_within_days_also_holds_enforce_back() -> None:
    soon = MxToday(warnings=(f"{HOST} (192.0.2.1): the certificate expires on 2026-12-03 (within 14 days)",))
    assert advice_for(soon)[0].startswith("enforce is not safe")


def test_clean_reports_and_passing_mx_hosts_say_both_and_give_the_command() -> None:
    lines = advice_for(MxToday(passed=2))
    assert lines[0].startswith("enforce is safe") and "the live MX hosts pass today" in lines[1]
    assert lines[-1].endswith("pulumi config set mode enforce --stack prod")
    unchecked = advice_for(MxToday(unchecked=PORT_25_BLOCKED))
    assert unchecked[0].startswith("enforce is safe") and PORT_25_BLOCKED in unchecked[1]


def test_nothing_probed_is_never_said_to_pass() -> None:
    lines = advice_for(MxToday())
    assert "- the live MX hosts were not checked today: no MX address was found to check" in lines
    assert not any("pass today" in line for line in lines)


@pytest.mark.parametrize(
    ("zone", "said"),
    [
        ({("example.com", "MX"): ["0 ."]}, "example.com publishes a null MX (RFC 7505): it accepts no mail"),
        ({("other.example", "A"): ["192.0.2.1"]}, "example.com does not exist (NXDOMAIN)"),
    ],
)
def test_reports_stack_says_why_a_domain_without_mx_hosts_was_not_probed(
    zone: dict[tuple[str, str], list[str]], said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A typo'd stack domain, or one that takes no mail: "the live MX hosts pass today" with
    # nothing probed was false comfort beside the reports.
    monkeypatch.undo()  # the real probe (conftest's stands in for it), against 127.0.0.1 only
    from mtasts.verify.mx_check import live_mx_today_sync
    from tests.test_verify_fakes import FakeDns

    dns = FakeDns(zone)
    try:
        today = live_mx_today_sync("example.com", nameserver="127.0.0.1", port=dns.port, timeout=1)
    finally:
        dns.close()
    assert today == MxToday(unchecked=said)
    assert f"- the live MX hosts were not checked today: {said}" in advice_for(today)


def test_an_mx_address_not_reached_today_is_named_and_not_said_to_pass() -> None:
    seen = MxToday(not_checked=(f"{HOST} (192.0.2.9): no connection within 10 s",), passed=2)
    lines = advice_for(seen)
    assert not any(
        "pass today (STARTTLS with a valid certificate on every address)" in line for line in lines
    )
    assert (
        f"- a live MX host could not be checked today: {HOST} (192.0.2.9): no connection within 10 s" in lines
    )
    assert "- 2 other MX addresses pass today (STARTTLS with a valid certificate)" in lines


def test_reports_stack_probes_the_stacks_domain_and_prints_what_fails_today(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pathlib import Path

    from mtasts.__main__ import main

    project = Path(str(tmp_path))
    (project / "Pulumi.prod.yaml").write_text(
        "config:\n  mta-sts:domain: example.com\n  mta-sts:tlsRpt:\n    - mailto:t@example.com\n"
    )
    (project / "mail").mkdir()
    asked: list[str] = []

    def today(domain: str, **_: object) -> MxToday:
        asked.append(domain)
        return MxToday(failures=(f"{HOST} (192.0.2.1): starttls-not-supported: no STARTTLS",))

    monkeypatch.setattr("mtasts.verify.mx_check.live_mx_today_sync", today)
    main(["--project-dir", str(project), "reports", str(project / "mail"), "--stack", "prod"])
    assert asked == ["example.com"]
    assert "starttls-not-supported" in capsys.readouterr().out


def test_a_root_that_does_not_parse_does_not_lose_the_others(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "bundle.pem"
    broken = b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
    path.write_bytes(broken + CA.cert_pem.bytes() + OTHER_CA.cert_pem.bytes())
    assert len(certs.load_roots(str(path))) == 2


def test_an_address_this_machine_has_no_route_to_is_information_unless_required() -> None:
    unroutable = SmtpProbe(HOST, "2001:db8::25", ProbeFailure.NO_ROUTE, "this machine has no route to it")
    probes = [good_probe(), unroutable]
    entries = [mx_tls.judge_probe(p, None, ROOTS, NOW) for p in probes]
    on = mx_tls.judge(
        entries, probes, mode="enforce", patterns=[HOST], smtp=SmtpMode.ON, machine_blocked=False
    )
    assert [f.status for f in on if "2001:db8::25" in f.message] == [Status.INFO]
    required = mx_tls.judge(
        entries, probes, mode="enforce", patterns=[HOST], smtp=SmtpMode.REQUIRE, machine_blocked=False
    )
    assert [f.status for f in required if "2001:db8::25" in f.message] == [Status.UNCHECKED]
    # Only unroutable and unreachable addresses: port 25 (or IPv6) is closed here, said once.
    alone = mx_tls.judge(
        entries[1:], probes[1:], mode="enforce", patterns=[HOST], smtp=SmtpMode.ON, machine_blocked=True
    )
    assert [f.message for f in alone] == [PORT_25_BLOCKED]


def test_what_an_unchecked_address_says_to_do_follows_why_it_was_not_checked() -> None:
    # Every unchecked address said "check that the host accepts connections on port 25": for a
    # TLSA lookup that found no answer (the connection and the certificate were fine), and for
    # an address this machine has no route to, that sends the owner to the wrong place.
    timed_out = DnsResult(f"_25._tcp.{HOST}", "TLSA", [], error="no answer within 2 s", rcode="TIMEOUT")
    refused = SmtpProbe(HOST, "192.0.2.2", ProbeFailure.UNREACHABLE, "connection refused")
    unroutable = SmtpProbe(HOST, "2001:db8::25", ProbeFailure.NO_ROUTE, "this machine has no route to it")
    probes = [good_probe(), refused, unroutable]
    entries = [mx_tls.judge_probe(p, timed_out if p is probes[0] else None, ROOTS, NOW) for p in probes]
    findings = mx_tls.judge(
        entries, probes, mode="enforce", patterns=[HOST], smtp=SmtpMode.ON, machine_blocked=False
    )
    fixes = {f.message.split(":", 1)[0]: f.fix for f in findings}
    assert "the TLSA lookup failed" in entries[0].message
    assert fixes[f"could not check {HOST} (192.0.2.1)"] == mx_tls.tlsa_lookup_fix(HOST)
    assert f"answer TLSA queries for _25._tcp.{HOST}" in mx_tls.tlsa_lookup_fix(HOST)
    assert fixes[f"could not check {HOST} (192.0.2.2)"] == CONNECT_FIX
    assert fixes[f"could not check {HOST} (2001"] == ""


def test_the_stack_passes_on_an_unchecked_addresss_own_fix_and_explains_a_missing_connection() -> None:
    from mtasts.rules import mx_tls as stack

    tlsa_fix = mx_tls.tlsa_lookup_fix(HOST)
    seen = [
        stack.MxTls(HOST, "192.0.2.1", "could-not-check", None, "the TLSA lookup failed", tlsa_fix),
        stack.MxTls(HOST, "192.0.2.2", "could-not-check", None, "connection refused", stack.CONNECT_FIX),
        stack.MxTls(HOST, "192.0.2.3", "passed"),
    ]
    first, second = stack.judge("enforce", seen, domain="example.com")
    assert first.fix == tlsa_fix
    assert second.fix.startswith(stack.CONNECT_FIX + " (another MX address of example.com did")
    # Addresses that connected but had no TLSA answer say nothing of a blocked port 25.
    [only] = stack.judge("testing", seen[:1], domain="example.com")
    assert only.fix == tlsa_fix and "port 25 is blocked" not in only.seen
    [blocked] = stack.judge("testing", seen[1:2], domain="example.com")
    assert "port 25 is blocked" in blocked.seen


def test_many_passing_mx_hosts_are_listed_ten_at_a_time() -> None:
    probes = [good_probe(host=f"h{n}.example.com") for n in range(5000)]
    judged = mx_tls.judge_probe(good_probe(), None, ROOTS, NOW)
    entries = [dataclasses.replace(judged, host=p.host) for p in probes]
    [passed] = mx_tls.judge(
        entries, probes, mode="enforce", patterns=None, smtp=SmtpMode.ON, machine_blocked=False
    )
    assert passed.status is Status.PASS and len(passed.message) < 400, passed.message[:400]
    assert passed.message.endswith("h9.example.com (1 address) and 4,990 more"), passed.message


def test_thousands_of_failing_mx_addresses_are_a_bounded_report_that_counts_the_rest() -> None:
    # The zone chooses how many addresses its MX hosts have (thousands fit one TCP answer), and
    # each was a line and its fix in `verify`'s report: megabytes for one domain.
    from mtasts.verify.model import DomainReport
    from mtasts.verify.report import text_report

    probes = [
        SmtpProbe(f"mx{n % 40}.example.com", f"10.0.{n // 250}.{n % 250}", ProbeFailure.NO_STARTTLS, "no")
        for n in range(3000)
    ] + [
        SmtpProbe(f"mx{n % 40}.example.com", f"10.1.{n // 250}.{n % 250}", ProbeFailure.SILENT, f"quiet {n}")
        for n in range(3000)
    ]
    entries = [mx_tls.judge_probe(probe, None, ROOTS, NOW) for probe in probes]
    findings = mx_tls.judge(
        entries, probes, mode="enforce", patterns=None, smtp=SmtpMode.ON, machine_blocked=False
    )
    assert len(findings) < 120, len(findings)
    assert "mx0.example.com (10.0.0.0)" in findings[0].message
    failed = [finding for finding in findings if finding.status is Status.FAIL]
    assert failed[-1].message.startswith("2,950 more MX address findings like these"), failed[-1].message
    warned = [finding for finding in findings if finding.status is Status.WARN]
    assert warned[-1].message.startswith("2,950 more MX address findings like these"), warned[-1]
    assert len(text_report([DomainReport("example.com", findings)])) < 60_000


def test_a_failing_mx_host_beside_dozens_that_stall_past_the_checks_budget_is_still_reported(
    servers: list[FakeSmtp],
) -> None:
    """The program's check stops after four timeouts however many MX hosts the zone names:
    what finished by then is still judged, so a tarpit beside a host without STARTTLS cannot
    turn enforce's stop into one could-not-check warning."""
    from mtasts.verify.mx_check import check_mx_tls_sync
    from tests.test_verify_fakes import FakeDns, silent_listeners

    servers.append(bad := FakeSmtp(CA, ["bad.example.com"], starttls=False))
    stalled = [f"s{i}.example.com" for i in range(80)]
    zone = {(host, "A"): [f"127.0.2.{i + 1}"] for i, host in enumerate(stalled)}
    dns = FakeDns({**zone, ("bad.example.com", "A"): ["127.0.0.1"]})
    try:
        with silent_listeners([f"127.0.2.{i + 1}" for i in range(80)], bad.port):
            start = time.monotonic()
            check = check_mx_tls_sync(
                ["bad.example.com", *stalled],
                nameserver="127.0.0.1", port=dns.port, timeout=0.5, smtp_port=bad.port,
            )  # fmt: skip
            elapsed = time.monotonic() - start
    finally:
        dns.close()
    assert elapsed < 3, elapsed
    [failed] = [entry for entry in check.entries if entry.host == "bad.example.com"]
    assert failed.outcome is MxOutcome.FAILED and failed.result_type == "starttls-not-supported"
    [late] = check.findings
    assert "did not finish within 2 s" in late.message and "not checked" in late.message


def test_reports_stack_keeps_a_failure_found_before_tarpits_ran_the_mx_check_out(
    servers: list[FakeSmtp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`reports --stack`'s probe has the same deadline as the program's: a failure in by then
    still holds enforce back, and the addresses it never judged are said to be unchecked."""
    monkeypatch.undo()  # the real probe (conftest's stands in for it), against 127.0.0.1 only
    from mtasts.verify.mx_check import live_mx_today_sync
    from tests.test_verify_fakes import FakeDns, silent_listeners

    servers.append(bad := FakeSmtp(CA, ["bad.example.com"], starttls=False))
    stalled = [f"s{i}.example.com" for i in range(10)]  # eight addresses each: one small MX answer
    zone = {(host, "A"): [f"127.0.2.{8 * i + j + 1}" for j in range(8)] for i, host in enumerate(stalled)}
    mx = [f"10 {host}." for host in ["bad.example.com", *stalled]]
    dns = FakeDns({**zone, ("bad.example.com", "A"): ["127.0.0.1"], ("example.com", "MX"): mx})
    try:
        with silent_listeners([f"127.0.2.{i + 1}" for i in range(80)], bad.port):
            start = time.monotonic()
            today = live_mx_today_sync(
                "example.com", nameserver="127.0.0.1", port=dns.port, timeout=0.5, smtp_port=bad.port
            )
            elapsed = time.monotonic() - start
    finally:
        dns.close()
    assert elapsed < 3, elapsed
    assert today.unchecked is None, today
    assert [f.split(": ")[1] for f in today.failures] == ["starttls-not-supported"], today.failures
    assert today.not_checked[-1] == "the other MX addresses: the MX check did not finish within 2 s"
    assert advice_for(today)[0].startswith("enforce is not safe")


def test_a_probe_cancelled_after_it_connected_still_says_port_25_is_open_here() -> None:
    # A domain's time budget may cancel its probe before the verdict: the connection that
    # stood already tells the run that port 25 is not blocked on this machine.
    from mtasts.verify import VerifyOptions
    from mtasts.verify.mx_check import MxProber
    from tests.test_verify_fakes import silent_listeners

    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]

    async def cancelled_after_connecting() -> bool:
        prober = MxProber(VerifyOptions(timeout=30, smtp_port=port))
        task = asyncio.ensure_future(prober._probe("mx.example.com", "127.0.0.1"))
        await asyncio.sleep(0.3)  # connected; the banner never comes
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return prober.reached_port_25

    with silent_listeners(["127.0.0.1"], port):
        assert asyncio.run(cancelled_after_connecting())
