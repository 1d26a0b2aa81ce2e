"""DNSSEC for the twin: zones signed with ldns (Debian's ldnsutils) and a validating Unbound.

`sign_zone` makes one key for a zone, signs the zone file with `ldns-signzone` and returns
the key's DNSKEY record, which Unbound takes as the zone's trust anchor: answers from that
zone then carry a real AD bit, and a record changed after signing (`break_signature`) makes
Unbound answer SERVFAIL, as a validating resolver does for bogus data. Every other zone has
no anchor above it, so Unbound answers it without AD (insecure). Unbound forwards every
question to the twin's NSD.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

RESOLVER_ADDRESS = "10.53.0.53"


def missing() -> str | None:
    for name, package in {
        "ldns-signzone": "ldnsutils",
        "ldns-keygen": "ldnsutils",
        "unbound": "unbound",
    }.items():
        if shutil.which(name) is None and not Path("/usr/sbin", name).exists():
            return f"{name!r} is not installed (scripts/test installs {package} as root)"
    return None


def sign_zone(zone_dir: Path, zone: str, zone_file: Path) -> tuple[Path, str]:
    """(the signed zone file, the DNSKEY record to trust) for `zone_file`."""
    made = subprocess.run(
        ["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", f"{zone}."],
        cwd=zone_dir, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    base = made.stdout.strip()
    subprocess.run(
        ["ldns-signzone", "-o", f"{zone}.", str(zone_file), str(zone_dir / base)],
        cwd=zone_dir, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    dnskey = (zone_dir / f"{base}.key").read_text().strip()
    return zone_file.with_name(zone_file.name + ".signed"), dnskey


def break_signature(signed: Path, name: str, rdtype: str) -> None:
    """Change the data of `name`'s `rdtype` records after signing, so their RRSIG no longer fits."""
    lines = []
    for line in signed.read_text().splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[0].rstrip(".") == name and fields[3] == rdtype:
            last = fields[-1]
            fields[-1] = last[:-1] + ("0" if last[-1] != "0" else "1")
            line = "\t".join(fields)
        lines.append(line)
    signed.write_text("\n".join(lines) + "\n")


def unbound_conf(directory: Path, anchors: Sequence[str], forward_to: str) -> Path:
    anchor_file = directory / "anchors.key"
    anchor_file.write_text("\n".join(anchors) + "\n")
    conf = directory / "unbound.conf"
    conf.write_text(
        "\n".join(
            [
                "server:",
                f"  interface: {RESOLVER_ADDRESS}",
                "  port: 53",
                "  do-ip6: no",
                '  username: ""',
                '  chroot: ""',
                f'  directory: "{directory}"',
                f'  pidfile: "{directory}/unbound.pid"',
                "  use-syslog: no",
                f'  logfile: "{directory}/unbound.log"',
                "  verbosity: 1",
                "  val-log-level: 2",
                "  do-not-query-localhost: no",
                "  access-control: 0.0.0.0/0 allow",
                '  module-config: "validator iterator"',
                f'  trust-anchor-file: "{anchor_file}"',
                "  qname-minimisation: no",
                "remote-control:",
                "  control-enable: no",
                "forward-zone:",
                '  name: "."',
                f"  forward-addr: {forward_to}",
            ]
        )
        + "\n"
    )
    return conf
