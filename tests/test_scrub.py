"""The core's secret scrubber (mtasts/scrub.py), shared by the Netlify token and the IMAP password.

The Netlify token's forms have their own tests (tests/test_netlify_secrets.py); these hold
what the IMAP password needs and what any secret needs from a text it is scrubbed out of.
"""

from __future__ import annotations

import base64

import pytest

from mtasts.scrub import scrub

PASSWORD = 'mailbox "pa$$" wörd-42'


@pytest.mark.parametrize(
    "echo",
    [
        PASSWORD,
        'LOGIN tls-reports "mailbox \\"pa$$\\" wörd-42"',  # imaplib's quoted form
        "mailbox%20%22pa%24%24%22%20w%C3%B6rd-42",
        "mailbox &quot;pa$$&quot; wörd-42",
        base64.b64encode(("\0tls-reports\0" + PASSWORD).encode()).decode(),  # AUTHENTICATE PLAIN
        PASSWORD.encode().hex(" ").upper(),
        PASSWORD[:12],  # cut off
    ],
)
def test_every_form_of_the_password_is_scrubbed(echo: str) -> None:
    scrubbed = scrub(f"server said: {echo} (end)", PASSWORD, redacted="[password]")
    assert "[password]" in scrubbed and scrubbed.startswith("server said: ") and scrubbed.endswith(" (end)")
    assert "pa$$" not in scrubbed and "wörd" not in scrubbed


def test_text_that_changes_length_when_lowered_is_scrubbed_in_the_right_place() -> None:
    # "İ".lower() is two characters: positions found in the lowered text must still fit the text.
    text = "İİİİ org " + PASSWORD + " tail"
    assert scrub(text, PASSWORD, redacted="[x]") == "İİİİ org [x] tail"


def test_text_without_the_secret_is_returned_unchanged() -> None:
    assert scrub("nothing to see", PASSWORD) == "nothing to see"
    assert scrub("anything", None) == "anything" and scrub("anything", "") == "anything"
