"""Reading the reports mailbox over IMAP: the URL rules, and a real Dovecot (tests/twin/imap.py)
holding senders' report mail and broken input, left exactly as it was found."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import trustme

from mtasts.__main__ import main
from mtasts.reports import imap
from mtasts.reports.imap import (
    ImapLocation,
    ImapUrlError,
    check_password,
    mailbox_argument,
    parse_imap_url,
    read_imap,
)
from mtasts.reports.sources import Found, Item, Rejected
from tests.twin.fake_imap import FakeImap, Script
from tests.twin.imap import HOST, PASSWORD, USER, ImapTwin, imap_test_marks
from tests.twin.reportmail import days_ago, make_report, recent_samples, report_mail

# The samples as if collected today: `reports` reads by the clock and refuses reports years old.
TODAY = days_ago(0)


# --- The URL (no server) -------------------------------------------------------------------


def test_an_imaps_url_gives_user_host_port_and_folder() -> None:
    location = parse_imap_url("imaps://tls-reports%40example.com@imap.example.com/TLS%20Reports")
    assert location == ImapLocation(
        "imaps", "tls-reports@example.com", "imap.example.com", 993, "TLS Reports"
    )
    assert str(location) == "imaps://tls-reports%40example.com@imap.example.com/TLS%20Reports"


def test_the_folder_defaults_to_inbox_and_imap_means_port_143_with_starttls() -> None:
    assert parse_imap_url("imap://u@h").folder == "INBOX"
    assert parse_imap_url("imap://u@h:1143/").port == 1143
    assert parse_imap_url("imaps://u@h/").port == 993


@pytest.mark.parametrize(
    ("folder", "argument"),
    [
        ("INBOX", '"INBOX"'),
        ("Boîte de réception", '"Bo&AO4-te de r&AOk-ception"'),  # RFC 3501 §5.1.3
        ("Reports & more", '"Reports &- more"'),
        ('say "hi"\\', '"say \\"hi\\"\\\\"'),
    ],
)
def test_a_folder_is_sent_in_modified_utf7_as_a_quoted_string(folder: str, argument: str) -> None:
    assert mailbox_argument(folder) == argument


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("pop3://u@h/INBOX", "scheme 'pop3' is not accepted; expected imaps://USER@HOST[:PORT]/FOLDER"),
        ("imaps://u:hunter2@h/INBOX", "must not carry the password"),
        ("imaps://h/INBOX", "names no user"),
        ("imaps://u@/INBOX", "names no host"),
        ("imaps://u@h/INBOX?UNSEEN", "takes no search"),
        ("imaps://u@h:port/INBOX", "is not a URL"),
        ("imaps://u@h/INBOX%0D%0AA1%20LOGOUT", "folder holds a control character at position 6"),
        ("imaps://u%0D%0AA1%20LOGOUT@h/INBOX", "user name holds a control character at position 2"),
        ("imaps://u@h/IN\r\nBOX", "holds a control character at position 15"),
        ("imaps://u\t@h/INBOX", "holds a control character at position 10"),
        ("imaps://u@h:0/INBOX", "port 0 is not a port"),
        ("imaps://u:hunter2@h:99999/INBOX", "imaps://u:***@h:99999/INBOX' is not a URL (Port out of range"),
        ("imaps://u:hunter2@[::1/INBOX", "imaps://u:***@[::1/INBOX' is not a URL (Invalid IPv6 URL)"),
        ("imaps://us%C3%A9r@h/INBOX", "user name 'usér' holds characters outside ASCII"),
    ],
)
def test_a_bad_imap_url_is_refused_with_what_is_expected(url: str, message: str) -> None:
    with pytest.raises(ImapUrlError, match=re.escape(message)) as raised:
        parse_imap_url(url)
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("pass\r\nA1 LOGOUT", "control character at position 5 of 15"),
        ("horse-battery\n", "control character at position 14 of 14"),
        ("mot-de-passé", "outside ASCII at position 12 of 12"),
    ],
)
def test_a_password_login_cannot_send_is_refused_by_position_never_by_character(
    password: str, message: str
) -> None:
    with pytest.raises(ImapUrlError, match=message) as raised:
        check_password(password)
    assert "é" not in str(raised.value) and "LOGOUT" not in str(raised.value)


def test_a_non_ascii_password_is_a_usage_error_that_shows_none_of_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MTASTS_IMAP_PASSWORD", "pässwörd-ünicode")
    status = main(["reports", "--imap", "imaps://u@imap.example.com/INBOX"])
    captured = capsys.readouterr()
    assert status == 2 and "outside ASCII at position 2 of 16" in captured.err
    assert not any(char in captured.err + captured.out for char in "äöü")


@pytest.mark.parametrize("value", ["0", "100000", "nan"])
def test_an_imap_timeout_out_of_range_is_a_usage_error(
    value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MTASTS_IMAP_PASSWORD", "horse-battery")
    status = main(["reports", "--imap", "imaps://u@imap.example.com/INBOX", "--imap-timeout", value])
    assert status == 2 and "expected 1 to 86400 seconds" in capsys.readouterr().err


# --- A scripted server that lies (tests/twin/fake_imap.py) ---------------------------------

FAKE_PASSWORD = "fake-imap-Passw0rd-not-a-secret"


def recent_mail(number: int, *, padding: int = 0, organization: str | None = None) -> bytes:
    day = date.today() - timedelta(days=number + 1)
    raw = report_mail(make_report(day, report_id=f"fake-{number}", organization=organization))
    return raw.replace(b"\r\n\r\n", b"\r\nX-Padding: " + b"p" * padding + b"\r\n\r\n", 1) if padding else raw


def read_fake(fake: FakeImap, **options: float) -> list[Item]:
    location = parse_imap_url(fake.url)
    return list(read_imap(location, FAKE_PASSWORD, ca_file=str(fake.ca_file), **options))  # type: ignore[arg-type]


def found_uids(items: list[Item]) -> list[int]:
    return [int(item.origin.rsplit("UID=", 1)[1]) for item in items if isinstance(item, Found)]


def test_the_honest_fake_serves_every_report() -> None:
    with FakeImap([recent_mail(n) for n in range(3)]) as fake:
        items = read_fake(fake)
    assert found_uids(items) == [1, 2, 3] and fake.fetched_bodies() == [[1, 2, 3]]


def test_a_server_that_sends_a_byte_at_a_time_is_cut_off_at_the_deadline() -> None:
    # Each byte comes well within the per-read timeout, so only a deadline for the whole read ends it.
    with FakeImap([recent_mail(0)], Script(byte_delay=0.2)) as fake:
        started = time.monotonic()
        items = read_fake(fake, deadline=1.5, timeout=1.0)
        elapsed = time.monotonic() - started
    [rejected] = items
    assert isinstance(rejected, Rejected) and rejected.whole_source
    assert "gave up after 1.5 s (--imap-timeout)" in rejected.reason
    assert elapsed < 5


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
def test_a_connection_cut_mid_fetch_is_named_a_break_not_a_refusal(reset: bool) -> None:
    """A refusal (NO, BAD) is about the login or the folder; a connection that ends under a FETCH
    is a fault worth running again, and the run must say how much it missed."""
    with FakeImap([recent_mail(n) for n in range(3)], Script(cut_at=2, reset=reset)) as fake:
        items = read_fake(fake, timeout=5.0)
    rejected = [item for item in items if isinstance(item, Rejected)]
    assert len(rejected) == 1 and rejected[0].whole_source, items
    reason = rejected[0].reason
    assert "refused" not in reason and "cannot reach" not in reason, reason
    assert "broke off while the messages were fetched" in reason, reason
    read = len(found_uids(items))
    assert f"{read} of 3 messages read and counted, {3 - read} not; run it again" in reason, reason


def test_a_literal_announced_as_gigabytes_rejects_that_message_and_the_others_are_read() -> None:
    script = Script(literal={2: 5 * 2**30})
    with FakeImap([recent_mail(n) for n in range(3)], script) as fake:
        items = read_fake(fake)
    assert found_uids(items) == [1, 3]
    [rejected] = [item for item in items if isinstance(item, Rejected)]
    assert rejected.origin.endswith(";UID=2") and not rejected.whole_source
    assert "a literal of 5368709120 bytes" in rejected.reason and "not read" in rejected.reason
    assert fake.fetched_bodies() == [[1, 2, 3], [1], [2], [3]]  # the batch again, one by one


def test_a_literal_size_of_thousands_of_digits_rejects_that_message_and_the_others_are_read() -> None:
    # More digits than int() reads (4,300): its ValueError rejected the whole mailbox.
    script = Script(literal={2: "1" + "0" * 5000})
    with FakeImap([recent_mail(n) for n in range(3)], script) as fake:
        items = read_fake(fake)
    assert found_uids(items) == [1, 3]
    [rejected] = [item for item in items if isinstance(item, Rejected)]
    assert rejected.origin.endswith(";UID=2") and not rejected.whole_source
    assert "a literal whose size is a 5,001-digit number" in rejected.reason and "not read" in rejected.reason


def test_a_chain_of_empty_literals_rejects_that_message_in_bounded_memory() -> None:
    # Each " {0}" became a tuple of two bytes objects in imaplib: 6 bytes on the wire, some
    # 150 in memory. Past the bound the answer stops being read, so what it holds is bounded.
    script = Script(empty_literals={2: 1_000_000})
    with FakeImap([recent_mail(n) for n in range(3)], script) as fake:
        tracemalloc.start()
        try:
            items = read_fake(fake)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert found_uids(items) == [1, 3]
    [rejected] = [item for item in items if isinstance(item, Rejected)]
    assert rejected.origin.endswith(";UID=2") and not rejected.whole_source
    assert f"more than {imap.MAX_LITERALS} literals in one answer" in rejected.reason
    # The fake server, in this process, holds copies of its 6 MB answer (some 36 MB in all);
    # a tuple per literal of the million was 150 MB more.
    assert peak < 64 * 2**20, f"{peak:,} bytes"


def test_a_message_larger_than_its_rfc822_size_beyond_the_limit_is_rejected_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap, "MAX_MESSAGE_BYTES", 40_000)
    messages = [recent_mail(0), recent_mail(1, padding=50_000), recent_mail(2)]
    with FakeImap(messages, Script(announced={2: 100})) as fake:
        items = read_fake(fake)
    assert found_uids(items) == [1, 3]
    [rejected] = [item for item in items if isinstance(item, Rejected)]
    assert rejected.origin.endswith(";UID=2") and "announced as 100 bytes (RFC822.SIZE)" in rejected.reason


def test_a_message_somewhat_larger_than_its_rfc822_size_is_still_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Some servers' RFC822.SIZE is off; within the limit the message is read, one by one.
    monkeypatch.setattr(imap, "ANSWER_SLACK", 1_000)
    messages = [recent_mail(0), recent_mail(1, padding=20_000), recent_mail(2)]
    with FakeImap(messages, Script(announced={2: 100})) as fake:
        items = read_fake(fake)
    assert found_uids(items) == [1, 2, 3] and not [item for item in items if isinstance(item, Rejected)]


def test_large_honest_messages_are_fetched_in_batches_of_bounded_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap, "BATCH_BYTES", 30_000)
    messages = [recent_mail(n, padding=10_000) for n in range(6)]
    with FakeImap(messages) as fake:
        items = read_fake(fake)
    assert found_uids(items) == [1, 2, 3, 4, 5, 6]
    batches = fake.fetched_bodies()
    assert len(batches) > 1 and [uid for batch in batches for uid in batch] == [1, 2, 3, 4, 5, 6]
    assert all(sum(len(messages[uid - 1]) for uid in batch) <= 30_000 for batch in batches)


def test_a_flood_of_lines_in_answer_to_search_rejects_the_mailbox_in_bounded_memory() -> None:
    with FakeImap([recent_mail(0)], Script(flood_on_search=True)) as fake:
        started = time.monotonic()
        [rejected] = read_fake(fake)
    assert isinstance(rejected, Rejected) and rejected.whole_source
    assert f"more than {imap.SMALL_ANSWER} bytes in one answer" in rejected.reason
    assert time.monotonic() - started < 10


def test_a_message_the_server_leaves_out_is_named_and_one_it_was_not_asked_for_is_ignored() -> None:
    script = Script(withheld={2}, unasked=recent_mail(9))
    with FakeImap([recent_mail(n) for n in range(3)], script) as fake:
        items = read_fake(fake)
    assert found_uids(items) == [1, 3]
    [rejected] = [item for item in items if isinstance(item, Rejected)]
    assert rejected.origin.endswith(";UID=2") and "sent no message for this UID" in rejected.reason


def test_a_message_another_client_expunges_while_the_folder_is_read_is_gone_not_rejected() -> None:
    # A live mailbox: the message was there for SEARCH and gone by FETCH. It was named like
    # one the server left out ("sent no message for this UID"), a rejected input, exit 1.
    script = Script(expunged={2}, withheld={3})
    with FakeImap([recent_mail(n) for n in range(4)], script) as fake:
        items = read_fake(fake)
    assert found_uids(items) == [1, 4]
    [rejected] = [item for item in items if isinstance(item, Rejected)]
    assert rejected.origin.endswith(";UID=3") and "sent no message for this UID" in rejected.reason
    assert any(command.endswith("UID SEARCH UID 2,3") for command in fake.commands), fake.commands


@pytest.mark.parametrize(
    ("words", "shown"),
    [
        (b"000000000010000000000000", "'000000000010000000000000'"),  # 10^13: its first 11 digits pass
        (b"00000000001" + b"0" * 5000, "'0000000000100000"),  # past int()'s 4,300 digits
        (b"4294967296", "'4294967296'"),  # 2^32
        (b"0", "'0'"),
        ("\u0663".encode(), "'\ufffd\ufffd'"),  # ARABIC-INDIC DIGIT THREE, not ASCII
    ],
)
def test_a_search_answer_that_is_no_uid_rejects_the_mailbox_by_name(words: bytes, shown: str) -> None:
    with FakeImap([recent_mail(n) for n in range(3)], Script(search_reply=b"1 2 " + words)) as fake:
        [rejected] = read_fake(fake)
    assert isinstance(rejected, Rejected) and rejected.whole_source
    assert f"answered SEARCH with {shown}" in rejected.reason, rejected.reason
    assert "which is not a UID (1 to 2^32-1)" in rejected.reason
    assert not fake.fetched_bodies()


def test_a_uid_written_with_leading_zeros_is_that_uid() -> None:
    script = Script(search_reply=b"1 2 000000000003", validity_lines=b"* OK [UIDVALIDITY 0007] a\r\n")
    with FakeImap([recent_mail(n) for n in range(3)], script) as fake:
        items = read_fake(fake)
    assert found_uids(items) == [1, 2, 3] and ";UIDVALIDITY=7/" in items[0].origin


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (b"* OK [UIDVALIDITY 7] a\r\n* OK [UIDVALIDITY 8] b\r\n", "2 different UIDVALIDITYs ('7', '8')"),
        (b"* OK [UIDVALIDITY seven] a\r\n", "UIDVALIDITY 'seven', not a number"),
        (
            b"* OK [UIDVALIDITY 99999999999999999999] a\r\n",
            "UIDVALIDITY '99999999999999999999', not a number",
        ),
    ],
)
def test_an_odd_uidvalidity_rejects_the_mailbox_with_what_was_answered(lines: bytes, message: str) -> None:
    with FakeImap([recent_mail(0)], Script(validity_lines=lines)) as fake:
        [rejected] = read_fake(fake)
    assert isinstance(rejected, Rejected) and rejected.whole_source
    assert "answer makes no sense" in rejected.reason and message in rejected.reason


def test_a_server_that_echoes_login_gets_no_password_into_the_rejection() -> None:
    script = Script(login_reply=b"NO [AUTHENTICATIONFAILED] LOGIN {user} {password} failed")
    with FakeImap([recent_mail(0)], script) as fake:
        [rejected] = read_fake(fake)
    assert isinstance(rejected, Rejected) and "the IMAP server refused" in rejected.reason
    assert "[password]" in rejected.reason and FAKE_PASSWORD not in rejected.reason
    assert FAKE_PASSWORD[:12] not in rejected.reason


@pytest.mark.parametrize("output", ["text", "--json", "--html"])
def test_a_password_echoed_by_the_server_is_scrubbed_from_every_output(
    output: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once in a LOGIN refusal (from a second mailbox), once inside a report the server serves."""
    monkeypatch.setenv("MTASTS_IMAP_PASSWORD", FAKE_PASSWORD)
    echo = Script(login_reply=b"NO LOGIN {user} {password} failed")
    forged = recent_mail(0, organization=f"Org {FAKE_PASSWORD}")
    with FakeImap([forged]) as serving, FakeImap([], echo) as echoing:
        page = tmp_path / "page.html"
        flags = {"text": [], "--json": ["--json"], "--html": ["--html", str(page)]}[output]
        argv = ["reports", "--imap", serving.url, "--imap", echoing.url, *flags]
        # Both fakes share one CA file? No: each has its own, so trust both.
        bundle = tmp_path / "cas.pem"
        bundle.write_text(serving.ca_file.read_text() + echoing.ca_file.read_text())
        status = main([*argv, "--ca-file", str(bundle)])
    captured = capsys.readouterr()
    shown = captured.out + captured.err + (page.read_text() if page.exists() else "")
    assert status == 1 and "[password]" in shown and "refused" in shown
    assert FAKE_PASSWORD not in shown and FAKE_PASSWORD[:10] not in shown
    if output == "--json":
        json.loads(captured.out)


