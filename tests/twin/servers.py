"""A deployment twin: NSD and nginx serving `Site`s inside a private network namespace.

`Twin(sites)` is a context manager. On entry it creates a network namespace with its own
loopback addresses (nothing is routed out of it), writes `/etc/netns/<ns>/resolv.conf` so
that glibc, dnspython and c-ares inside the namespace ask the twin's NSD, starts a private
NSD (authoritative for every site's zone and for the zones of their MX hosts) and a private
nginx (one HTTPS server block per policy host, certificates from a `trustme` CA), and
optionally a delaying proxy in front of both (the benchmark's 25 ms each way): then every
server address has a front address of its own that the proxy forwards to it, and the sites'
DNS records name the front addresses, so a host with several addresses keeps them. On exit it
stops every process it started and deletes the namespace, its resolv.conf and the temp dir,
also when the body raised.

Validators run inside the namespace as subprocesses: `twin.run([...])` is
`ip netns exec <ns> ...` with `SSL_CERT_FILE`/`REQUESTS_CA_BUNDLE` naming the CA.
Needs root, `ip`, `nsd` and `nginx`; `missing_requirements()` says what is absent.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
import trustme

from mtasts.desired import DesiredState
from mtasts.policy import POLICY_PATH
from mtasts.records import DnsRecord

from .dnssec import RESOLVER_ADDRESS, break_signature, sign_zone, unbound_conf
from .mail import SILENT_LISTENER, Listener, write_postfix
from .namespace import REPO_ROOT, NamespacedServers, binary, test_marks
from .namespace import missing_requirements as _missing
from .site import Certificate, Record, Site

PROBE = Path(__file__).with_name("probe.py")
DELAY_PROXY = Path(__file__).with_name("delay_proxy.py")

DNS_ADDRESS = "10.53.0.1"
WEB_ADDRESS = "10.53.0.2"
# Addresses a `Site` may give its policy host (several A and AAAA records), each served by nginx;
# four IPv4 addresses, as GitHub Pages publishes.
WEB_ADDRESSES_V4 = (WEB_ADDRESS, "10.53.0.3", "10.53.0.4", "10.53.0.5")
WEB_ADDRESSES_V6 = ("fd53::2", "fd53::3")
MX_ADDRESS = "10.53.0.25"  # MX hosts resolve here; nothing listens (no check connects to port 25)
# The delaying proxy's addresses, used only when delay > 0: one front per server address.
DNS_FRONT = "10.53.1.1"
WEB_FRONTS_V4 = ("10.53.1.2", "10.53.1.3", "10.53.1.4", "10.53.1.5")
WEB_FRONTS_V6 = ("fd53:1::2", "fd53:1::3")
OTHER_HOST = "mta-sts.somebody-else.example"


def missing_requirements() -> str | None:
    """Why the twin cannot run here, or None."""
    return _missing("the deployment twin", {"nsd": "nsd", "nginx": "nginx-light"})


def server_test_marks() -> list[pytest.MarkDecorator]:
    """`pytestmark` of a DNS/HTTPS real-server test module (see `namespace.test_marks`)."""
    return test_marks("real-server tests", missing_requirements())


def zone_of(host: str, zones: Iterable[str]) -> str:
    """The longest served zone containing `host`, else the host's parent (a zone for MX hosts)."""
    matches = [zone for zone in zones if host == zone or host.endswith("." + zone)]
    return max(matches, key=len) if matches else host.partition(".")[2]


