"""`python -m mtasts verify`: argument parsing and exit status; the checks live elsewhere.

Exit status: 0 every domain passed (warnings allowed), 1 a domain failed a check, 2 a usage
or configuration error (no domains, a bad domain name or nameserver address, an unreadable
--from file, a bad stack file), 3 a domain could not be checked because the resolver or the
network did not answer. A failure is known for sure, so when some domains fail and others
could not be checked the status is 1.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path
from typing import Any

from mtasts.constants import tls_rpt_name
from mtasts.desired import DesiredState, desired_state
from mtasts.exits import EXIT_FAILED, EXIT_OK, EXIT_UNCHECKED, EXIT_USAGE, UsageError
from mtasts.names import A_LABEL_FIX, MAX_NAME_LENGTH, ascii_hint, is_hostname, malformed_a_label, normalize
from mtasts.stackfile import load_settings
from mtasts.trust import check_ca_file
from mtasts.verify.model import DomainReport, VerifyOptions
from mtasts.verify.mx_tls import SmtpMode
from mtasts.verify.report import json_report, text_report
from mtasts.visible import NAMES_LISTED, listing, write_out


def add_verify_command(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify",
        help="check live domains the way a strict sender does (RFC 8461, RFC 8460)",
        description=(
            "Check the MTA-STS discovery record, the policy file over HTTPS, MX coverage, the policy "
            "host's null MX and SPF, TLS-RPT, the MX hosts' STARTTLS, certificates and DANE TLSA "
            "records, and (information only) DNSSEC. "
            "Exit status 0: every domain passed (warnings allowed); 1: a domain failed a check; "
            "2: a usage or configuration error; 3: a domain could not be checked (the resolver or "
            "the network did not answer)."
        ),
    )
    parser.add_argument("domains", nargs="*", metavar="DOMAIN", help="domains to check")
    parser.add_argument(
        "--from", dest="from_file", metavar="FILE", help="read domains from FILE, one per line"
    )
    parser.add_argument(
        "--stack", help="compare with the desired state of Pulumi.<stack>.yaml (default domain: the stack's)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--nameserver", metavar="IP", help="send every DNS query to this server")
    parser.add_argument(
        "--nameserver-port", dest="port", type=int, default=53, help="the nameserver's port (default 53)"
    )
    parser.add_argument("--https-port", type=int, default=443, help=argparse.SUPPRESS)  # tests only
    parser.add_argument("--smtp-port", type=int, default=25, help=argparse.SUPPRESS)  # tests only
    parser.add_argument(
        "--smtp",
        choices=[mode.value for mode in SmtpMode],
        default=SmtpMode.ON.value,
        help=(
            "connect to every MX host's port 25 as a sender does (on, the default); require: also "
            "count an unreachable port 25 as could-not-check (exit 3); off: skip the MX check"
        ),
    )
    parser.add_argument(
        "--ca-file", metavar="PATH", help="trust these CA certificates instead of the system's"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per network step (default 10)")
    parser.add_argument(
        "--concurrency", type=int, default=100, help="domains (and policy fetches) at once (default 100)"
    )
    parser.set_defaults(run=run)
    return parser


# A list of domains is small (a million names is about 20 MiB); the bound keeps a file with no
# end (/dev/zero, a runaway pipe) from filling memory before a single name is judged.
MAX_DOMAIN_FILE_BYTES = 64 * 1024 * 1024

# Names quoted in one error; the rest are counted, so a wrong file (a CSV export) gives a
# readable error, not one line per row.
MAX_NAMES_SHOWN = NAMES_LISTED


def read_domain_file(path: str) -> list[str]:
    """The names in `path`, one per line, `#` comments dropped.

    Any readable file, pipes too (`--from <(cut -f1 zones.tsv)`, `--from /dev/stdin`)."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_DOMAIN_FILE_BYTES + 1)
    except OSError as error:
        raise UsageError(f"cannot read --from {path}: {error.strerror or error}") from None
    if len(data) > MAX_DOMAIN_FILE_BYTES:
        raise UsageError(
            f"--from {path} holds more than {MAX_DOMAIN_FILE_BYTES // (1024 * 1024)} MiB, far more than a "
            "list of domains; name a file with one domain per line, or split the list into several runs"
        )
    try:
        text = data.decode("utf-8-sig")  # a leading BOM is not part of a name
    except UnicodeDecodeError as error:
        seen = error.object  # after a BOM, which error.start does not count
        line = seen.count(b"\n", 0, error.start) + 1
        raise UsageError(
            f"--from {path} is not UTF-8 text: line {line} holds the byte 0x{seen[error.start]:02x}; "
            "save it as UTF-8 with one domain per line (a domain in another script as its A-label, "
            "xn--...)"
        ) from None
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def _listing(items: list[str]) -> str:
    """The first MAX_NAMES_SHOWN of `items` (each already quoted), and how many more there are."""
    return listing(items, MAX_NAMES_SHOWN, show=str)


