"""The MX check against a real MTA: Postfix from Debian, one listener per MX address, each with
its own certificate and TLS settings, next to the DNS twin in a network namespace.

One twin serves four domains: `tls.example`, whose MX hosts show every fault a sender names
(RFC 8460 §4.3) on one address each beside a good one; `blocked.example` and
`blocked2.example`, whose MX addresses drop every packet (port 25 blocked, or the hosts down);
`silent.example`, whose MX accepts and never speaks; and `mixed.example`, one good MX host
beside `blocked.example`'s.
A second twin signs a zone with ldns and validates it with Unbound, for DANE (RFC 7672).
"""

from __future__ import annotations

import datetime
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mtasts.config import parse_settings
from mtasts.desired import desired_state
from mtasts.records import DnsRecord
from mtasts.verify.mx_tls import PORT_25_BLOCKED
from tests.twin import Twin, site_from_state
from tests.twin import validators as run
from tests.twin.dnssec import missing as dnssec_missing
from tests.twin.mail import Listener, missing
from tests.twin.namespace import test_marks as marks
from tests.twin.servers import missing_requirements

pytestmark = marks("the Postfix twin", missing_requirements() or missing())

NOW = datetime.datetime.now(datetime.UTC)
CA = trustme.CA()
MX = "mx.tls.example"
WILD = "a.mx.tls.example"
STRAY = "stray.elsewhere.example"


def self_signed(name: str) -> trustme.LeafCert:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return trustme.LeafCert(key_pem, cert.public_bytes(serialization.Encoding.PEM), [])


# address → (host, listener, the result type a sender would report or None)
CASES: dict[str, tuple[str, Listener, str | None]] = {
    "10.53.2.1": (MX, Listener("10.53.2.1", CA.issue_cert(MX)), None),
    "10.53.2.2": (MX, Listener("10.53.2.2"), "starttls-not-supported"),
    "10.53.2.3": (MX, Listener("10.53.2.3", CA.issue_cert("other.tls.example")), "certificate-host-mismatch"),
    "10.53.2.4": (MX, Listener("10.53.2.4", CA.issue_cert(MX, not_before=NOW - datetime.timedelta(days=90),
                                                          not_after=NOW - datetime.timedelta(days=1))),
                  "certificate-expired"),
    "10.53.2.5": (MX, Listener("10.53.2.5", self_signed(MX)), "certificate-not-trusted"),
    "10.53.2.6": (MX, Listener("10.53.2.6", CA.issue_cert(MX), old_tls_only=True), "validation-failure"),
    "10.53.2.7": (WILD, Listener("10.53.2.7", CA.issue_cert("*.mx.tls.example")), None),
    "10.53.2.8": (STRAY, Listener("10.53.2.8", CA.issue_cert("other.elsewhere.example")),
                  "certificate-host-mismatch"),
}  # fmt: skip
BLOCKED = ("10.53.2.9", "10.53.2.10")
SILENT = "10.53.2.11"


def site(domain: str, mode: str, mx: list[str], hosts: tuple[tuple[int, str], ...]) -> Any:
    config = {"domain": domain, "mode": mode, "mx": mx, "tlsRpt": [f"mailto:tls@{domain}"]}
    return site_from_state(desired_state(parse_settings(config)), mx=hosts)


@pytest.fixture(scope="module")
def twin() -> Iterator[Twin]:
    sites = [
        site("tls.example", "enforce", [MX, "*.mx.tls.example"], ((10, MX), (20, WILD), (30, STRAY))),
        site("blocked.example", "testing", ["mx.blocked.example"], ((10, "mx.blocked.example"),)),
        site("blocked2.example", "testing", ["mx.blocked.example"], ((10, "mx.blocked.example"),)),
        site("silent.example", "testing", ["mx.silent.example"], ((10, "mx.silent.example"),)),
        site("mixed.example", "testing", ["*.mx.tls.example", "mx.blocked.example"],
             ((10, WILD), (20, "mx.blocked.example"))),
    ]  # fmt: skip
    records = [DnsRecord(f"mx-{a}", host, "A", a, 300) for a, (host, _, _) in CASES.items()]
    records += [DnsRecord(f"mx-{a}", "mx.blocked.example", "A", a, 300) for a in BLOCKED]
    records += [DnsRecord("mx-silent", "mx.silent.example", "A", SILENT, 300)]
    listeners = [listener for _, listener, _ in CASES.values()]
    listeners += [Listener(a, dropped=True) for a in BLOCKED] + [Listener(SILENT, silent=True)]
    with Twin(sites, extra_records=records, mail=listeners, ca=CA) as started:
        yield started


