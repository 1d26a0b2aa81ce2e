"""Reading the reports mailbox over IMAP: the URL rules, and a real Dovecot (tests/twin/imap.py)
holding senders' report mail and broken input, left exactly as it was found."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import trustme

from mtasts.reports.imap import ImapLocation, ImapUrlError, mailbox_argument, parse_imap_url
from tests.twin.imap import HOST, PASSWORD, USER, ImapTwin, imap_test_marks

DATA = Path(__file__).parent / "data" / "reports" / "mail"
MAIL = sorted(DATA.glob("*.eml"))


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
    ],
)
def test_a_bad_imap_url_is_refused_with_what_is_expected(url: str, message: str) -> None:
    with pytest.raises(ImapUrlError, match=message.replace("[", r"\[").replace("]", r"\]")) as raised:
        parse_imap_url(url)
    assert "hunter2" not in str(raised.value)


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
def twin() -> Iterator[ImapTwin]:
    messages = [path.read_bytes() for path in MAIL] + [(DATA / "google.eml").read_bytes()]  # delivered twice
    with ImapTwin(messages) as running:
        yield running


def summary(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.stdout, result.stderr
    return dict(json.loads(result.stdout))


class TestADovecotMailbox:
    pytestmark = imap_test_marks()

    def test_it_is_summarised_with_each_broken_message_rejected_and_the_duplicate_counted_once(
        self, twin: ImapTwin
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
        assert twin.flags() == before and len(before) == len(MAIL) + 1
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
        document = summary(twin.reports("--imap", twin.url, "--since", "2026-10-03", "--json"))
        # Received on or after 3 October: Example Networks' report (about the 2nd, so left out),
        # Example Mail Co's, and the broken and non-report messages. Google's and Microsoft's
        # were never fetched, so they are neither counted, left out nor duplicates.
        assert document["domains"]["example.com"]["organizations"] == ["Example Mail Co"]
        assert (document["left_out"], document["duplicates"], len(document["rejected"])) == (1, 0, 4)

    def test_a_wrong_password_rejects_the_mailbox_without_printing_the_password(self) -> None:
        # A twin of its own: after a failed login Dovecot slows further logins from the same
        # address (its auth penalty), which would slow every test sharing the module's twin.
        with ImapTwin([(DATA / "google.eml").read_bytes()]) as twin:
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

    def test_a_folder_named_outside_ascii_is_read(self) -> None:
        folder = "Rapports TLS été"
        with ImapTwin([], folders={folder: [(DATA / "google.eml").read_bytes()]}) as twin:
            url = twin.url.replace("/INBOX", "/" + quote(folder))
            document = summary(twin.reports("--imap", url, "--json"))
        assert document["domains"]["example.com"]["reports"] == 1 and document["rejected"] == []

    def test_a_missing_folder_is_rejected_and_files_beside_it_are_still_read(self, twin: ImapTwin) -> None:
        missing = twin.url.replace("/INBOX", "/Nowhere")
        document = summary(twin.reports("--imap", missing, str(DATA / "google.eml"), "--json"))
        assert document["domains"]["example.com"]["reports"] == 1
        [rejected] = document["rejected"]
        assert "no folder 'Nowhere'" in rejected["reason"]