def _options(args: argparse.Namespace) -> VerifyOptions:
    if args.nameserver is not None:
        try:
            ipaddress.ip_address(args.nameserver)
        except ValueError:
            raise UsageError(f"--nameserver {args.nameserver!r} is not an IP address") from None
    if not 0 < args.port < 65536:
        raise UsageError(f"--nameserver-port {args.port} is not a port number")
    check_ca_file(args.ca_file)
    if args.nameserver is None:
        from mtasts.verify import dns  # the DNS machinery, for `verify` alone (see `run`)

        try:
            dns.system_nameservers()
        except dns.NoResolverError as error:
            raise UsageError(f"{error}, or name one with --nameserver IP") from None
    if not 0 < args.timeout <= 300:
        raise UsageError(
            f"--timeout {args.timeout:g} is not accepted; expected more than 0 and at most 300 seconds"
        )
    if not 1 <= args.concurrency <= 10_000:
        raise UsageError(f"--concurrency {args.concurrency} is not accepted; expected 1 to 10000")
    return VerifyOptions(
        nameserver=args.nameserver,
        port=args.port,
        ca_file=args.ca_file,
        timeout=args.timeout,
        concurrency=args.concurrency,
        https_port=args.https_port,
        smtp=args.smtp,
        smtp_port=args.smtp_port,
    )


def _domains(args: argparse.Namespace, state: DesiredState | None) -> list[str]:
    raw = list(args.domains)
    if args.from_file:
        raw += read_domain_file(args.from_file)
    if not raw and state is not None:
        raw = [state.settings.domain]
    if not raw:
        raise UsageError("no domains to check: name them, use --from FILE, or --stack NAME")
    bad = [name for name in raw if not name.isascii() or not is_hostname(normalize(name))]
    if bad:
        listing = _listing([f"{name!r}{ascii_hint(name) if not name.isascii() else ''}" for name in bad])
        raise UsageError(f"not a domain name: {listing}; expected names such as example.com")
    malformed = [(name, label) for name in raw if (label := malformed_a_label(normalize(name)))]
    if malformed:
        listing = _listing([f"{name!r} (its label {label!r})" for name, label in malformed])
        raise UsageError(f"not an A-label: {listing} is not the Punycode of a Unicode label; {A_LABEL_FIX}")
    domains = list(dict.fromkeys(normalize(name) for name in raw))
    # The longest name asked about a domain; a name over 253 characters cannot be asked at all.
    long = [tls_rpt_name(name) for name in domains if len(tls_rpt_name(name)) > MAX_NAME_LENGTH]
    if long:
        listing = _listing([f"{name} ({len(name)} characters)" for name in long])
        longest = MAX_NAME_LENGTH - len(tls_rpt_name(""))
        raise UsageError(
            f"too long to check: {listing} is over the {MAX_NAME_LENGTH} characters a DNS name may have "
            "(255 octets, RFC 1035 §2.3.4), so that domain's TLS-RPT record cannot exist and no resolver "
            f"can be asked for it; a domain checked here has at most {longest} characters"
        )
    return domains


def run(args: argparse.Namespace) -> int:
    try:
        options = _options(args)
        state = None
        if args.stack:
            state = desired_state(load_settings(args.stack, Path(getattr(args, "project_dir", "."))))
        domains = _domains(args, state)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    expected = {state.settings.domain: state} if state is not None else None
    # Imported here: `python -m mtasts reports` and `render` build this parser too, and need
    # none of verify's DNS and HTTPS machinery.
    from mtasts.verify import descriptors, event_loop
    from mtasts.verify.session import in_flight_limits
    from mtasts.verify.verifier import verify_domains

    # This process is the command's own: room for every socket the run may hold, if the
    # system allows it, so that the run's limits need not shrink to fit (`descriptors`).
    descriptors.make_room(in_flight_limits(options.concurrency, None).sockets)
    reports = event_loop.run(verify_domains(domains, options, expected))
    write_out(json_report(reports) if args.json else text_report(reports))
    return exit_status(reports)


def exit_status(reports: list[DomainReport]) -> int:
    if any(report.failed for report in reports):
        return EXIT_FAILED
    if any(report.unchecked for report in reports):
        return EXIT_UNCHECKED
    return EXIT_OK
