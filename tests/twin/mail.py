"""MX hosts for the deployment twin: a real Postfix from Debian, one `smtpd` listener per address.

Each `Listener` is one address of an MX host with its own certificate and TLS settings,
given as master.cf `-o` overrides (no STARTTLS, a certificate for another name, expired,
self-signed, TLS 1.0/1.1 only...). Two addresses are not Postfix: a `silent` one accepts
connections and never answers (a tiny Python listener), and a `dropped` one is routed into a
veth pair nobody answers on, so packets to it vanish and connects time out, as behind a firewall that
drops port 25. The Postfix instance is private (its own config, queue and data
directories, logging to a file) and runs in the foreground (`postfix start-fg`) in the
twin's namespace; it accepts no mail for anyone (`mydestination` and relaying are empty).
"""

from __future__ import annotations

import os
import pwd
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import trustme

# Addresses the MX hosts' A records may name; each is a listener or a deliberate gap.
MX_ADDRESSES = tuple(f"10.53.2.{index}" for index in range(1, 21))
SILENT_LISTENER = """\
import socket, sys, time
server = socket.create_server((sys.argv[1], 25))
held = []
while True:
    connection, _ = server.accept()
    held.append(connection)  # accepted, never answered
"""


@dataclass(frozen=True)
class Listener:
    """One MX address. `cert`: what STARTTLS presents (None: STARTTLS is not offered);
    `with_ca`: send the CA after the leaf (for DANE-TA); `old_tls_only`: TLS 1.0 and 1.1
    only; `silent`/`dropped`: not Postfix at all (see the module docstring)."""

    address: str
    cert: trustme.LeafCert | None = None
    ca: trustme.CA | None = None
    with_ca: bool = False
    old_tls_only: bool = False
    silent: bool = False
    dropped: bool = False

    @property
    def postfix(self) -> bool:
        return not (self.silent or self.dropped)


def missing() -> str | None:
    if not Path("/usr/sbin/postfix").exists():
        return "'postfix' is not installed (scripts/test installs postfix as root)"
    return None


def write_postfix(directory: Path, listeners: Sequence[Listener]) -> list[str]:
    """Postfix's configuration for the listeners; the command that runs it in the foreground."""
    directory.mkdir(parents=True)
    (directory / "queue").mkdir()
    (directory / "data").mkdir()
    postfix = pwd.getpwnam("postfix")
    os.chmod(directory.parent, 0o711)  # the postfix user must reach data/ through the twin's 0700 temp dir
    os.chown(directory / "data", postfix.pw_uid, postfix.pw_gid)
    main = [
        "compatibility_level = 3.6",
        f"queue_directory = {directory}/queue",
        f"data_directory = {directory}/data",
        f"maillog_file = {directory}/maillog",
        f"maillog_file_prefixes = {directory}",
        "myhostname = mx.twin.invalid",
        "mydestination =",
        "relay_domains =",
        "mynetworks =",
        "inet_protocols = ipv4",
        "smtpd_banner = $myhostname ESMTP twin",
        "smtpd_relay_restrictions = reject",
        "smtpd_tls_loglevel = 1",
    ]
    (directory / "main.cf").write_text("\n".join(main) + "\n")
    master = []
    for index, listener in enumerate(item for item in listeners if item.postfix):
        options: list[str] = []
        if listener.cert is not None:
            pem = directory / f"listener-{index}.pem"
            parts = [
                listener.cert.private_key_pem.bytes(),
                *(blob.bytes() for blob in listener.cert.cert_chain_pems),
            ]
            if listener.with_ca and listener.ca is not None:
                parts.append(listener.ca.cert_pem.bytes())
            pem.write_bytes(b"".join(parts))
            options += ["smtpd_tls_security_level=may", f"smtpd_tls_chain_files={pem}"]
            if listener.old_tls_only:
                # OpenSSL 3 offers TLS 1.0/1.1 only at security level 0.
                options += [
                    "smtpd_tls_protocols=>=TLSv1,<=TLSv1.1",
                    "tls_medium_cipherlist=DEFAULT@SECLEVEL=0",
                ]
        else:
            options += ["smtpd_tls_security_level=none"]
        flags = " ".join(f"-o {option}" for option in options)
        master.append(f"{listener.address}:25 inet n - n - - smtpd {flags}")
    master += [
        "postlog unix-dgram n - n - 1 postlogd",
        "anvil unix - - n - 1 anvil",
        "tlsmgr unix - - n 1000? 1 tlsmgr",
        "proxymap unix - - n - - proxymap",
        "rewrite unix - - n - - trivial-rewrite",
        "cleanup unix n - n - 0 cleanup",
    ]
    (directory / "master.cf").write_text("\n".join(master) + "\n")
    return [shutil.which("postfix") or "/usr/sbin/postfix", "-c", str(directory), "start-fg"]
