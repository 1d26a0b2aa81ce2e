"""`python -m mtasts verify`: exit status 0/1/2/3, the readable report and the JSON document."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dns.rcode
import pytest

from mtasts.__main__ import main
from mtasts.verify.mx_tls import PORT_25_BLOCKED
from tests.smtp_fake import FakeSmtp
from tests.test_verify_fakes import GOOD_POLICY, Reply, World, good_zone

HOST = "mta-sts.example.com"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    world = World(tmp_path, good_zone("example.com"), {HOST: Reply(body=GOOD_POLICY.encode())}, [HOST])
    yield world
    world.close()


def network(world: World) -> list[str]:
    return [
        "--nameserver",
        "127.0.0.1",
        "--nameserver-port",
        str(world.dns.port),
        "--https-port",
        str(world.https.port),
        "--ca-file",
        world.ca_file,
        "--smtp-port",
        str(world.smtp.port),
        "--timeout",
        "2",
    ]


def test_a_passing_domain_exits_0_with_a_readable_report(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", "example.com", *network(world)]) == 0
    out = capsys.readouterr().out
    assert "PASS  discovery-record" in out
    assert out.rstrip().endswith("1 domain(s) checked: 1 passed, 0 passed with warnings, 0 failed")


def test_a_failing_domain_exits_1_and_prints_the_fix(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.https.replies[HOST] = Reply(404, b"")
    assert main(["verify", "example.com", *network(world)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  policy-fetch" in out and "fix: serve the policy file" in out


def test_json_is_one_document_with_domains_and_failed(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.dns.zone.update(good_zone("broken.test"))
    assert main(["verify", "--json", "example.com", "broken.test", *network(world)]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["failed"] is True
    assert [d["domain"] for d in document["domains"]] == ["example.com", "broken.test"]
    assert [d["failed"] for d in document["domains"]] == [False, True]
    first = document["domains"][0]["findings"][0]
    assert set(first) == {"check", "status", "message", "fix"} and first["status"] == "pass"


def test_a_report_on_several_domains_names_the_failed_ones_again_before_its_summary(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Among hundreds of domains, the ones to act on were only found by scrolling or grep.
    world.dns.zone.update(good_zone("broken.test"))
    world.dns.silent |= {"_mta-sts.quiet.test", "quiet.test", "mta-sts.quiet.test", "_smtp._tls.quiet.test"}
    assert main(["verify", "broken.test", "example.com", "quiet.test", *network(world)]) == 1
    *_, failed, unchecked, summary = capsys.readouterr().out.rstrip().splitlines()
    assert failed == "failed: broken.test"
    assert unchecked == "could not check: quiet.test"
    assert summary.startswith("3 domain(s) checked: 1 passed, 0 passed with warnings, 1 failed, 1 could not")

    assert main(["verify", "broken.test", *network(world)]) == 1
    *_, last, summary = capsys.readouterr().out.rstrip().splitlines()
    assert not last.startswith("failed:") and summary.startswith("1 domain(s) checked")


def test_domains_are_read_from_a_file_with_comments(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "domains.txt"
    listing.write_text("# our domains\nexample.com  # the main one\n\nExample.com.\n")
    assert main(["verify", "--json", "--from", str(listing), *network(world)]) == 0
    assert [d["domain"] for d in json.loads(capsys.readouterr().out)["domains"]] == ["example.com"]


@pytest.mark.parametrize(
    "argv",
    [
        ["verify"],
        ["verify", "--nameserver", "ns1.example.com", "example.com"],
        ["verify", "--from", "/nonexistent/domains.txt"],
        ["verify", "not a domain"],
        ["verify", "example.com", "xn--zz.example"],
        ["verify", "--timeout", "0", "example.com"],
        ["verify", "--ca-file", "/nonexistent/ca.pem", "example.com"],
        ["verify", "--stack", "no-such-stack"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "301", "nan", "inf"])
def test_a_timeout_out_of_range_says_what_is_accepted(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    # 0 is refused, so the message must not offer it ("from 0 to 300" once did).
    assert main(["verify", "--timeout", value, "example.com"]) == 2
    assert "expected more than 0 and at most 300 seconds" in capsys.readouterr().err


def test_an_internationalised_name_is_refused_with_its_a_label(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "bücher.example"]) == 2
    assert "xn--bcher-kva.example" in capsys.readouterr().err


def test_a_label_that_is_no_punycode_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "example.com", "mail.xn--abc.example"]) == 2
    err = capsys.readouterr().err
    assert "'mail.xn--abc.example' (its label 'xn--abc')" in err and "registrar shows" in err


def test_stack_without_domains_verifies_the_stacks_domain(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.t.yaml").write_text(
        "config:\n  mta-sts:domain: example.com\n  mta-sts:mode: enforce\n"
    )
    code = main(["--project-dir", str(tmp_path), "verify", "--stack", "t", "--json", *network(world)])
    document = json.loads(capsys.readouterr().out)
    assert [d["domain"] for d in document["domains"]] == ["example.com"]
    drift = [f for f in document["domains"][0]["findings"] if f["check"] == "stack-drift"]
    assert code == 1 and drift and all(f["status"] != "pass" for f in drift)  # Proton MX, Netlify address


# Exit status 3: the resolver or the network did not answer, so nothing is known about the
# domain. Never reported with a fix that tells the owner to publish records.


def _unused_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _no_fix_to_publish(out: str) -> None:
    assert "fix: publish" not in out, out


def test_a_silent_nameserver_exits_3_saying_what_did_not_answer(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.dns.silent.update(name for name, _ in world.dns.zone)
    assert main(["verify", "example.com", *network(world)[:-1], "0.5"]) == 3
    out = capsys.readouterr().out
    assert "example.com: COULD NOT CHECK" in out
    assert "could not check: the resolver 127.0.0.1" in out and "did not answer" in out
    assert "1 could not be checked" in out
    _no_fix_to_publish(out)
    # Once per domain, not once per check: the lookups that failed alike share one line.
    [line] = [line for line in out.splitlines() if "NOT CHECKED" in line]
    assert "more lookups (" in line and "not judged" not in out, out


@pytest.mark.parametrize("rcode", [dns.rcode.SERVFAIL, dns.rcode.REFUSED])
def test_a_resolver_answering_servfail_or_refused_exits_3_naming_the_answer(
    world: World, capsys: pytest.CaptureFixture[str], rcode: int
) -> None:
    world.dns.rcodes.update({name: rcode for name, _ in world.dns.zone})
    assert main(["verify", "example.com", *network(world)]) == 3
    out = capsys.readouterr().out
    assert f"answered {dns.rcode.to_text(rcode)} for _mta-sts.example.com TXT" in out
    _no_fix_to_publish(out)


def test_a_resolver_refusing_connections_exits_3(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    argv = network(world)
    argv[argv.index("--nameserver-port") + 1] = str(_unused_udp_port())
    assert main(["verify", "example.com", *argv[:-1], "0.5"]) == 3
    out = capsys.readouterr().out
    assert "could not check: the resolver 127.0.0.1" in out
    assert "answered no answer" not in out and out.count("NOT CHECKED") == 1, out
    _no_fix_to_publish(out)


def test_one_unanswered_lookup_is_enough_to_exit_3_when_nothing_failed(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.dns.silent.add("_smtp._tls.example.com")
    assert main(["verify", "--json", "example.com", *network(world)[:-1], "0.5"]) == 3
    [domain] = json.loads(capsys.readouterr().out)["domains"]
    unchecked = [f for f in domain["findings"] if f["status"] == "unchecked"]
    assert [f["check"] for f in unchecked] == ["tls-rpt"]
    assert unchecked[0]["fix"] == ""
    assert {f["status"] for f in domain["findings"] if f["check"] == "discovery-record"} == {"pass"}


def test_a_failed_domain_beside_an_unchecked_one_exits_1_and_json_tells_them_apart(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.dns.zone.update(good_zone("broken.test"))  # its certificate is for example.com only
    world.dns.zone.update(good_zone("silent.test"))
    world.dns.silent.update(name for name, _ in good_zone("silent.test") if name.endswith("silent.test"))
    argv = ["verify", "--json", "example.com", "broken.test", "silent.test", *network(world)[:-1], "0.5"]
    assert main(argv) == 1
    document = json.loads(capsys.readouterr().out)
    outcomes = {d["domain"]: (d["outcome"], d["failed"], d["could_not_check"]) for d in document["domains"]}
    assert outcomes == {
        "example.com": ("passed", False, False),
        "broken.test": ("failed", True, False),
        "silent.test": ("could-not-check", False, True),
    }
    assert document["failed"] is True and document["could_not_check"] is True


def test_a_domain_file_saved_with_a_byte_order_mark_reads_as_its_domains(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Windows editors start a UTF-8 file with U+FEFF; it is not part of the first name (the
    # error said "not a domain name: '\ufeffexample.com' (write it as 'example.com')").
    listing = tmp_path / "domains.txt"
    listing.write_bytes(b"\xef\xbb\xbfexample.com\r\n")
    assert main(["verify", "--json", "--from", str(listing), *network(world)]) == 0
    assert [d["domain"] for d in json.loads(capsys.readouterr().out)["domains"]] == ["example.com"]


def test_a_domain_too_long_for_its_records_is_refused_naming_the_record_not_the_resolver(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A 251-character name is a host name, but _smtp._tls.<name> would pass DNS's 253: no
    # resolver can be asked, so "could not check: the resolver ..." blamed the wrong side.
    name = ".".join(["a" * 61] * 4) + ".com"  # 251 characters
    assert main(["verify", "--nameserver", "127.0.0.1", name]) == 2
    err = capsys.readouterr().err
    assert f"_smtp._tls.{name}" in err and "253" in err, err


def test_a_record_in_characters_the_output_cannot_encode_is_escaped_not_a_traceback(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A report quotes what the servers publish. Output redirected to a file on Windows is
    # written in the locale's code page (cp1252), which has no snowman.
    import io

    world.dns.zone[("_smtp._tls.example.com", "TXT")] = [
        '"v=TLSRPTv1; rua=mailto:tls@\\226\\152\\131.example"'
    ]
    out = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    monkeypatch.setattr("sys.stdout", out)
    code = main(["verify", "example.com", *network(world)])
    out.flush()
    text = out.buffer.getvalue().decode("cp1252")  # type: ignore[attr-defined]
    assert code == 1 and "tls@\\u2603.example" in text, text
    assert "§" in text  # what the code page has is written as it is


# --from is read like any outside input: bounded, and judged with the line named.


def test_a_domain_file_without_end_is_refused_before_it_fills_memory(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # /dev/zero (or a runaway pipe) never ends: the whole-file read grew without bound.
    monkeypatch.setattr("mtasts.verify.cli.MAX_DOMAIN_FILE_BYTES", 1024 * 1024)
    assert main(["verify", "--from", "/dev/zero"]) == 2
    err = capsys.readouterr().err
    assert "--from /dev/zero holds more than 1 MiB" in err and "split the list" in err


def test_a_domain_file_from_a_pipe_is_read(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # `verify --from <(cut -f1 zones.tsv)`: process substitution hands over a pipe, not a file.
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as writer:
        writer.write(b"example.com\n")
    try:
        assert main(["verify", "--json", "--from", f"/dev/fd/{read_end}", *network(world)]) == 0
    finally:
        os.close(read_end)
    assert [d["domain"] for d in json.loads(capsys.readouterr().out)["domains"]] == ["example.com"]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_domain_file_that_is_not_utf8_names_the_line(
    bom: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Saved in Latin-1: the error was the codec's "'utf-8' codec can't decode byte 0xfc in
    # position 24: invalid start byte", with neither the line nor what to do.
    listing = tmp_path / "domains.txt"
    listing.write_bytes(bom + b"example.com\nexample.org\nb\xfccher.example\nx\xe9.example\n")
    assert main(["verify", "--from", str(listing)]) == 2
    err = capsys.readouterr().err
    assert f"--from {listing} is not UTF-8 text: line 3 holds the byte 0xfc" in err
    assert "save it as UTF-8" in err


def test_many_bad_names_are_listed_in_part_with_their_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A CSV export given as the list: every one of 5,000 lines was quoted in one error line.
    listing = tmp_path / "domains.csv"
    listing.write_text("".join(f"d{n}.example,active\n" for n in range(5000)))
    assert main(["verify", "--from", str(listing)]) == 2
    err = capsys.readouterr().err
    assert "'d0.example,active'" in err and "'d9.example,active'" in err
    assert "'d10.example,active'" not in err and "and 4,990 more" in err
    assert len(err) < 2000


# Port 25: blocked here is a fact about this machine only when no MX of the whole run took a
# connection; one domain whose MX hosts refuse is that domain's trouble, said under its name.

REFUSING = "refused.test"


def refusing_zone(domain: str = REFUSING) -> dict[tuple[str, str], list[str]]:
    """A domain like `good_zone`'s whose one MX host is 127.0.0.2, where nothing listens."""
    zone = good_zone(domain)
    zone[(domain, "MX")] = ["10 c.mx.example.com."]  # covered by GOOD_POLICY's *.mx.example.com
    zone[("c.mx.example.com", "A")] = ["127.0.0.2"]
    return zone