class Twin(NamespacedServers):
    """Real DNS and HTTPS servers for `sites`, reachable only inside the namespace `name`."""

    def __init__(
        self,
        sites: Sequence[Site],
        *,
        delay: float = 0.0,
        python: str | None = None,
        extra_records: Sequence[Record] = (),
        mail: Sequence[Listener] = (),
        ca: trustme.CA | None = None,
        signed_zones: Sequence[str] = (),
        bogus: Sequence[tuple[str, str]] = (),
    ) -> None:
        """`extra_records`: records of the outside world the sites refer to (an SPF include, say).
        `mail`: MX addresses served by a real Postfix (`mail.Listener`), for the MX check; the
        MX hosts' A records naming them go in `extra_records`. `ca`: the test CA (made here
        when not given), so a test can issue the listeners' certificates from it first.
        `signed_zones`: zones signed with ldns and validated by an Unbound at
        `resolver_address` (`dnssec`); `bogus`: (name, type) whose records are changed after
        signing, so Unbound answers SERVFAIL for them."""
        domains = [site.domain for site in sites]
        assert len(set(domains)) == len(domains), "one site per domain"
        self.sites = {site.domain: site for site in sites}
        self.extra_records = tuple(extra_records)
        for site in sites:
            unknown = set(site.addresses) - set(_all_web_addresses())
            assert not unknown, f"{site.domain}: {sorted(unknown)} are not among the twin's web addresses"
        self.delay = delay
        self.python = python or sys.executable
        self.mail = tuple(mail)
        self.ca = ca or trustme.CA()
        self.signed_zones = tuple(signed_zones)
        self.bogus = tuple(bogus)
        self.resolver_address = RESOLVER_ADDRESS
        self._anchors: list[str] = []
        super().__init__("mtasts-twin")
        # Server address → the address clients are given for it (its front when delayed).
        self.front = dict(zip(_all_web_addresses(), _all_web_fronts(), strict=True)) if delay else {}
        self.dns_address = DNS_FRONT if delay else DNS_ADDRESS
        self.web_address = self._client_address(WEB_ADDRESS)
        self.ca_file = self.dir / "ca.pem"

    def _client_address(self, address: str) -> str:
        return self.front.get(address, address)

    def _as_clients_see(self, site: Site) -> Site:
        """`site` with its addresses as clients reach them: the proxy's fronts when delayed."""
        if not self.front or not site.addresses:
            return site
        return replace(
            site,
            addresses=tuple(self._client_address(address) for address in site.addresses),
            odd_address=site.odd_address and self._client_address(site.odd_address),
        )

    def _start(self) -> None:
        ca = self.ca
        ca.cert_pem.write_to_path(str(self.ca_file))
        self._write_zones()
        self._write_web(ca)
        self._create_namespace(
            [DNS_ADDRESS, *WEB_ADDRESSES_V4, MX_ADDRESS, DNS_FRONT, *WEB_FRONTS_V4]
            + [listener.address for listener in self.mail if not listener.dropped]
            + ([RESOLVER_ADDRESS] if self.signed_zones else [])
            + (
                [mail_front(listener.address) for listener in self.mail if listener.postfix]
                if self.delay
                else []
            ),
            [*WEB_ADDRESSES_V6, *WEB_FRONTS_V6],
            # ip netns exec mounts this over /etc/resolv.conf for every process it starts.
            etc={"resolv.conf": f"nameserver {self.dns_address}\noptions timeout:2 attempts:2\n"},
        )
        self._spawn("nsd", [binary("nsd"), "-d", "-c", str(self.dir / "nsd.conf")])
        self._spawn(
            "nginx", [binary("nginx"), "-p", str(self.dir / "nginx"), "-c", "nginx.conf", "-e", "error.log"]
        )
        listening = [f"{DNS_ADDRESS}:53", f"{WEB_ADDRESS}:443"]
        if self.delay:
            web = [f"{_listen(front)}:443={_listen(back)}:443" for back, front in self.front.items()]
            smtp = [f"{mail_front(m.address)}:25={m.address}:25" for m in self.mail if m.postfix]
            self._spawn(
                "delay-proxy",
                [self.python, str(DELAY_PROXY), "--delay", str(self.delay),
                 f"{DNS_FRONT}:53={DNS_ADDRESS}:53", *web, *smtp],
            )  # fmt: skip
            listening += [f"{DNS_FRONT}:53", *(f"{_listen(front)}:443" for front in self.front.values())]
            listening += [mapping.split("=")[0] for mapping in smtp]
        listening += self._start_mail()
        if self.signed_zones:
            conf = unbound_conf(self.dir, self._anchors, DNS_ADDRESS)
            self._spawn("unbound", [binary("unbound"), "-d", "-c", str(conf)])
            listening.append(f"{RESOLVER_ADDRESS}:53")
        self._wait_listening(listening)

    def _start_mail(self) -> list[str]:
        """Postfix for the listeners, the silent ones, and the route that drops packets."""
        if not self.mail:
            return []
        if any(listener.postfix for listener in self.mail):
            self._spawn("postfix", write_postfix(self.dir / "postfix", self.mail))
        for listener in self.mail:
            if listener.silent:
                self._spawn(
                    f"silent-{listener.address}", [self.python, "-c", SILENT_LISTENER, listener.address]
                )
        dropped = [listener.address for listener in self.mail if listener.dropped]
        if dropped:
            # Out through a veth pair whose far end has no address: every packet is dropped
            # unanswered, as by a firewall that drops port 25 (a fixed neighbour, so no ARP either).
            for command in (
                ["ip", "link", "add", "drop0", "type", "veth", "peer", "name", "drop1"],
                ["ip", "link", "set", "drop0", "up"],
                ["ip", "link", "set", "drop1", "up"],
                ["ip", "addr", "add", "10.53.3.1/24", "dev", "drop0"],
                [
                    "ip",
                    "neigh",
                    "add",
                    "10.53.3.2",
                    "lladdr",
                    "02:00:00:00:00:02",
                    "dev",
                    "drop0",
                    "nud",
                    "permanent",
                ],
            ):
                self._run_plain(command)
            for address in dropped:
                self._run_plain(["ip", "route", "add", f"{address}/32", "via", "10.53.3.2", "dev", "drop0"])
        return [f"{listener.address}:25" for listener in self.mail if not listener.dropped]

    def environment(self) -> dict[str, str]:
        return {
            **super().environment(),
            "SSL_CERT_FILE": str(self.ca_file),  # OpenSSL's default context: aiohttp, httpx, verify
            "REQUESTS_CA_BUNDLE": str(self.ca_file),  # requests (checkdmarc) uses certifi otherwise
        }

    def start(self, argv: Sequence[str]) -> subprocess.Popen[str]:
        """Start a command inside the namespace without waiting; the caller waits for it."""
        return subprocess.Popen(
            ["ip", "netns", "exec", self.name, *argv],
            cwd=REPO_ROOT,
            env=self.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def python_bin_dir(self) -> Path:
        return Path(self.python).parent

    def python_run(self, argv: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return self.run([self.python, *argv], **kwargs)  # type: ignore[arg-type]

    def expected(self, domain: str) -> DesiredState:
        """The stack's desired state for `domain`, with the twin's web addresses for the policy host."""
        return self._as_clients_see(self.sites[domain]).expected_state(self.web_address)

    # DNS

    def zones(self) -> dict[str, list[Record]]:
        """Zone name → records, for every site and for the zones holding their MX hosts."""
        zones: dict[str, list[Record]] = {domain: [] for domain in self.sites}
        for site in self.sites.values():
            for record in self._as_clients_see(site).served_records(self.web_address):
                zones[zone_of(record.name, self.sites)].append(record)
        for record in self.extra_records:
            zones.setdefault(zone_of(record.name, zones), []).append(record)
        for site in self.sites.values():
            for _, host in site.mx:
                zone = zones.setdefault(zone_of(host, zones), [])
                if not any(record.name == host and record.type == "A" for record in zone):
                    zone.append(DnsRecord(key="mx-host", name=host, type="A", value=MX_ADDRESS, ttl=3600))
        return zones

    def _write_zones(self) -> None:
        zone_dir = self.dir / "zones"
        zone_dir.mkdir()
        config = [
            "server:",
            f"  ip-address: {DNS_ADDRESS}",
            "  port: 53",
            '  username: ""',
            '  chroot: ""',
            f'  zonesdir: "{zone_dir}"',
            f'  pidfile: "{self.dir}/nsd.pid"',
            f'  xfrdfile: "{self.dir}/xfrd.state"',
            f'  zonelistfile: "{self.dir}/zone.list"',
            f'  xfrdir: "{self.dir}"',
            f'  logfile: "{self.dir}/nsd.log"',
            '  database: ""',
            "  server-count: 1",
            "  do-ip6: no",
            "  verbosity: 1",
            "remote-control:",
            "  control-enable: no",
        ]
        for zone, records in self.zones().items():
            ns = f"ns.{zone}"
            head = [
                f"{zone}.\t3600\tIN\tSOA\t{ns}. hostmaster.{zone}. 1 3600 600 86400 300",
                f"{zone}.\t3600\tIN\tNS\t{ns}.",
                f"{ns}.\t3600\tIN\tA\t{DNS_ADDRESS}",
            ]
            lines = head + [record.zone_line() for record in records]
            zone_file = zone_dir / f"{zone}.zone"
            zone_file.write_text("\n".join(lines) + "\n")
            if zone in self.signed_zones:
                zone_file, anchor = sign_zone(zone_dir, zone, zone_file)
                self._anchors.append(anchor)
                for name, rdtype in self.bogus:
                    break_signature(zone_file, name, rdtype)
            config += ["zone:", f"  name: {zone}.", f"  zonefile: {zone_file.name}"]
        (self.dir / "nsd.conf").write_text("\n".join(config) + "\n")

    # HTTPS

    def document_root(self, domain: str, address: str | None = None) -> Path:
        """Where nginx serves `domain` from; the site's `odd_address` has a root of its own."""
        return self.dir / "nginx" / "www" / _root_name(self.sites[domain], address)

    def publish(self, domain: str, path: str, content: str | None, *, address: str | None = None) -> None:
        """Replace (None: remove) one served file; nginx reads from disk, so it takes effect at once.

        `address`: the site's `odd_address`, to change what only that address serves."""
        target = self.document_root(domain, address) / path
        if content is None:
            target.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(target.name + ".new")
        staging.write_text(content)
        staging.replace(target)

    def _certificate(self, ca: trustme.CA, site: Site) -> trustme.LeafCert:
        if site.certificate is Certificate.OTHER_HOST:
            return ca.issue_cert(OTHER_HOST)
        if site.certificate is Certificate.EXPIRED:
            now = datetime.datetime.now(datetime.UTC)
            return ca.issue_cert(
                site.policy_host,
                not_before=now - datetime.timedelta(days=90),
                not_after=now - datetime.timedelta(days=1),
            )
        return ca.issue_cert(site.policy_host)

    def _write_web(self, ca: trustme.CA) -> None:
        prefix = self.dir / "nginx"
        (prefix / "certs").mkdir(parents=True)
        (prefix / "logs").mkdir()
        default = ca.issue_cert("default.twin.invalid")
        default.private_key_and_cert_chain_pem.write_to_path(str(prefix / "certs" / "default.pem"))
        listens = [f"listen {_listen(address)}:443 ssl default_server;" for address in _all_web_addresses()]
        servers = [_server_block(listens, "_", "default.pem", ["return 421;"])]
        for site in self.sites.values():
            pem = f"{site.domain}.pem"
            self._certificate(ca, site).private_key_and_cert_chain_pem.write_to_path(
                str(prefix / "certs" / pem)
            )
            addresses = site.web_addresses(WEB_ADDRESS)
            for path, (content, _) in site.published().items():
                self.publish(site.domain, path, content)
            if site.odd_address:
                for path, (content, _) in site.published_at(site.odd_address).items():
                    self.publish(site.domain, path, content, address=site.odd_address)
            usual = [
                f"listen {_listen(address)}:443 ssl;" for address in addresses if address != site.odd_address
            ]
            if usual:
                servers.append(_server_block(usual, site.policy_host, pem, _locations(site, None)))
            if site.odd_address:
                odd = [f"listen {_listen(site.odd_address)}:443 ssl;"]
                servers.append(_server_block(odd, site.policy_host, pem, _locations(site, site.odd_address)))
        (prefix / "nginx.conf").write_text(_NGINX_CONF.format(prefix=prefix, servers="\n".join(servers)))


def mail_front(address: str) -> str:
    """The delaying proxy's front for a mail listener's address (10.53.2.N → 10.53.5.N): what
    the MX hosts' A records name in a delayed twin."""
    return "10.53.5." + address.rsplit(".", 1)[1]


def _all_web_addresses() -> tuple[str, ...]:
    return (*WEB_ADDRESSES_V4, *WEB_ADDRESSES_V6)


def _all_web_fronts() -> tuple[str, ...]:
    return (*WEB_FRONTS_V4, *WEB_FRONTS_V6)


def _listen(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _root_name(site: Site, address: str | None) -> str:
    return f"{site.domain}@odd" if address is not None and address == site.odd_address else site.domain


def _server_block(listens: list[str], name: str, pem: str, body: list[str]) -> str:
    lines = [
        "  server {",
        *(f"    {listen}" for listen in listens),
        f"    server_name {name};",
        f"    ssl_certificate certs/{pem};",
        f"    ssl_certificate_key certs/{pem};",
        *(f"    {line}" for line in body),
        "  }",
    ]
    return "\n".join(lines)


def _locations(site: Site, address: str | None) -> list[str]:
    lines = [f"root www/{_root_name(site, address)};", "location / { try_files $uri =404; }"]
    for header, value in site.extra_headers.items():
        lines.append(f'add_header {header} "{value}" always;')
    policy = f"/{POLICY_PATH}"
    if site.redirect_to:
        return [*lines, f"location = {policy} {{ return 301 {site.redirect_to}; }}"]
    published = site.published_at(address) if address is not None else site.published()
    for path, (_, content_type) in published.items():
        if content_type:
            mime, _, parameters = content_type.partition(";")
            charset = parameters.strip().removeprefix("charset=") if "charset=" in parameters else "off"
            lines.append(
                f'location = /{path} {{ types {{ }} default_type "{mime.strip()}"; '
                f"charset {charset}; charset_types {mime.strip()}; }}"
            )
    return lines


_NGINX_CONF = """\
daemon off;
master_process on;
user root;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log {prefix}/logs/access.log;
  client_body_temp_path {prefix}/tmp-body;
  proxy_temp_path {prefix}/tmp-proxy;
  fastcgi_temp_path {prefix}/tmp-fastcgi;
  uwsgi_temp_path {prefix}/tmp-uwsgi;
  scgi_temp_path {prefix}/tmp-scgi;
  server_names_hash_bucket_size 256;
  server_names_hash_max_size 4096;
  # What Netlify and GitHub Pages send for these suffixes.
  types {{ text/plain txt md; text/html html; }}
  default_type application/octet-stream;
  charset utf-8;
  charset_types text/plain text/html;
  ssl_protocols TLSv1.2 TLSv1.3;
  server_tokens off;
{servers}
}}
"""