# --- A real Dovecot ------------------------------------------------------------------------


def client_script(*lines: str) -> str:
    """A small IMAP client run inside the twin's namespace, as another mail tool would act."""
    return "\n".join(
        [
            "import imaplib, os, ssl",
            f"c = imaplib.IMAP4_SSL({HOST!r}, 993, ssl_context=ssl.create_default_context())",
            f"c.login({USER!r}, os.environ['MTASTS_IMAP_PASSWORD'])",
            *lines,
            "c.logout()",
        ]
    )


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recent_samples(tmp_path_factory.mktemp("samples"), TODAY) / "mail"


@pytest.fixture(scope="module")
def mail(samples: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted(samples.glob("*.eml"))]


@pytest.fixture(scope="module")
def twin(samples: Path, mail: list[bytes]) -> Iterator[ImapTwin]:
    with ImapTwin([*mail, (samples / "google.eml").read_bytes()]) as running:  # google's delivered twice
        yield running


def summary(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.stdout, result.stderr
    return dict(json.loads(result.stdout))


class TestADovecotMailbox:
    pytestmark = imap_test_marks()

    def test_it_is_summarised_with_each_broken_message_rejected_and_the_duplicate_counted_once(
        self, twin: ImapTwin, mail: list[bytes]
    ) -> None:
        before = twin.flags()
        result = twin.reports("--imap", twin.url, "--json")
        document = summary(result)
        assert result.returncode == 1, result.stderr  # failed sessions and rejected messages
        entry = document["domains"]["example.com"]
        assert entry["reports"] == 4 and document["duplicates"] == 1
        assert entry["organizations"] == [
            "Example Mail Co",
            "Example Networks",
            "Google Inc.",
            "Microsoft Corporation",
        ]
        assert entry["failures"] == {
            "certificate-host-mismatch": 2,
            "starttls-not-supported": 1,
            "validation-failure": 1,
        }
        reasons = {item["message_id"]: item["reason"] for item in document["rejected"]}
        assert "not valid JSON" in reasons["<badjson@badjson.example>"]
        assert "truncated" in reasons["<truncated@truncated.example>"]
        assert "'report-id' is missing" in reasons["<missing@sloppy.example>"]
        assert "not a TLS report" in reasons["<quota-warning-1@mail.example.com>"]
        assert all(item["path"].startswith(f"{twin.url};UIDVALIDITY=") for item in document["rejected"])
        assert PASSWORD not in result.stdout + result.stderr
        # Read-only: no message gained \Seen or lost \Recent, none went away.
        assert twin.flags() == before and len(before) == len(mail) + 1
        assert not any("Seen" in flags for flags in before.values())

    def test_the_flags_check_catches_a_reader_that_marks_messages_seen(self, twin: ImapTwin) -> None:
        """What the read-only check above would see from an ordinary SELECT and BODY[] fetch."""
        twin.run(
            [sys.executable, "-c", client_script("c.select('INBOX')", "c.fetch('1', '(BODY[])')")], check=True
        )
        try:
            assert "\\Seen" in twin.flags()[1]
        finally:
            restore = client_script("c.select('INBOX')", "c.store('1', '-FLAGS', '\\\\Seen')")
            twin.run([sys.executable, "-c", restore], check=True)
        assert "\\Seen" not in twin.flags()[1]

    def test_plain_imap_is_used_only_after_starttls(self, twin: ImapTwin) -> None:
        result = twin.reports("--imap", twin.url.replace("imaps://", "imap://"), "--json")
        assert summary(result)["domains"]["example.com"]["reports"] == 4

    def test_since_asks_the_server_only_for_mail_received_from_that_day(self, twin: ImapTwin) -> None:
        since = str(days_ago(3, TODAY))  # 3 October, when the samples were collected on the 6th
        document = summary(twin.reports("--imap", twin.url, "--since", since, "--json"))
        # Received on or after 3 October: Example Networks' report (about the 2nd, so left out),
        # Example Mail Co's, and the broken and non-report messages. Google's and Microsoft's
        # were never fetched, so they are neither counted, left out nor duplicates.
        assert document["domains"]["example.com"]["organizations"] == ["Example Mail Co"]
        assert (document["left_out"], document["duplicates"], len(document["rejected"])) == (1, 0, 4)

    def test_a_wrong_password_rejects_the_mailbox_without_printing_the_password(self, samples: Path) -> None:
        # A twin of its own: after a failed login Dovecot slows further logins from the same
        # address (its auth penalty), which would slow every test sharing the module's twin.
        with ImapTwin([(samples / "google.eml").read_bytes()]) as twin:
            result = twin.reports(
                "--imap", twin.url, "--json", "--fail-on", "enforce", password="wrong-horse-battery"
            )
            document = summary(result)
            assert result.returncode == 1 and document["domains"] == {}
            [rejected] = document["rejected"]
            assert rejected["path"] == twin.url and "the IMAP server refused" in rejected["reason"]
            assert "wrong-horse-battery" not in result.stdout + result.stderr

    def test_a_certificate_from_an_untrusted_ca_is_refused(self, twin: ImapTwin, tmp_path: Path) -> None:
        other = tmp_path / "other-ca.pem"
        trustme.CA().cert_pem.write_to_path(str(other))
        document = summary(twin.reports("--imap", twin.url, "--ca-file", str(other), "--json"))
        [rejected] = document["rejected"]
        assert "certificate is not valid" in rejected["reason"]

    def test_a_folder_named_outside_ascii_is_read(self, samples: Path) -> None:
        folder = "Rapports TLS été"
        with ImapTwin([], folders={folder: [(samples / "google.eml").read_bytes()]}) as twin:
            url = twin.url.replace("/INBOX", "/" + quote(folder))
            document = summary(twin.reports("--imap", url, "--json"))
        assert document["domains"]["example.com"]["reports"] == 1 and document["rejected"] == []

    def test_a_message_another_client_expunges_mid_read_is_gone_not_rejected(self, samples: Path) -> None:
        # A twin of its own (a message is expunged). Another client expunges UID 2 after the
        # read's SEARCH, just before its FETCH of bodies, as on a mailbox in use.
        names = ("google.eml", "microsoft.eml", "example-mail-co.eml")
        messages = [(samples / name).read_bytes() for name in names]
        expunge_first = "\n".join(
            [
                "import imaplib, os, ssl, sys",
                "from mtasts.reports import imap",
                "fetch = imap._Mailbox.bodies",
                "def bodies(self, uids, budget):",
                "    if 2 in uids and not getattr(imap, 'expunged', False):",
                "        imap.expunged = True",
                f"        c = imaplib.IMAP4_SSL({HOST!r}, 993, ssl_context=ssl.create_default_context())",
                f"        c.login({USER!r}, os.environ['MTASTS_IMAP_PASSWORD'])",
                "        c.select('INBOX')",
                "        c.uid('STORE', '2', '+FLAGS', '(\\\\Deleted)')",
                "        c.expunge()",
                "        c.logout()",
                "    return fetch(self, uids, budget)",
                "imap._Mailbox.bodies = bodies",
                "from mtasts.__main__ import main",
                "sys.exit(main(sys.argv[1:]))",
            ]
        )
        with ImapTwin(messages) as twin:
            result = twin.run([sys.executable, "-c", expunge_first, "reports", "--imap", twin.url, "--json"])
            left = twin.flags()
        document = summary(result)
        assert sorted(left) == [1, 3], left  # the other client did expunge it
        assert document["rejected"] == [], document["rejected"]
        assert document["domains"]["example.com"]["reports"] == 2

    def test_a_missing_folder_is_rejected_and_files_beside_it_are_still_read(
        self, twin: ImapTwin, samples: Path
    ) -> None:
        missing = twin.url.replace("/INBOX", "/Nowhere")
        document = summary(twin.reports("--imap", missing, str(samples / "google.eml"), "--json"))
        assert document["domains"]["example.com"]["reports"] == 1
        [rejected] = document["rejected"]
        assert "no folder 'Nowhere'" in rejected["reason"]
