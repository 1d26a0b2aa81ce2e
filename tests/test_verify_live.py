"""`verify` against a DNS server and an HTTPS server on 127.0.0.1 (RFC 8461 §3.1–§3.3, §8).

The fake DNS server is the only resolver (as `--nameserver` makes it) and the policy host's
address comes from it, while the certificate is still judged against mta-sts.<domain>.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mtasts.config import parse_settings
from mtasts.desired import desired_state
from mtasts.verify import (
    DomainReport,
    Outcome,
    Status,
    check_policy_file,
    check_policy_served_sync,
    verify_domain,
    verify_domains,
)
from tests.test_verify_fakes import GOOD_POLICY, FakeHttps, Reply, World, good_zone, silent_listeners

DOMAIN = "example.com"
HOST = "mta-sts.example.com"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path, good_zone(DOMAIN), {HOST: Reply(body=GOOD_POLICY.encode())}, [HOST])
    yield world
    world.close()


def verify(world: World, **kw: object) -> DomainReport:
    return asyncio.run(verify_domain(DOMAIN, world.options, **kw))  # type: ignore[arg-type]


def failures(report: DomainReport, check: str) -> list[str]:
    return [f.message for f in report.by_check(check) if f.status is Status.FAIL]


def test_a_complete_deployment_passes_every_check(world: World) -> None:
    report = verify(world)
    assert not report.failed
    assert report.policy_id == "abc123" and report.policy_text == GOOD_POLICY
    passed = {f.check for f in report.findings if f.status is Status.PASS}
    expected = {"discovery-record", "policy-fetch", "policy-syntax", "mx-coverage", "tls-rpt"}
    assert expected | {"policy-host-null-mx", "policy-host-spf", "policy-host-cname"} <= passed
    assert not [f for f in report.findings if f.status is Status.WARN]


def test_the_policy_is_fetched_with_the_policy_host_name_not_the_address(world: World) -> None:
    verify(world)
    assert world.https.requests == [(HOST, "/.well-known/mta-sts.txt")]


def test_a_404_fails_policy_fetch(world: World) -> None:
    world.https.replies[HOST] = Reply(404, b"gone")
    report = verify(world)
    assert any("HTTP 404" in message for message in failures(report, "policy-fetch"))


def test_a_redirect_is_not_followed_and_its_location_is_named(world: World) -> None:
    world.https.replies[HOST] = Reply(301, b"", {"Location": "https://www.example.com/mta-sts.txt"})
    report = verify(world)
    assert any(
        "https://www.example.com/mta-sts.txt" in message for message in failures(report, "policy-fetch")
    )
    assert len(world.https.requests) == 1


def test_a_redirect_to_a_hostile_location_is_named_escaped_and_cut(world: World) -> None:
    # h11 takes any byte but NUL and whitespace in a header value: ESC, and bytes 0x80-0xff,
    # which read as Latin-1 (U+009B is the 8-bit CSI).
    location = "https://www.example.com/\x1b[2J\x9b1;1H  PASS  policy-fetch" + "x" * 50_000
    world.https.replies[HOST] = Reply(301, b"", {"Location": location})
    [message] = failures(verify(world), "policy-fetch")
    assert message.isprintable() and len(message) < 1000, message[:1000]
    assert "https://www.example.com/\\x1b[2J\\x9b1;1H  PASS  policy-fetch" in message


def test_a_header_h11_refuses_is_named_within_bounds(world: World) -> None:
    # h11 quotes the whole refused header line (as bytes), and a head may be 100 KiB.
    headers = {"Content-Type": "text/plain", "X-Junk": "\x00" + "y" * 90_000}
    world.https.replies[HOST] = Reply(body=GOOD_POLICY.encode(), headers=headers)
    [message] = failures(verify(world), "policy-fetch")
    assert "illegal header line" in message and len(message) < 1500, message[:1500]


def test_text_html_fails_policy_fetch(world: World) -> None:
    world.https.replies[HOST] = Reply(body=GOOD_POLICY.encode(), headers={"Content-Type": "text/html"})
    assert any("text/html" in message for message in failures(verify(world), "policy-fetch"))


def test_a_policy_over_64_kib_fails_even_without_content_length(world: World) -> None:
    world.https.replies[HOST] = Reply(body=GOOD_POLICY.encode() + b"#" * 2_000_000, send_length=False)
    report = verify(world)
    assert any("larger than 65536" in message for message in failures(report, "policy-fetch"))
    assert report.policy_text is None


def test_non_ascii_policy_fails(world: World) -> None:
    world.https.replies[HOST] = Reply(body=GOOD_POLICY.replace("mx: mail", "mx: mäil").encode())
    assert any("non-ASCII" in message for message in failures(verify(world), "policy-fetch"))


def test_utf8_in_an_extension_value_passes_when_served_as_utf8_and_fails_without_a_charset(
    world: World,
) -> None:
    body = (GOOD_POLICY + "contact: postmaster ✉ café\n").encode()
    world.https.replies[HOST] = Reply(body=body, headers={"Content-Type": "text/plain; charset=utf-8"})
    report = verify(world)
    assert failures(report, "policy-fetch") == [] and failures(report, "policy-syntax") == []
    world.https.replies[HOST] = Reply(body=body, headers={"Content-Type": "text/plain"})
    assert any("without a charset" in message for message in failures(verify(world), "policy-fetch"))
    world.https.replies[HOST] = Reply(
        body=body + b"\xff", headers={"Content-Type": "text/plain; charset=utf-8"}
    )
    assert any("not UTF-8" in message for message in failures(verify(world), "policy-fetch"))


def test_a_certificate_for_another_host_fails(world: World) -> None:
    other = FakeHttps(world.ca, ["mta-sts.other.example"], {HOST: Reply(body=GOOD_POLICY.encode())})
    try:
        options = dataclasses.replace(world.options, https_port=other.port)
        report = asyncio.run(verify_domain(DOMAIN, options))
    finally:
        other.close()
    messages = failures(report, "policy-fetch")
    assert messages and "certificate was rejected" in messages[0] and "mta-sts.example.com" in messages[0]


def test_an_expired_certificate_fails(world: World) -> None:
    expired = FakeHttps(world.ca, [HOST], {HOST: Reply(body=GOOD_POLICY.encode())}, expired=True)
    try:
        options = dataclasses.replace(world.options, https_port=expired.port)
        report = asyncio.run(verify_domain(DOMAIN, options))
    finally:
        expired.close()
    assert any("expired" in message for message in failures(report, "policy-fetch"))


def test_a_server_that_offers_only_tls_1_1_fails(world: World) -> None:
    # RFC 8461 §3.3: the policy host must be fetched over TLS 1.2 or newer (RFC 8461 §3.2).
    world.https.close()
    world.https = FakeHttps(world.ca, [HOST], {HOST: Reply(body=GOOD_POLICY.encode())}, only_tls_1_1=True)
    world.options = dataclasses.replace(world.options, https_port=world.https.port)
    report = verify(world)
    [failure] = [f for f in report.by_check("policy-fetch") if f.status is Status.FAIL]
    assert "handshake" in failure.message and "TLS 1.2" in failure.fix
    assert not world.https.requests  # the handshake failed: no request was ever made


def test_a_certificate_from_an_untrusted_ca_fails(world: World, tmp_path: Path) -> None:
    import trustme

    other_ca = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    options = dataclasses.replace(world.options, ca_file=str(other_ca))
    report = asyncio.run(verify_domain(DOMAIN, options))
    assert failures(report, "policy-fetch")


def test_two_sts_records_fail_discovery(world: World) -> None:
    world.dns.zone[(f"_mta-sts.{DOMAIN}", "TXT")] = ['"v=STSv1; id=one"', '"v=STSv1; id=two"']
    assert any("senders see no policy" in message for message in failures(verify(world), "discovery-record"))


def test_a_policy_host_that_resolves_to_nothing_fails_clearly(world: World) -> None:
    del world.dns.zone[(HOST, "A")]
    assert any("has no address" in message for message in failures(verify(world), "policy-fetch"))


@pytest.mark.parametrize("length", [2, 1, 20], ids=["loop", "self", "too-long"])
def test_a_cname_loop_at_the_policy_host_fails_naming_the_chain(world: World, length: int) -> None:
    """A loop (or a chain past what resolvers follow) is in the answers themselves: every sender's
    resolver meets it, so senders cannot reach the policy host. A failure with its fix, not
    "could not check" as when a resolver does not answer."""
    del world.dns.zone[(HOST, "A")]
    names = [HOST] + [f"alias-{n}.{DOMAIN}" for n in range(1, length)]
    targets = names[1:] + ([names[0]] if length < 20 else [f"alias-{length}.{DOMAIN}"])
    for name, target in zip(names, targets, strict=True):
        world.dns.zone[(name, "CNAME")] = [target]
    if length == 20:
        world.dns.zone[(targets[-1], "A")] = ["127.0.0.1"]
    report = verify(world)
    found = [f for f in report.by_check("policy-fetch") if f.status is not Status.PASS]
    assert [f.message.split(":")[0] for f in found] == [f"{HOST} A", f"{HOST} AAAA"], found
    expected = "CNAME records loop" if length < 20 else "CNAME chain is longer than resolvers follow"
    for fetch in found:
        assert fetch.status is Status.FAIL and expected in fetch.message, fetch.message
        assert "could not check" not in fetch.message and "CNAME chain" in fetch.fix
    assert report.outcome is not Outcome.UNCHECKED


def test_an_uncovered_mx_under_enforce_fails(world: World) -> None:
    world.dns.zone[(DOMAIN, "MX")] = ["10 mail.example.com.", "20 backup.example.net."]
    assert any("backup.example.net" in message for message in failures(verify(world), "mx-coverage"))


def test_dnssec_is_information_and_a_validated_tlsa_record_matching_nothing_fails_the_mx_check(
    world: World,
) -> None:
    world.dns.zone[("_25._tcp.mail.example.com", "TLSA")] = ["3 1 1 " + "ab" * 32]
    world.dns.authenticated = True
    report = verify(world)
    assert "TLSA records at _25._tcp of mail.example.com" in report.by_check("dane")[0].message
    assert (
        "validated" in report.by_check("dnssec")[0].message
        and "not" not in report.by_check("dnssec")[0].message
    )
    failed = [f for f in report.findings if f.status is Status.FAIL]
    assert [f.check for f in failed] == ["mx-tls"] and "tlsa-invalid" in failed[0].message
    world.dns.authenticated = False  # the same records without the AD bit protect nothing
    assert not verify(world).failed


def test_a_silent_nameserver_leaves_the_domain_unchecked_within_the_time_bound(world: World) -> None:
    world.dns.silent.update(name for name, _ in world.dns.zone)
    options = dataclasses.replace(world.options, timeout=0.5)
    started = time.monotonic()
    report = asyncio.run(verify_domain(DOMAIN, options))
    assert time.monotonic() - started < 4 * 0.5 + 1
    assert report.outcome is Outcome.UNCHECKED and not report.failed
    [discovery] = report.by_check("discovery-record")
    assert discovery.status is Status.UNCHECKED
    assert discovery.message.startswith("could not check: the resolver 127.0.0.1")
    assert "did not answer _mta-sts.example.com TXT" in discovery.message
    assert not [f for f in report.findings if "publish" in f.fix and f.status is not Status.PASS]


def expected_state(policy_text_mode: str = "enforce") -> object:
    state = desired_state(
        parse_settings(
            {
                "domain": DOMAIN,
                "mode": policy_text_mode,
                "mx": ["mail.example.com"],
                "tlsRpt": [f"mailto:tls@{DOMAIN}"],
            }
        )
    )
    # The twin's policy host is 127.0.0.1, not the hosting provider's address.
    records = tuple(dataclasses.replace(r, value="127.0.0.1") if r.type == "A" else r for r in state.records)
    return dataclasses.replace(state, records=records[:1] + tuple(r for r in records if r.type != "A"))


def publish(world: World, state: object) -> None:
    for record in state.records:  # type: ignore[attr-defined]
        rdata = f"{record.priority} {record.value.rstrip('.')}." if record.type == "MX" else record.content
        world.dns.zone[(record.name, record.type)] = [rdata]
    world.dns.zone[(DOMAIN, "MX")] = ["10 mail.example.com."]


def test_with_the_stack_state_live_and_declared_agree(world: World) -> None:
    state = expected_state()
    publish(world, state)
    world.https.replies[HOST] = Reply(body=state.policy_text.encode())  # type: ignore[attr-defined]
    report = verify(world, expected=state)
    assert [f.status for f in report.by_check("stack-drift")] == [Status.PASS]
    assert not report.failed


def test_with_the_stack_state_a_live_mx_host_its_policy_misses_is_drift_even_without_proton(
    world: World,
) -> None:
    # The stack publishes no apex MX (no `proton`), yet its enforce policy must cover the live
    # ones (RFC 8461 §4.1): `verify --stack` says so on stack-drift, not only on mx-coverage.
    state = expected_state()
    publish(world, state)
    world.dns.zone[(DOMAIN, "MX")] = ["10 mail.example.com.", "20 backup.example.net."]
    world.https.replies[HOST] = Reply(body=state.policy_text.encode())  # type: ignore[attr-defined]
    report = verify(world, expected=state)
    [gap] = failures(report, "stack-drift")
    assert gap.startswith("the stack's policy: MX host backup.example.net of example.com matches no")
    # The apex MX records are the mail provider's, not the stack's: no "does not declare" warning.
    assert [f.status for f in report.by_check("stack-drift")] == [Status.FAIL]


def test_a_new_id_with_the_old_file_served_fails_as_a_half_finished_rollout(world: World) -> None:
    state = expected_state()
    publish(world, state)
    world.https.replies[HOST] = Reply(body=expected_state("testing").policy_text.encode())  # type: ignore[attr-defined]
    report = verify(world, expected=state)
    assert any(
        "senders would cache the old policy under the new id" in m for m in failures(report, "stack-drift")
    )


def test_check_policy_file_compares_the_served_text_with_the_expected_text(world: World) -> None:
    same = asyncio.run(check_policy_file(DOMAIN, world.options, GOOD_POLICY))
    stale = asyncio.run(check_policy_file(DOMAIN, world.options, GOOD_POLICY.replace("86400", "604800")))
    assert same.text == GOOD_POLICY and same.served_everywhere
    assert not [f for f in same.findings if f.status is Status.FAIL]
    assert [f.check for f in stale.findings if f.status is Status.FAIL] == ["stack-drift"]
    assert not stale.served_everywhere
    assert [(a.address, a.expected) for a in stale.addresses] == [("127.0.0.1", False)]


def test_check_policy_served_sync_works_inside_and_outside_an_event_loop(world: World) -> None:
    options = world.options
    kwargs = {
        "ca_file": options.ca_file,
        "timeout": 2.0,
        "nameserver": "127.0.0.1",
        "port": options.port,
        "https_port": options.https_port,
    }
    outside = check_policy_served_sync(DOMAIN, GOOD_POLICY, **kwargs)  # type: ignore[arg-type]

    async def inside() -> bool:
        return check_policy_served_sync(DOMAIN, GOOD_POLICY, **kwargs).served_everywhere  # type: ignore[arg-type]

    assert outside.served_everywhere
    assert asyncio.run(inside())


def test_several_domains_are_checked_concurrently_in_input_order(world: World) -> None:
    names = [f"d{i}.test" for i in range(20)]
    for name in names:
        world.dns.zone.update(good_zone(name))
    started = time.monotonic()
    reports = asyncio.run(verify_domains(names, world.options))
    assert [r.domain for r in reports] == names
    assert all(failures(r, "policy-fetch") for r in reports)  # the certificate is for example.com only
    assert time.monotonic() - started < 10


def test_the_garbage_collector_runs_less_often_during_a_run_and_as_before_after_it(world: World) -> None:
    import gc

    world.dns.zone.update(good_zone("d0.test"))
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []

    async def run() -> None:
        task = asyncio.ensure_future(verify_domains(["d0.test"], world.options))
        await asyncio.sleep(0)
        seen.append(gc.get_threshold())
        await task

    asyncio.run(run())
    assert seen[0][0] > before[0]
    assert gc.get_threshold() == before


def test_a_check_that_raises_becomes_a_failure_and_the_others_still_run(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mtasts.verify.checks import tlsrpt

    def broken(*_: object) -> list[object]:
        raise KeyError("surprise")

    monkeypatch.setattr(tlsrpt, "judge", broken)
    report = verify(world)
    assert any("KeyError" in message for message in failures(report, "tls-rpt"))
    assert [f.status for f in report.by_check("policy-host-cname")] == [Status.PASS]
    assert report.by_check("dane")


def test_an_unexpected_errors_text_is_cut(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # An exception may quote what it was handed: a 64 KiB record, say.
    from mtasts.verify.checks import tlsrpt

    def broken(*_: object) -> list[object]:
        raise ValueError(f"cannot read {'v=TLSRPTv1; ' + 'x' * 60_000!r}")

    monkeypatch.setattr(tlsrpt, "judge", broken)
    [message] = failures(verify(world), "tls-rpt")
    assert message.startswith("the check failed unexpectedly: ValueError: cannot read 'v=TLSRPTv1; xx")
    assert len(message) < 1200 and message.endswith("characters)"), message[-100:]


def test_ssl_cert_file_is_honoured_when_no_ca_file_is_given(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_ca = dataclasses.replace(world.options, ca_file=None)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert failures(
        asyncio.run(verify_domain(DOMAIN, without_ca)), "policy-fetch"
    )  # test CA not in the system store
    monkeypatch.setenv("SSL_CERT_FILE", world.ca_file)
    assert not asyncio.run(verify_domain(DOMAIN, without_ca)).failed


def test_a_domain_with_many_silent_mx_addresses_does_not_leave_another_domain_unchecked(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The probes in flight are bounded across domains (MAX_PROBES_IN_FLIGHT). A domain whose
    # MX addresses accept and never greet (a tarpit) holds each place for the whole timeout;
    # one such domain must not take them all and push the next domain past its time budget.

    from mtasts.verify import mx_check

    monkeypatch.setattr(mx_check, "MAX_PROBES_IN_FLIGHT", 4)
    monkeypatch.setattr(mx_check, "MAX_PER_DOMAIN", 2)
    pits = [f"127.0.1.{n}" for n in range(1, 31)]
    tarpit = good_zone("tarpit.test")
    tarpit[("tarpit.test", "MX")] = ["10 mx.tarpit.test."]
    tarpit[("mx.tarpit.test", "A")] = pits
    world.dns.zone.update(tarpit)
    options = dataclasses.replace(world.options, timeout=0.5)
    with silent_listeners(pits, world.smtp.port):
        reports = asyncio.run(verify_domains(["tarpit.test", DOMAIN], options))
    report = reports[1]
    assert report.outcome is Outcome.PASSED, [
        f.message for f in report.findings if f.status is not Status.PASS
    ]
    assert [entry.outcome.value for entry in report.mx_tls] == ["passed", "passed"]


@contextlib.contextmanager
def flooding_server(
    world: World, repeated: bytes, *, opening: bytes = b"", tls: bool = True
) -> Iterator[None]:
    """A policy host address, 127.0.0.3, that answers the client's first flight with `opening`
    and then `repeated` again and again (or, when it is empty, nothing more), until the test is
    done (or 8 s have passed, so that a fetch that does not stop still ends). `tls`: over a TLS
    connection with the host's certificate, else on the bare socket."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    world.ca.issue_cert(HOST).configure_cert(context)

    def flood(connection: socket.socket, going_on: Callable[[], bool]) -> None:
        with (
            contextlib.suppress(OSError),
            context.wrap_socket(connection, server_side=True) if tls else connection as peer,
        ):
            peer.recv(65536)
            peer.sendall(opening)
            while going_on():
                if repeated:
                    peer.sendall(repeated)
                else:
                    time.sleep(0.05)  # nothing more: the connection just stays open

    with one_connection_server(world, flood):
        yield


