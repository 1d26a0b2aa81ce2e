"""An IMAP twin: a private Dovecot (Debian's dovecot-imapd) serving one mailbox of report mail.

`ImapTwin(messages)` is a context manager. On entry it creates a network namespace with one
loopback address, maps a host name to it in `/etc/netns/<ns>/hosts` (which `ip netns exec`
mounts over /etc/hosts), writes the messages into a Maildir (`new/`, with each message's
`Date:` as its arrival time, which IMAP SEARCH SINCE compares), issues a `trustme`
certificate for the host name, and starts Dovecot in the foreground with its own
configuration, listening on 993 (imaps) and 143 (STARTTLS required before login). On exit it
stops Dovecot, deletes the namespace and the temp dir, also when the body raised.

Commands run inside the namespace with `twin.run([...])`, with SSL_CERT_FILE naming the CA
and the mailbox password in `MTASTS_IMAP_PASSWORD`. `twin.flags()` reads every message's
flags back over IMAP, so a test can prove a reader left the mailbox as it was.
Needs root, `ip` and `dovecot`; `imap_test_marks()` skips (or, under MTASTS_REQUIRE_SERVERS,
fails) the tests when they are missing.
"""

from __future__ import annotations

import email.utils
import itertools
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import trustme
from imapclient import imap_utf7

from .namespace import NamespacedServers, binary, test_marks
from .namespace import missing_requirements as _missing

ADDRESS = "10.143.0.1"
HOST = "imap.reports.test"
USER = "tls-reports@example.com"
PASSWORD = "twin-password-not-a-secret"
MAIL_UID = 65534  # Dovecot refuses to access mail as root; `nobody` owns the Maildir
_counter = itertools.count()

# Flags as read back by `flags()`: a short Python program run inside the namespace.
_READ_FLAGS = """
import imaplib, os, ssl, sys
client = imaplib.IMAP4_SSL(sys.argv[1], 993, ssl_context=ssl.create_default_context())
client.login(sys.argv[2], os.environ["MTASTS_IMAP_PASSWORD"])
client.select("INBOX", readonly=True)
status, data = client.fetch("1:*", "(UID FLAGS)")
for line in data:
    print(line.decode())
client.logout()
"""


def missing_requirements() -> str | None:
    return _missing("the IMAP twin", {"dovecot": "dovecot-imapd"})


def imap_test_marks() -> list[pytest.MarkDecorator]:
    """`pytestmark` of an IMAP real-server test module (see `namespace.test_marks`)."""
    return test_marks("IMAP twin", missing_requirements())


class ImapTwin(NamespacedServers):
    """A Dovecot holding `messages` (raw RFC 5322 bytes) in one INBOX, inside namespace `name`."""

    def __init__(
        self, messages: Sequence[bytes], folders: Mapping[str, Sequence[bytes]] | None = None
    ) -> None:
        """`folders`: more folders by name (any Unicode), each with its messages."""
        self.messages = list(messages)
        self.folders = {name: list(held) for name, held in (folders or {}).items()}
        super().__init__("mtasts-imap")
        self.ca_file = self.dir / "ca.pem"

    @property
    def url(self) -> str:
        return f"imaps://{USER.replace('@', '%40')}@{HOST}/INBOX"

    def _start(self) -> None:
        self.dir.chmod(0o755)  # Dovecot's unprivileged processes must reach their files
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(self.ca_file))
        ca.issue_cert(HOST).private_key_and_cert_chain_pem.write_to_path(str(self.dir / "server.pem"))
        self._write_maildir()
        (self.dir / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (self.dir / "dovecot.conf").write_text(self._config())
        self._create_namespace([ADDRESS], etc={"hosts": f"127.0.0.1 localhost\n{ADDRESS} {HOST}\n"})
        self._spawn("dovecot", [binary("dovecot"), "-F", "-c", str(self.dir / "dovecot.conf")])
        self._wait_listening([f"{ADDRESS}:993", f"{ADDRESS}:143"])

    def _write_maildir(self) -> None:
        maildir = self.dir / "home" / "Maildir"
        self._write_folder(maildir, self.messages)
        for name, held in self.folders.items():
            # Maildir++ keeps a folder in `.<name>`, its name in IMAP's modified UTF-7.
            self._write_folder(maildir / ("." + imap_utf7.encode(name).decode("ascii")), held)
        for path in [self.dir / "home", *(self.dir / "home").rglob("*")]:
            os.chown(path, MAIL_UID, MAIL_UID)

    @staticmethod
    def _write_folder(maildir: Path, messages: Sequence[bytes]) -> None:
        for sub in ("new", "cur", "tmp"):
            (maildir / sub).mkdir(parents=True)
        for number, raw in enumerate(messages, start=1):
            path = maildir / "new" / f"{1_700_000_000 + number}.M{number}P1.twin"
            path.write_bytes(raw)
            date = email.message_from_bytes(raw).get("Date")
            if date:
                arrived = email.utils.parsedate_to_datetime(date).timestamp()
                os.utime(path, (arrived, arrived))

    def _config(self) -> str:
        dh = "/usr/share/dovecot/dh.pem"
        return f"""\
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
protocols = imap
listen = {ADDRESS}
ssl = required
ssl_cert = <{self.dir}/server.pem
ssl_key = <{self.dir}/server.pem
{f"ssl_dh = <{dh}" if Path(dh).exists() else ""}
disable_plaintext_auth = yes
# A wrong password is a test case here: answer it at once, not after the default 2 s.
auth_failure_delay = 0
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_UID} home={self.dir}/home
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = 143
  }}
  inet_listener imaps {{
    port = 993
    ssl = yes
  }}
}}
"""

    def _server_log(self, label: str) -> str:
        log = self.dir / "dovecot.log"
        return super()._server_log(label) + (log.read_text(errors="replace") if log.exists() else "")

    def environment(self, password: str | None = PASSWORD) -> dict[str, str]:
        env = {key: value for key, value in super().environment().items() if key != "MTASTS_IMAP_PASSWORD"}
        env["SSL_CERT_FILE"] = str(self.ca_file)
        if password is not None:
            env["MTASTS_IMAP_PASSWORD"] = password
        return env

    def run(  # type: ignore[override]  # the mailbox password instead of a whole environment
        self,
        argv: Sequence[str],
        *,
        check: bool = False,
        password: str | None = PASSWORD,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace with `password` as the mailbox password (None: none)."""
        return super().run(argv, check=check, timeout=timeout, env=self.environment(password))

    def reports(self, *arguments: str, password: str | None = PASSWORD) -> subprocess.CompletedProcess[str]:
        """`python -m mtasts reports ARGUMENTS...` inside the namespace."""
        return self.run([sys.executable, "-m", "mtasts", "reports", *arguments], password=password)

    def flags(self) -> dict[int, str]:
        """UID → the FLAGS Dovecot holds for each message now."""
        result = self.run([sys.executable, "-c", _READ_FLAGS, HOST, USER], check=True)
        flags = {}
        for line in result.stdout.splitlines():
            uid = int(line.split("UID ", 1)[1].split()[0])
            flags[uid] = line.split("FLAGS (", 1)[1].split(")", 1)[0]
        return flags