@pytest.fixture
def two_worlds(tmp_path: Path) -> Iterator[World]:
    policy = Reply(body=GOOD_POLICY.encode())
    refusing_host = f"mta-sts.{REFUSING}"
    zone = {**good_zone("example.com"), **refusing_zone()}
    world = World(tmp_path, zone, {HOST: policy, refusing_host: policy}, [HOST, refusing_host])
    yield world
    world.close()


def test_one_domain_whose_mx_refuses_beside_one_that_passes_is_its_own_warning_not_port_25_blocked(
    two_worlds: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # The good MX answers each step late, so the refusal is judged before any probe of the run
    # has connected: whether port 25 is blocked here is only known when the run ends.
    port = two_worlds.smtp.port
    two_worlds.smtp.close()
    two_worlds.smtp = FakeSmtp(two_worlds.ca, ["mail.example.com", "b.mx.example.com"], delay=0.3, port=port)
    for domains in ([REFUSING, "example.com"], ["example.com", REFUSING]):
        assert main(["verify", *domains, *network(two_worlds)]) == 0
        out = capsys.readouterr().out
        assert PORT_25_BLOCKED not in out, out
        section = out.split(f"{REFUSING}: ", 1)[1].split("\n\n", 1)[0]
        assert section.startswith("ok\n"), section
        assert "WARN  mx-tls: could not check c.mx.example.com (127.0.0.2): connection refused" in section
        assert "fix: check that the host accepts connections on port 25" in section
    assert main(["verify", "--json", "--smtp", "require", REFUSING, "example.com", *network(two_worlds)]) == 3
    domains = {d["domain"]: d for d in json.loads(capsys.readouterr().out)["domains"]}
    assert [d["outcome"] for d in domains.values()] == ["could-not-check", "passed"]
    refused = [f for f in domains[REFUSING]["findings"] if f["check"] == "mx-tls"]
    assert [(f["status"], "connection refused" in f["message"]) for f in refused] == [("unchecked", True)]


def test_a_run_where_no_mx_took_a_connection_says_port_25_is_blocked_here_once(
    two_worlds: World, capsys: pytest.CaptureFixture[str]
) -> None:
    for host in ("mail.example.com", "b.mx.example.com"):  # example.com's MX hosts refuse too
        two_worlds.dns.zone[(host, "A")] = ["127.0.0.2"]
    assert main(["verify", "example.com", REFUSING, *network(two_worlds)]) == 0
    out = capsys.readouterr().out
    assert out.count(PORT_25_BLOCKED) == 1 and out.startswith(f"INFO  {PORT_25_BLOCKED}\n"), out
    assert "could not check" not in out, out


def test_what_hostile_servers_send_is_printed_escaped_and_the_same_in_json(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # The zone's owner (or whoever took it over) writes the TXT records, the MX host its
    # banner: ESC sequences, a CR LF starting a line that reads as a verdict, a bidi override.
    from tests.smtp_fake import FakeSmtp

    forged = "\\027[2J\\013\\010  PASS  discovery-record: fine\\226\\128\\174"  # zone-file escapes
    world.dns.zone[("_mta-sts.example.com", "TXT")] = ['"v=STSv1; id=abc123"', f'"{forged}"']
    port = world.smtp.port
    world.smtp.close()
    world.smtp = FakeSmtp(
        world.ca, ["mail.example.com"], banner="554 go away\x1b]0;owned\x07\r  PASS  mx-tls: fine", port=port
    )
    main(["verify", "example.com", *network(world)])
    text = capsys.readouterr().out
    lines = text.split("\n")
    assert "\x1b" not in text and "\r" not in text and all(line.isprintable() for line in lines), text
    assert not any(line.lstrip().startswith("PASS  mx-tls") for line in lines), text
    assert "'\\x1b[2J\\r\\n  PASS  discovery-record: fine\\u202e'" in text, text
    assert "greeted with 554 go away\\x1b]0;owned\\x07\\r  PASS  mx-tls: fine" in text, text
    main(["verify", "--json", "example.com", *network(world)])
    messages = [f["message"] for f in json.loads(capsys.readouterr().out)["domains"][0]["findings"]]
    shown = [m for m in messages if "discovery-record: fine" in m or "go away" in m]
    assert len(shown) >= 2 and all(message in text for message in shown), shown


def test_a_machine_naming_no_resolver_is_a_usage_error_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # An empty or missing resolv.conf (some containers; a laptop whose network is down) ended
    # `verify` with dnspython's NoResolverConfiguration traceback.
    import dns.resolver

    def no_configuration(self: object, *args: object, **kwargs: object) -> None:
        raise dns.resolver.NoResolverConfiguration("no nameservers")

    monkeypatch.setattr(dns.resolver.Resolver, "__init__", no_configuration)
    assert main(["verify", "example.com"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: this machine names no DNS resolver to ask (no nameservers)"), err
    assert "a nameserver line in /etc/resolv.conf" in err and "--nameserver IP" in err

    from mtasts.verify import VerifyOptions
    from mtasts.verify.dns import NoResolverError, make_resolver

    with pytest.raises(NoResolverError, match="names no DNS resolver"):  # the stack's checks
        make_resolver(VerifyOptions())


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare")
def test_an_empty_resolv_conf_is_said_before_any_lookup(tmp_path: Path) -> None:
    empty = tmp_path / "resolv.conf"
    empty.write_text("# the network is down\n")
    script = (
        f"mount --bind {shlex.quote(str(empty))} /etc/resolv.conf && "
        f"{shlex.quote(sys.executable)} -m mtasts verify example.com --timeout 1"
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: this machine names no DNS resolver to ask"), done.stderr
    assert "Traceback" not in done.stderr