@contextlib.contextmanager
def one_connection_server(
    world: World, serve: Callable[[socket.socket, Callable[[], bool]], None]
) -> Iterator[None]:
    """127.0.0.3 on the HTTPS port, handing its first connection to `serve` in a thread, with
    a test that says whether to go on: until the test is done, or 8 s have passed, so that a
    fetch that does not stop still ends."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.3", world.https.port))
    listener.listen(1)
    stop = threading.Event()
    until = time.monotonic() + 8

    def accept() -> None:
        with contextlib.suppress(OSError):  # the listener closed before anyone connected
            connection, _ = listener.accept()
            serve(connection, lambda: not stop.is_set() and time.monotonic() < until)

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield
    finally:
        stop.set()
        listener.close()


def test_a_server_sending_endless_informational_responses_is_cut_off_within_the_timeout(
    world: World,
) -> None:
    # h11 hands each 1xx head over as an event of its own, so no size limit held them, and a
    # socket that always has data never lets the event loop run the timeout: the fetch spun.
    from mtasts.verify.https import Client, fetch_policy

    options = dataclasses.replace(world.options, timeout=1.0)
    started = time.monotonic()
    with flooding_server(world, b"HTTP/1.1 100 Continue\r\n\r\n" * 500):
        [result] = asyncio.run(fetch_policy(Client(options), HOST, ["127.0.0.3"], options))
    assert time.monotonic() - started < 3
    assert result.error_kind == "http" and "informational" in (result.error or ""), result


def test_a_body_of_endless_chunk_extensions_is_cut_off_within_the_timeout_and_spares_the_others(
    world: World,
) -> None:
    # Each chunk header may carry 100 KiB of extensions for one byte of body, so the body
    # limit is far away; and while the socket always has data the fetch never gave the event
    # loop a turn: its own timeout, and every other address's, waited for the server to stop.
    from mtasts.verify.https import Client, fetch_policy

    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    options = dataclasses.replace(world.options, timeout=2.0)
    started = time.monotonic()
    with flooding_server(world, b"1;" + b"e" * 90_000 + b"\r\n#\r\n", opening=head):
        good, flooded = asyncio.run(fetch_policy(Client(options), HOST, ["127.0.0.1", "127.0.0.3"], options))
    assert time.monotonic() - started < 5
    assert flooded.error_kind == "timeout", flooded
    assert good.status == 200 and good.body == GOOD_POLICY.encode(), good


def test_a_server_sending_endless_hello_requests_in_the_handshake_is_cut_off_within_the_timeout(
    world: World,
) -> None:
    # OpenSSL skips a TLS 1.2 HelloRequest that comes during the handshake, so records full of
    # them, written once and sent again and again, never end the handshake nor fail it.
    from mtasts.verify.https import Client, fetch_policy

    records = (b"\x16\x03\x03\x40\x00" + b"\x00" * 0x4000) * 8
    options = dataclasses.replace(world.options, timeout=2.0)
    started = time.monotonic()
    with flooding_server(world, records, tls=False):  # after the ClientHello
        good, flooded = asyncio.run(fetch_policy(Client(options), HOST, ["127.0.0.1", "127.0.0.3"], options))
    assert time.monotonic() - started < 5
    assert flooded.error_kind == "timeout", flooded
    assert good.status == 200 and good.body == GOOD_POLICY.encode(), good


@pytest.mark.parametrize(
    ("tls", "opening", "said"),
    [
        (False, b"", "connected, but the TLS handshake did not finish within 1 s"),
        (True, b"", "connected over TLSv1.3, but no HTTP response within 1 s"),
        (
            True,
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 80\r\n\r\nversion: STSv1\r\n",
            "HTTP 200 came, but the response did not end within 1 s",
        ),
    ],
)
def test_a_fetch_that_runs_out_of_time_says_how_far_it_got(
    world: World, tls: bool, opening: bytes, said: str
) -> None:
    # "no response within 1 s" read as if the address had not answered at all, while it had
    # taken the connection, or finished the handshake, or sent the head of its response.
    from mtasts.verify.https import Client, fetch_policy
    from mtasts.verify.policy_served import judge_fetch

    options = dataclasses.replace(world.options, timeout=1.0)
    with flooding_server(world, b"", opening=opening, tls=tls):
        [result] = asyncio.run(fetch_policy(Client(options), HOST, ["127.0.0.3"], options))
    assert result.error_kind == "timeout" and result.error == said, result
    [finding] = judge_fetch(HOST, [], [result])[0]
    assert f"timed out (127.0.0.3: {said})" in finding.message, finding.message
    assert "could not connect" not in finding.message


def test_no_fetch_leaves_its_socket_registered_with_the_event_loop(world: World) -> None:
    # A fetch's socket stays registered from one read to the next, so every way a fetch ends
    # must remove it before the descriptor closes: a registration left behind under a number
    # the next socket reuses would only have its callback replaced, never be armed in epoll,
    # and that fetch would wait out its timeout. Here a fetch succeeds, one times out in the
    # handshake, one is refused, and one fails the certificate check.
    from mtasts.verify.https import Client, fetch_policy

    options = dataclasses.replace(world.options, timeout=1.0)
    untrusted = dataclasses.replace(options, ca_file=None)

    async def fetch() -> tuple[list[str | None], int]:
        results = await fetch_policy(Client(options), HOST, ["127.0.0.1", "127.0.0.3", "127.0.0.9"], options)
        refused = await fetch_policy(Client(untrusted), HOST, ["127.0.0.1"], untrusted)
        # Not public: asyncio's own table of what its selector watches (its wake-up pipe only).
        registered = len(asyncio.get_running_loop()._selector.get_map())  # type: ignore[attr-defined]
        return [result.error_kind for result in [*results, *refused]], registered

    with flooding_server(world, b"", tls=False):
        kinds, registered = asyncio.run(fetch())
    assert kinds == [None, "timeout", "connect", "certificate"], kinds
    assert registered == 1


def test_data_that_nothing_reads_yet_stops_the_watch_rather_than_wake_the_loop_each_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A registered socket with unread data is reported on every turn of the event loop; while
    # a fetch is busy elsewhere (sending), a server sending data would keep the loop busy.
    import ssl

    from mtasts.verify import https

    woken = 0
    ready = https._TlsConnection._ready

    def counted(self: https._TlsConnection) -> None:
        nonlocal woken
        woken += 1
        ready(self)

    monkeypatch.setattr(https._TlsConnection, "_ready", counted)
    ours, server = socket.socketpair()
    ours.setblocking(False)

    async def run() -> tuple[bytes, bytes]:
        connection = https._TlsConnection(ours, ssl.create_default_context(), HOST)
        server.send(b"first")
        first = await connection._recv()  # registers the socket, and leaves it registered
        server.send(b"unread")  # while nothing waits to read it
        for _ in range(50):
            await asyncio.sleep(0)
        later = await connection._recv()  # watched again, and read
        connection.abort()
        return first, later

    try:
        first, later = asyncio.run(run())
    finally:
        server.close()
    assert (first, later) == (b"first", b"unread")
    assert woken <= 4, woken  # about once per read, not once per turn


def _openssl() -> Any:
    """The system's libssl through ctypes, with the server calls these tests make: Python's
    ssl can neither send a KeyUpdate nor begin a renegotiation."""
    import ctypes
    import ctypes.util

    ssl_lib = ctypes.CDLL(ctypes.util.find_library("ssl"))
    pointer, number, text = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    for name, result, arguments in [
        ("TLS_server_method", pointer, []),
        ("SSL_CTX_new", pointer, [pointer]),
        ("SSL_CTX_use_certificate_chain_file", number, [pointer, text]),
        ("SSL_CTX_use_PrivateKey_file", number, [pointer, text, number]),
        ("SSL_CTX_ctrl", ctypes.c_long, [pointer, number, ctypes.c_long, pointer]),
        ("SSL_new", pointer, [pointer]),
        ("SSL_set_fd", number, [pointer, number]),
        ("SSL_accept", number, [pointer]),
        ("SSL_read", number, [pointer, text, number]),
        ("SSL_write", number, [pointer, text, number]),
        ("SSL_get_error", number, [pointer, number]),
        ("SSL_key_update", number, [pointer, number]),
        ("SSL_renegotiate", number, [pointer]),
        ("SSL_renegotiate_pending", number, [pointer]),
        ("SSL_do_handshake", number, [pointer]),
        ("SSL_free", None, [pointer]),
        ("SSL_CTX_free", None, [pointer]),
    ]:
        function = getattr(ssl_lib, name)
        function.restype, function.argtypes = result, arguments
    return ssl_lib


# What a server built on `openssl_server` does once the request has come.
AfterRequest = Callable[[Any, Any, socket.socket, Callable[[], bool]], None]


@contextlib.contextmanager
def openssl_server(world: World, after_request: AfterRequest, *, tls12: bool = False) -> Iterator[None]:
    """A policy host address, 127.0.0.3, served by OpenSSL itself: the handshake (TLS 1.2 at
    most with `tls12`), the request read, then `after_request(ssl_lib, ssl, socket, going_on)`,
    until the test is done (or 8 s have passed)."""
    import ctypes
    import tempfile

    ssl_lib = _openssl()
    pem = tempfile.NamedTemporaryFile(suffix=".pem")  # noqa: SIM115 (closed with the server)
    world.ca.issue_cert(HOST).private_key_and_cert_chain_pem.write_to_path(pem.name)

    def serve(connection: socket.socket, going_on: Callable[[], bool]) -> None:
        context = ssl_lib.SSL_CTX_new(ssl_lib.TLS_server_method())
        ssl_lib.SSL_CTX_use_certificate_chain_file(context, pem.name.encode())
        ssl_lib.SSL_CTX_use_PrivateKey_file(context, pem.name.encode(), 1)  # SSL_FILETYPE_PEM
        if tls12:
            ssl_lib.SSL_CTX_ctrl(context, 124, 0x0303, None)  # SSL_CTRL_SET_MAX_PROTO_VERSION, TLS 1.2
        peer = ssl_lib.SSL_new(context)
        ssl_lib.SSL_set_fd(peer, connection.fileno())
        with connection:
            if ssl_lib.SSL_accept(peer) == 1:
                ssl_lib.SSL_read(peer, ctypes.create_string_buffer(65536), 65536)
                after_request(ssl_lib, peer, connection, going_on)
            ssl_lib.SSL_free(peer)
            ssl_lib.SSL_CTX_free(context)

    with pem, one_connection_server(world, serve):
        yield


@contextlib.contextmanager
def key_updating_server(world: World, head: bytes) -> Iterator[None]:
    """Answers over TLS 1.3 with `head`, then sends KeyUpdate after KeyUpdate, each asking for
    one back (RFC 8446 §4.6.3)."""

    def update(ssl_lib: Any, peer: Any, _: socket.socket, going_on: Callable[[], bool]) -> None:
        ssl_lib.SSL_write(peer, head, len(head))
        while going_on():
            # SSL_KEY_UPDATE_REQUESTED; the handshake call sends it
            if ssl_lib.SSL_key_update(peer, 1) != 1 or ssl_lib.SSL_do_handshake(peer) != 1:
                break

    with openssl_server(world, update):
        yield


@contextlib.contextmanager
def renegotiating_server(world: World, times: int | None, response: bytes) -> Iterator[None]:
    """Over TLS 1.2, renegotiates `times` times once the request has come (None: until the
    test is done), and sends `response` only after the client has completed each, as a server
    holds its answer while it asks for a client certificate by renegotiating (RFC 5746)."""
    import ctypes
    import select

    def renegotiate(ssl_lib: Any, peer: Any, connection: socket.socket, going_on: Callable[[], bool]) -> None:
        buffer = ctypes.create_string_buffer(65536)
        done = 0
        while (times is None or done < times) and going_on():
            ssl_lib.SSL_renegotiate(peer)
            ssl_lib.SSL_do_handshake(peer)  # sends the HelloRequest
            connection.setblocking(False)  # so that SSL_read takes the client's part and returns
            while ssl_lib.SSL_renegotiate_pending(peer) and going_on():
                result = ssl_lib.SSL_read(peer, buffer, 65536)
                if ssl_lib.SSL_get_error(peer, result) not in (2, 3):  # SSL_ERROR_WANT_READ, _WRITE
                    return
                select.select([connection], [], [], 0.05)
            connection.setblocking(True)
            if ssl_lib.SSL_renegotiate_pending(peer):
                return  # the client never completed it: the answer is held for good
            done += 1
        ssl_lib.SSL_write(peer, response, len(response))

    with openssl_server(world, renegotiate, tls12=True):
        yield


def test_a_server_asking_for_endless_key_updates_does_not_pile_up_the_replies_in_memory(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenSSL writes its KeyUpdate reply to the outgoing buffer as it reads each request, and
    # after the request nothing drained that buffer: it grew by a reply per request (MBs a
    # second) for the whole timeout, for a connection that never sends again.
    from mtasts.verify import https

    held: list[int] = []
    recv = https._TlsConnection._recv

    async def watched(connection: https._TlsConnection) -> bytes:
        held.append(connection._outgoing.pending)
        return await recv(connection)

    monkeypatch.setattr(https._TlsConnection, "_recv", watched)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    # A timeout the cut-off comes well within, even on a loaded machine: the error says which ended it.
    options = dataclasses.replace(world.options, timeout=5.0)
    started = time.monotonic()
    with key_updating_server(world, head):
        [result] = asyncio.run(https.fetch_policy(https.Client(options), HOST, ["127.0.0.3"], options))
    # Each reply is sent, as a sender's TLS stack sends it, and a server that never stops asking
    # is cut off before the timeout.
    assert result.error == (
        "RemoteProtocolError: the server renegotiated TLS or asked for new keys again and again "
        "before its response ended (8 answered; a policy needs none)"
    ), result
    assert time.monotonic() - started < 4.0
    assert held and max(held) < 64 * 1024, held


def test_an_answer_the_server_no_longer_takes_does_not_hide_its_response(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server asks for a key update, then answers; sending the update back fails (it has
    # stopped reading, or reset), yet the response it sent is there to read.
    import time as clock

    from mtasts.verify import https

    def update_then_answer(ssl_lib: Any, peer: Any, _: socket.socket, going_on: Callable[[], bool]) -> None:
        # Two updates, apart: OpenSSL writes its answer to one as it reads the next record.
        for _ in range(2):
            ssl_lib.SSL_key_update(peer, 1)  # SSL_KEY_UPDATE_REQUESTED
            ssl_lib.SSL_do_handshake(peer)
            clock.sleep(0.1)
        clock.sleep(0.1)  # so that the updates are read, and answered, before the response comes
        response = _policy_response()
        ssl_lib.SSL_write(peer, response, len(response))

    flush = https._TlsConnection._flush
    failed: list[int] = []

    async def refused_after_the_request(connection: https._TlsConnection) -> None:
        if connection._answers:  # what `receive` sends back
            failed.append(connection._outgoing.pending)
            connection._outgoing.read()
            raise BrokenPipeError(32, "Broken pipe")
        await flush(connection)

    monkeypatch.setattr(https._TlsConnection, "_flush", refused_after_the_request)
    options = dataclasses.replace(world.options, timeout=2.0)
    with openssl_server(world, update_then_answer):
        [result] = asyncio.run(https.fetch_policy(https.Client(options), HOST, ["127.0.0.3"], options))
    assert failed and failed[0] > 0, result
    assert (result.error, result.status, result.body) == (None, 200, GOOD_POLICY.encode()), result


def _policy_response() -> bytes:
    body = GOOD_POLICY.encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


@pytest.mark.parametrize("times", [1, 3])
def test_a_server_that_renegotiates_before_it_answers_is_answered_as_senders_answer_it(
    world: World, times: int
) -> None:
    # A sender's TLS stack completes a renegotiation the server begins after the request (IIS
    # and Apache do it to ask for a client certificate); verify threw its part away, and waited
    # out the timeout for a response the server held until the renegotiation was done.
    from mtasts.verify import https

    options = dataclasses.replace(world.options, timeout=2.0)
    with renegotiating_server(world, times, _policy_response()):
        [result] = asyncio.run(https.fetch_policy(https.Client(options), HOST, ["127.0.0.3"], options))
    assert (result.error, result.status, result.body) == (None, 200, GOOD_POLICY.encode()), result
    assert result.tls_version == "TLSv1.2"


def test_a_server_that_renegotiates_without_end_is_cut_off_before_the_timeout(world: World) -> None:
    from mtasts.verify import https

    options = dataclasses.replace(world.options, timeout=6.0)
    started = time.monotonic()
    with renegotiating_server(world, None, _policy_response()):
        [result] = asyncio.run(https.fetch_policy(https.Client(options), HOST, ["127.0.0.3"], options))
    assert result.error_kind == "http" and "renegotiated TLS" in (result.error or ""), result
    assert time.monotonic() - started < 4.0


@contextlib.contextmanager
def no_file_descriptor_left() -> Iterator[None]:
    """This process's open-file limit lowered to what it holds, and the few numbers below it
    that are free taken, so that the next socket fails with EMFILE; all as before after."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    held: list[int] = []
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(int(fd) for fd in os.listdir("/proc/self/fd")) + 1, hard))
    try:
        while True:
            try:
                held.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                break
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_machine_out_of_file_descriptors_is_not_blamed_on_the_policy_host(world: World) -> None:
    # Many domains at a high --concurrency under a low open-file limit: the socket could not
    # be made, and the fetch read "All connection attempts failed", a failure of the domain's
    # policy host, where nothing is known about what that host serves.
    from mtasts.verify.https import Client, FetchResult, fetch_from
    from mtasts.verify.policy_served import judge_fetch

    async def fetch() -> FetchResult:
        client = Client(world.options)  # the trust store is read before the descriptors run out
        with no_file_descriptor_left():
            return await fetch_from(client, HOST, "127.0.0.1", world.options)

    result = asyncio.run(fetch())
    assert result.error_kind == "unreachable" and result.error is not None, result
    assert "Too many open files" in result.error and "--concurrency" in result.error, result
    [finding] = judge_fetch(HOST, [], [result])[0]
    assert finding.status is Status.UNCHECKED, finding


def test_an_mx_probe_out_of_file_descriptors_is_this_machines_trouble_not_the_hosts() -> None:
    # As for the policy fetch: "could not connect (Too many open files)" read as the MX host's
    # trouble, a warning with a fix about its port 25.
    from mtasts.verify.mx_tls import ProbeFailure, SmtpProbe
    from mtasts.verify.smtp import probe, probe_context

    async def run() -> SmtpProbe:
        context = probe_context()
        with no_file_descriptor_left():
            return await probe("mx.example.com", "127.0.0.1", 1.0, context, port=2525)

    found = asyncio.run(run())
    assert found.failure is ProbeFailure.NO_ROUTE, found
    assert "Too many open files" in found.detail and "--concurrency" in found.detail, found