def verify(twin: Twin, *arguments: str) -> tuple[int, dict[str, Any]]:
    result = run.verify_cli(twin, ["--json", "--timeout", "1", *arguments])
    assert result.returncode in (0, 1, 3), result.stderr
    document = json.loads(result.stdout)
    return result.returncode, {domain["domain"]: domain for domain in document["domains"]}


def test_every_mx_address_is_judged_in_the_words_senders_report(twin: Twin) -> None:
    status, domains = verify(twin, "tls.example")
    entries = {entry["address"]: entry for entry in domains["tls.example"]["mx_tls"]}
    assert set(entries) == set(CASES)
    for address, (host, _, result_type) in CASES.items():
        entry = entries[address]
        assert (entry["host"], entry["result_type"]) == (host, result_type), entry
        assert entry["outcome"] == ("passed" if result_type is None else "failed"), entry
    good = entries["10.53.2.1"]
    assert good["tls_version"] in ("TLSv1.2", "TLSv1.3") and good["certificate_names"] == [MX]
    assert good["certificate_expires"] and good["dane"] == "no-tlsa"
    assert entries["10.53.2.7"]["certificate_names"] == ["*.mx.tls.example"]
    assert "TLS 1.2" in entries["10.53.2.6"]["message"]
    assert status == 1  # under enforce, a failing MX address stops mail


def test_failures_name_host_address_and_type_and_an_uncovered_host_stays_mx_coverages(twin: Twin) -> None:
    _, domains = verify(twin, "tls.example")
    findings = domains["tls.example"]["findings"]
    failing = [f["message"] for f in findings if f["check"] == "mx-tls" and f["status"] == "fail"]
    assert len(failing) == 5
    assert any(f"{MX} (10.53.2.3): certificate-host-mismatch" in message for message in failing)
    assert not any(STRAY in message for message in failing)
    coverage = [f for f in findings if f["check"] == "mx-coverage" and f["status"] == "fail"]
    assert [STRAY in f["message"] for f in coverage] == [True]


def test_port_25_blocked_is_said_once_and_changes_the_exit_status_only_when_required(twin: Twin) -> None:
    result = run.verify_cli(twin, ["--timeout", "1", "blocked.example"])
    assert result.returncode == 0, result.stdout
    assert (
        result.stdout.count("port 25 is not reachable from this machine; the MX hosts were not checked") == 1
    )
    status, _ = verify(twin, "--smtp", "require", "blocked.example")
    assert status == 3
    status, domains = verify(twin, "--smtp", "off", "blocked.example")
    assert status == 0 and domains["blocked.example"]["mx_tls"] == []


def test_a_run_where_every_mx_drops_packets_says_port_25_is_blocked_here_once(twin: Twin) -> None:
    result = run.verify_cli(twin, ["--timeout", "1", "blocked.example", "blocked2.example"])
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"INFO  {PORT_25_BLOCKED}\n"), result.stdout
    assert result.stdout.count(PORT_25_BLOCKED) == 1 and "could not check" not in result.stdout


