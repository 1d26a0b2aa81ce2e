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

import contextlib
import email.utils
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import pytest
import trustme

from .servers import REPO_ROOT

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


def _dovecot() -> str:
    return shutil.which("dovecot") or "/usr/sbin/dovecot"


def missing_requirements() -> str | None:
    if os.geteuid() != 0:
        return "the IMAP twin needs root (network namespaces); CI runs scripts/test as root"
    if shutil.which("ip") is None and not Path("/usr/sbin/ip").exists():
        return "'ip' is not installed (scripts/test installs iproute2 as root)"
    if not Path(_dovecot()).exists():
        return "'dovecot' is not installed (scripts/test installs dovecot-imapd as root)"
    return None


def imap_test_marks() -> list[pytest.MarkDecorator]:
    """Like `server_test_marks()`: marked `servers`; skipped when Dovecot cannot run here,
    except where MTASTS_REQUIRE_SERVERS (root CI) demands it."""
    missing = missing_requirements()
    return [
        pytest.mark.servers,
        pytest.mark.skipif(
            missing is not None and not os.environ.get("MTASTS_REQUIRE_SERVERS"),
            reason=f"IMAP twin: {missing}",
        ),
    ]


class ImapTwin:
    """A Dovecot holding `messages` (raw RFC 5322 bytes) in one INBOX, inside namespace `name`."""

    def __init__(self, messages: Sequence[bytes]) -> None:
        self.messages = list(messages)
        self.name = f"mtasts-imap-{os.getpid()}-{next(_counter)}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.ca_file = self.dir / "ca.pem"
        self._netns_dir = Path("/etc/netns", self.name)
        self._namespace = False
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"imaps://{USER.replace('@', '%40')}@{HOST}/INBOX"

    def __enter__(self) -> ImapTwin:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _start(self) -> None:
        self.dir.chmod(0o755)  # Dovecot's unprivileged processes must reach their files
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(self.ca_file))
        ca.issue_cert(HOST).private_key_and_cert_chain_pem.write_to_path(str(self.dir / "server.pem"))
        self._write_maildir()
        (self.dir / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (self.dir / "dovecot.conf").write_text(self._config())
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
        self._namespace = True
        self._netns_dir.mkdir(parents=True, exist_ok=True)
        (self._netns_dir / "hosts").write_text(f"127.0.0.1 localhost\n{ADDRESS} {HOST}\n")
        for command in (
            ["ip", "link", "set", "lo", "up"],
            ["ip", "addr", "add", f"{ADDRESS}/32", "dev", "lo"],
        ):
            subprocess.run(["ip", "netns", "exec", self.name, *command], check=True, capture_output=True)
        log = open(self.dir / "dovecot.out", "wb")  # noqa: SIM115 - the process owns it until close()
        self._process = subprocess.Popen(
            ["ip", "netns", "exec", self.name, _dovecot(), "-F", "-c", str(self.dir / "dovecot.conf")],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self._wait_listening([f"{ADDRESS}:993", f"{ADDRESS}:143"])

    def _write_maildir(self) -> None:
        maildir = self.dir / "home" / "Maildir"
        for sub in ("new", "cur", "tmp"):
            (maildir / sub).mkdir(parents=True)
        for number, raw in enumerate(self.messages, start=1):
            path = maildir / "new" / f"{1_700_000_000 + number}.M{number}P1.twin"
            path.write_bytes(raw)
            date = email.message_from_bytes(raw).get("Date")
            if date:
                arrived = email.utils.parsedate_to_datetime(date).timestamp()
                os.utime(path, (arrived, arrived))
        for path in [self.dir / "home", *(self.dir / "home").rglob("*")]:
            os.chown(path, MAIL_UID, MAIL_UID)

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

    def _wait_listening(self, endpoints: list[str], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                output = (self.dir / "dovecot.out").read_text(errors="replace")
                log = (
                    (self.dir / "dovecot.log").read_text(errors="replace")
                    if (self.dir / "dovecot.log").exists()
                    else ""
                )
                raise RuntimeError(f"dovecot exited with {self._process.returncode}:\n{output}\n{log}")
            sockets = self.run(["ss", "-Hlnt"], check=True).stdout
            if all(f"{endpoint} " in sockets for endpoint in endpoints):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot not listening on {endpoints} in {self.name} after {timeout}s")
            time.sleep(0.05)

    def close(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=5)
            self._process = None
        if self._namespace:
            subprocess.run(["ip", "netns", "delete", self.name], check=False, capture_output=True)
            self._namespace = False
        shutil.rmtree(self._netns_dir, ignore_errors=True)
        if not os.environ.get("MTASTS_TWIN_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def environment(self, password: str | None = PASSWORD) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key != "MTASTS_IMAP_PASSWORD"}
        env.update(SSL_CERT_FILE=str(self.ca_file), PYTHONPATH=str(REPO_ROOT))
        if password is not None:
            env["MTASTS_IMAP_PASSWORD"] = password
        return env

    def run(
        self,
        argv: Sequence[str],
        *,
        check: bool = False,
        password: str | None = PASSWORD,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside the namespace, from the repository root, and capture its output."""
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *argv],
            cwd=REPO_ROOT,
            env=self.environment(password),
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

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