def test_a_domain_whose_mx_drops_packets_beside_one_that_connects_is_that_domains_warning(
    twin: Twin,
) -> None:
    # silent.example's MX takes the connection: port 25 is open here, so blocked.example's MX
    # hosts are down (or filter this machine), which is blocked.example's to hear.
    result = run.verify_cli(twin, ["--timeout", "1", "silent.example", "blocked.example"])
    assert PORT_25_BLOCKED not in result.stdout, result.stdout
    section = result.stdout.split("blocked.example: ", 1)[1].split("\n\n", 1)[0]
    for address in BLOCKED:
        assert (
            f"WARN  mx-tls: could not check mx.blocked.example ({address}): no connection within 1 s"
            in section
        ), section
    status, domains = verify(twin, "--smtp", "require", "silent.example", "blocked.example")
    assert status == 3 and domains["blocked.example"]["outcome"] == "could-not-check"
    messages = [f["message"] for f in domains["blocked.example"]["findings"] if f["check"] == "mx-tls"]
    assert PORT_25_BLOCKED not in messages and len(messages) == len(BLOCKED), messages


def test_a_listener_that_never_speaks_is_given_up_on_within_the_timeout(twin: Twin) -> None:
    started = time.monotonic()
    status, domains = verify(twin, "silent.example")
    assert time.monotonic() - started < 15
    [entry] = domains["silent.example"]["mx_tls"]
    assert entry["outcome"] == "could-not-check" and "within 1 s" in entry["message"]
    assert status == 0  # a warning: the host may be busy or tarpitting; nothing is known to be wrong


# DANE: a zone signed with ldns behind a validating Unbound, so the AD bit is real

DANE_HOSTS = ("ee.dane.example", "bad.dane.example", "ta.dane.example", "pkix.dane.example",
              "bogus.dane.example", "mx.unsigned.example")  # fmt: skip
DANE_CERTS = {host: CA.issue_cert(host) for host in DANE_HOSTS}
DANE_ADDRESSES = dict(zip(DANE_CERTS, (f"10.53.2.{index}" for index in range(12, 18)), strict=True))
OTHER_KEY = CA.issue_cert("bad.dane.example")


def leaf_of(cert: trustme.LeafCert) -> x509.Certificate:
    return x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes())


def tlsa_record(host: str, text: str) -> DnsRecord:
    return DnsRecord(f"tlsa-{host}", f"_25._tcp.{host}", "TLSA", text, 300)


@pytest.fixture(scope="module")
def dane_twin() -> Iterator[Twin]:
    from mtasts.verify import tlsa

    hosts = tuple((10 * (index + 1), host) for index, host in enumerate(DANE_CERTS))
    mail = site("dane-mail.example", "testing", ["*.dane.example", "mx.unsigned.example"], hosts)
    ca_cert = x509.load_pem_x509_certificate(CA.cert_pem.bytes())
    records = [DnsRecord(f"mx-{host}", host, "A", address, 300) for host, address in DANE_ADDRESSES.items()]
    other = leaf_of(OTHER_KEY)
    published = {
        "ee.dane.example": tlsa.record_for(leaf_of(DANE_CERTS["ee.dane.example"]), 3, 1, 1),  # matches
        "bad.dane.example": tlsa.record_for(other, 3, 1, 1),  # another key
        "ta.dane.example": tlsa.record_for(ca_cert, 2, 1, 1),  # the test CA, sent in the chain
        "pkix.dane.example": tlsa.record_for(other, 1, 1, 1),  # PKIX-EE: not for SMTP
        "bogus.dane.example": tlsa.record_for(leaf_of(DANE_CERTS["bogus.dane.example"]), 3, 1, 1),
        "mx.unsigned.example": tlsa.record_for(other, 3, 1, 1),  # would not match, but is not validated
    }
    records += [tlsa_record(host, record.text()) for host, record in published.items()]
    listeners = [
        Listener(DANE_ADDRESSES[host], cert, ca=CA, with_ca=host == "ta.dane.example")
        for host, cert in DANE_CERTS.items()
    ]
    with Twin(
        [mail], extra_records=records, mail=listeners, ca=CA, signed_zones=["dane.example"],
        bogus=[("_25._tcp.bogus.dane.example", "TLSA")],
    ) as started:  # fmt: skip
        yield started


@pytest.mark.skipif(dnssec_missing() is not None and not os.environ.get("MTASTS_REQUIRE_SERVERS"),
                    reason=f"DANE twin: {dnssec_missing()}")  # fmt: skip
def test_tlsa_records_are_matched_only_when_dnssec_validated_them(dane_twin: Twin) -> None:
    result = dane_twin.python_run(
        ["-m", "mtasts", "verify", "--json", "--timeout", "2", "--nameserver", dane_twin.resolver_address,
         "--ca-file", str(dane_twin.ca_file), "dane-mail.example"],
    )  # fmt: skip
    assert result.returncode in (0, 1, 3), result.stderr
    [domain] = json.loads(result.stdout)["domains"]
    seen = {entry["host"]: (entry["dane"], entry["result_type"]) for entry in domain["mx_tls"]}
    assert seen == {
        "ee.dane.example": ("matched", None),
        "bad.dane.example": ("mismatched", "tlsa-invalid"),
        "ta.dane.example": ("matched", None),
        "pkix.dane.example": ("unusable", None),
        "bogus.dane.example": ("lookup-failed", "dnssec-invalid"),
        "mx.unsigned.example": ("not-validated", None),
    }
    messages = [f["message"] for f in domain["findings"] if f["check"] == "mx-tls"]
    assert any("mx.unsigned.example: the TLSA records" in m and "protect nothing" in m for m in messages)
    failed = [f for f in domain["findings"] if f["status"] == "fail"]
    # DANE failures stop mail for DANE senders even under testing.
    assert sorted(f["message"].split(" ")[0] for f in failed) == ["bad.dane.example", "bogus.dane.example"]
    assert result.returncode == 1


def test_the_stacks_gate_probes_with_the_same_check_and_weighs_it_by_mode(twin: Twin) -> None:
    script = (
        "import json; from mtasts.live import probe_mx_tls; from mtasts.rules import mx_tls\n"
        f"seen = probe_mx_tls([{MX!r}, {WILD!r}])\n"
        "print(json.dumps({'seen': [e.to_dict() for e in seen],\n"
        "  'enforce': [f.seen for f in mx_tls.judge('enforce', seen) if f.failed],\n"
        "  'testing': [f.severity.name for f in mx_tls.judge('testing', seen)]}))"
    )
    result = twin.python_run(["-c", script])
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    failing = {(e["address"], e["result_type"]) for e in found["seen"] if e["outcome"] == "failed"}
    assert failing == {(a, t) for a, (h, _, t) in CASES.items() if t and h in (MX, WILD)}
    assert len(found["enforce"]) == 5 and all("fails TLS" in text for text in found["enforce"])
    assert set(found["testing"]) == {"WARN"}


def test_reports_stack_names_the_mx_addresses_it_could_not_reach_and_claims_no_pass_for_them(
    twin: Twin,
) -> None:
    script = (
        "import json; from mtasts.verify.mx_check import live_mx_today_sync\n"
        "today = live_mx_today_sync('mixed.example', timeout=1)\n"
        "print(json.dumps([today.unchecked, today.failures, today.not_checked, today.passed]))"
    )
    result = twin.python_run(["-c", script])
    assert result.returncode == 0, result.stderr
    unchecked, failures, not_checked, passed = json.loads(result.stdout)
    assert unchecked is None and failures == [] and passed == 1  # port 25 is open here: WILD answered
    assert sorted(line.split(": ")[0] for line in not_checked) == [
        f"mx.blocked.example ({address})" for address in sorted(BLOCKED)
    ]


def test_postfix_is_stopped_with_the_twin_though_its_master_leaves_the_process_group() -> None:
    listener = Listener("10.53.2.1", CA.issue_cert("mx.solo.example"))
    with Twin([], mail=[listener], ca=CA) as solo:
        running = solo._namespace_pids()
        masters = [pid for pid in running if b"master" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert masters, "Postfix's master should run in the twin's namespace"
    assert not [pid for pid in running if _alive(pid)]


def _alive(pid: int) -> bool:
    """Running still: neither gone nor a zombie waiting for init to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
