"""The MX hosts' TLS, judged as a sender judges it before delivering (RFC 8461 §4.2, RFC 7672).

Per MX host and address: what the SMTP probe saw (`mx_tls.SmtpProbe`), the certificate
chain against the host name, the clock and the roots (`certs`), and the TLSA records at
`_25._tcp.<host>` when DNSSEC validated them (`tlsa`). The verdict is named by the RFC 8460
§4.3 result type a sender would report. Then, per domain, how much each verdict weighs: an
MTA-STS failure stops mail under `enforce` and is reported under `testing`; a DANE failure
stops mail for every sender that uses DANE, whatever the policy says. A host that no `mx`
pattern covers is `mx_coverage`'s finding, not this one's. No network here.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import replace

from cryptography import x509

from mtasts.rules import mx_coverage as rules_mx_coverage
from mtasts.rules.mx_tls import CONNECT_FIX
from mtasts.verify import certs, tlsa
from mtasts.verify.dns import DnsResult
from mtasts.verify.model import MX_TLS, Finding, Status
from mtasts.verify.mx_tls import (
    DNSSEC_INVALID,
    PORT_25_BLOCKED,
    STARTTLS_NOT_SUPPORTED,
    TLSA_INVALID,
    VALIDATION_FAILURE,
    MxOutcome,
    MxTlsEntry,
    ProbeFailure,
    SmtpMode,
    SmtpProbe,
)
from mtasts.visible import NAMES_LISTED, listing, visible

DANE_RESULT_TYPES = (TLSA_INVALID, DNSSEC_INVALID)

_FIX = {
    STARTTLS_NOT_SUPPORTED: "enable STARTTLS on the MX host with a certificate for its name "
    "(Postfix: smtpd_tls_security_level = may, smtpd_tls_chain_files)",
    "certificate-host-mismatch": "install a certificate whose subjectAltName holds the MX host name "
    "(a '*.' name covers one label)",
    "certificate-expired": "renew the MX host's certificate and reload the mail server",
    "certificate-not-trusted": "use a certificate from a public CA and send the intermediate "
    "certificates with it (the full chain)",
    VALIDATION_FAILURE: "enable TLS 1.2 or 1.3 on the MX host and check its TLS settings",
    TLSA_INVALID: "publish TLSA records for the certificate the host serves (or serve the certificate "
    "they name); update TLSA before rolling a key (RFC 7671 §8.1)",
    DNSSEC_INVALID: "fix the DNSSEC signatures of the MX host's zone: a validating resolver "
    "rejects its TLSA answer",
}


def tlsa_lookup_fix(host: str) -> str:
    """What to do about an address whose connection and certificate were fine but whose TLSA
    lookup found no answer (an address that took no connection gets CONNECT_FIX)."""
    return (
        f"check that the nameservers of {host} answer TLSA queries for _25._tcp.{host}: a sender "
        "using DANE (for a DNSSEC-signed host) defers mail while that lookup fails (RFC 7672 §2.2)"
    )


# The TLS settings are not what is wrong when plaintext comes between the 220 and the handshake.
_EARLY_PLAINTEXT_FIX = (
    "find what writes behind the 220 to STARTTLS: a proxy or filter in front of the MX host that "
    "speaks SMTP itself, or a mail server that does not wait for the handshake (update it)"
)


def fix_for(result_type: str | None) -> str:
    return _FIX.get(result_type or "", "")


def _tlsa_state(answer: DnsResult | None) -> tuple[tlsa.Dane, list[tlsa.Tlsa], str]:
    """What the TLSA answer allows: (state, validated records, what was seen if it failed)."""
    if answer is None or (answer.ok and not answer.records):
        return tlsa.Dane.NO_TLSA, [], ""
    if not answer.ok:
        if answer.rcode == "SERVFAIL":
            return (
                tlsa.Dane.LOOKUP_FAILED,
                [],
                f"{answer.error} (a validating resolver's SERVFAIL: bogus DNSSEC)",
            )
        return tlsa.Dane.LOOKUP_FAILED, [], answer.error or "no answer"
    if not answer.authenticated:
        return tlsa.Dane.NOT_VALIDATED, [], ""
    records = [record for record in (tlsa.parse(text) for text in answer.records) if record is not None]
    return tlsa.Dane.UNUSABLE, records, ""


def judge_probe(
    probe: SmtpProbe,
    tlsa_answer: DnsResult | None,
    roots: Sequence[x509.Certificate],
    now: datetime.datetime,
) -> MxTlsEntry:
    """One MX address's verdict: the first thing a sender would fail on, and what DANE says."""
    host, address = probe.host, probe.address
    dane, records, tlsa_problem = _tlsa_state(tlsa_answer)
    if probe.failure in (
        ProbeFailure.UNREACHABLE,
        ProbeFailure.NO_ROUTE,
        ProbeFailure.SILENT,
        ProbeFailure.REFUSED,
    ):
        # No route from here is this machine's trouble: nothing for the host's owner to do.
        fix = "" if probe.failure is ProbeFailure.NO_ROUTE else CONNECT_FIX
        return MxTlsEntry(host, address, MxOutcome.UNCHECKED, None, probe.detail, fix, dane=dane.value)
    if probe.failure is ProbeFailure.NO_STARTTLS:
        return _failed(host, address, STARTTLS_NOT_SUPPORTED, probe.detail, dane=dane.value)
    if probe.failure is ProbeFailure.TLS:
        fix = _EARLY_PLAINTEXT_FIX if probe.early_plaintext else fix_for(VALIDATION_FAILURE)
        return _failed(host, address, VALIDATION_FAILURE, probe.detail, dane=dane.value, fix=fix)
    try:
        chain = certs.parse_chain(probe.chain)
        verdict = certs.judge(host, chain, roots, now) if chain else None
        judged = tlsa.judge_bounded(records, chain) if chain and records else tlsa.Judgement(dane)
    except Exception as error:
        # cryptography reads a certificate's parts when first asked, and raises types of its own
        # for some a sender accepts (an x400Address name): the server chose the certificate, and
        # one address's verdict must not take the domain's others with it.
        unread = f"the certificate could not be read here ({type(error).__name__}: {visible(str(error))})"
        return MxTlsEntry(
            host, address, MxOutcome.UNCHECKED, None, unread, tls_version=probe.tls_version, dane=dane.value
        )
    if not chain or verdict is None:
        what = "presented a certificate that does not parse" if chain is None else "presented no certificate"
        return _failed(
            host, address, VALIDATION_FAILURE, f"the server {what}", probe.tls_version, dane=dane.value
        )
    dane = judged.dane
    problems: list[tuple[str, str]] = []
    if verdict.result_type:
        problems.append((verdict.result_type, verdict.problem))
    dane_unchecked = ""
    if dane is tlsa.Dane.MISMATCHED:
        mismatch = f"no usable TLSA record at _25._tcp.{host} ({_listing(records)}) matches the chain"
        if judged.left_out:
            mismatch += f" ({judged.left_out})"
        if judged.records_left_out:
            dane_unchecked = mismatch  # a record past the bound may match: no verdict either way
        else:
            problems.append((TLSA_INVALID, mismatch))
    if dane is tlsa.Dane.LOOKUP_FAILED and tlsa_answer is not None and tlsa_answer.rcode == "SERVFAIL":
        problems.append((DNSSEC_INVALID, f"the TLSA lookup failed: {tlsa_problem}"))
    warning = ""
    if verdict.expires_within(now) and verdict.not_after is not None:
        warning = f"the certificate expires on {verdict.not_after:%Y-%m-%d} (within 14 days)"
    seen = MxTlsEntry(
        host,
        address,
        MxOutcome.PASSED,
        None,
        "",
        tls_version=probe.tls_version,
        certificate_names=verdict.names,
        certificate_expires=verdict.not_after,
        dane=dane.value,
        warning=warning,
    )
    if problems:
        message = "; ".join(f"{kind}: {text}" for kind, text in problems)
        if dane_unchecked:
            message += f"; DANE not judged: {dane_unchecked}"
        first = problems[0][0]
        return replace(seen, outcome=MxOutcome.FAILED, result_type=first, message=message, fix=fix_for(first))
    if dane is tlsa.Dane.LOOKUP_FAILED:
        return replace(
            seen,
            outcome=MxOutcome.UNCHECKED,
            message=f"the TLSA lookup failed: {tlsa_problem}",
            fix=tlsa_lookup_fix(host),
        )
    if dane_unchecked:
        return replace(seen, outcome=MxOutcome.UNCHECKED, message=f"DANE: {dane_unchecked}")
    names = listing(verdict.names, NAMES_LISTED)
    expires = f"{verdict.not_after:%Y-%m-%d}" if verdict.not_after else "?"
    return replace(
        seen, message=f"{probe.tls_version or 'TLS'}, a trusted certificate for {names} valid until {expires}"
    )


def _listing(records: Sequence[tlsa.Tlsa]) -> str:
    """The first few usable records, cut short, and how many more: the zone chooses how many."""
    return listing([record.text() for record in records if record.usable], show=lambda text: text[:24] + "…")


def _failed(
    host: str,
    address: str,
    result_type: str,
    message: str,
    tls_version: str | None = None,
    *,
    dane: str,
    fix: str | None = None,
) -> MxTlsEntry:
    return MxTlsEntry(
        host, address, MxOutcome.FAILED, result_type, f"{result_type}: {message}",
        fix_for(result_type) if fix is None else fix, tls_version=tls_version, dane=dane,
    )  # fmt: skip


def port_25_blocked(probes: Iterable[SmtpProbe]) -> bool:
    """Probes were made and none took a TCP connection: given every probe of a run, port 25 is
    blocked on this machine's side, since what connects nowhere says nothing about any domain.

    Only the whole run tells: one domain's MX hosts all down, or all filtering this machine,
    look the same as a blocked port, so a run that connected to any MX host judges such a
    domain by its addresses. A refused connection counts as none: a firewall's REJECT answers
    with ICMP port-unreachable (iptables' and nftables' default), which the kernel reports as
    ECONNREFUSED like a host's own RST. So with nothing else connected (a run of one domain),
    a domain whose MX hosts all refuse or time out cannot be told from a blocked port 25.
    """
    seen = list(probes)
    return bool(seen) and not any(probe.reached for probe in seen)


def judge(
    entries: Sequence[MxTlsEntry],
    probes: Sequence[SmtpProbe],
    *,
    mode: str | None,
    patterns: Sequence[str] | None,
    smtp: SmtpMode,
    machine_blocked: bool,
) -> list[Finding]:
    """The domain's `mx-tls` findings: failures by weight, what could not be seen, what passed.

    `mode`/`patterns` are the served policy's (None without a valid policy). `machine_blocked`:
    `port_25_blocked` of the whole run's probes; then a domain none of whose probes connected
    gets one PORT_25_BLOCKED finding instead of its addresses' (the report says it once).
    """
    if machine_blocked and port_25_blocked(probes):
        status = Status.UNCHECKED if smtp is SmtpMode.REQUIRE else Status.INFO
        fix = "run verify from a machine that may connect to port 25, or use --smtp off"
        return [Finding(MX_TLS, status, PORT_25_BLOCKED, fix)]
    findings: list[Finding] = []
    passed: dict[str, int] = {}
    no_route = {(p.host, p.address) for p in probes if p.failure is ProbeFailure.NO_ROUTE}
    for entry in entries:
        where = f"{entry.host} ({entry.address})"
        if patterns is not None and not rules_mx_coverage.covers(patterns, entry.host):
            continue  # senders under the policy do not deliver there at all: mx-coverage says so
        if entry.outcome is MxOutcome.FAILED:
            status, effect = _weight(entry.result_type, mode)
            findings.append(Finding(MX_TLS, status, f"{where}: {entry.message}{effect}", entry.fix))
        elif entry.outcome is MxOutcome.UNCHECKED:
            status = Status.UNCHECKED if smtp is SmtpMode.REQUIRE else Status.WARN
            if (entry.host, entry.address) in no_route and smtp is not SmtpMode.REQUIRE:
                status = Status.INFO  # what this machine could not try says nothing about the host
            fix = "" if status is Status.UNCHECKED else entry.fix
            findings.append(Finding(MX_TLS, status, f"could not check {where}: {entry.message}", fix))
        else:
            passed[entry.host] = passed.get(entry.host, 0) + 1
        if entry.warning:
            findings.append(
                Finding(MX_TLS, Status.WARN, f"{where}: {entry.warning}", fix_for("certificate-expired"))
            )
        if entry.dane == tlsa.Dane.NOT_VALIDATED.value:
            findings.append(_info(entry.host, _NOT_VALIDATED))
        elif entry.dane == tlsa.Dane.UNUSABLE.value:
            findings.append(_info(entry.host, _UNUSABLE))
        elif entry.dane == tlsa.Dane.MATCHED.value:
            findings.append(Finding(MX_TLS, Status.INFO, f"{where}: DANE: a validated TLSA record matches"))
    findings = _bounded(_dedupe(findings))
    if passed:
        hosts = [f"{host} ({count} address{'es' if count > 1 else ''})" for host, count in passed.items()]
        findings.append(
            Finding(
                MX_TLS,
                Status.PASS,
                f"STARTTLS with a valid certificate on {listing(hosts, NAMES_LISTED, show=str)}",
            )
        )
    return findings


_NOT_VALIDATED = (
    "the TLSA records at _25._tcp.{host} are not DNSSEC-validated (no AD bit), so DANE is not in "
    "effect: they protect nothing"
)
_UNUSABLE = (
    "no TLSA record at _25._tcp.{host} has a usage SMTP senders use (2 or 3, RFC 7672 §3.1.3): "
    "DANE authenticates nothing"
)


def _info(host: str, text: str) -> Finding:
    return Finding(MX_TLS, Status.INFO, f"{host}: " + text.format(host=host))


def _weight(result_type: str | None, mode: str | None) -> tuple[Status, str]:
    if result_type in DANE_RESULT_TYPES:
        return Status.FAIL, " (senders that use DANE defer mail to this host, RFC 7672 §2.2)"
    if mode == "enforce":
        return Status.FAIL, " (under enforce, senders refuse to deliver to this host, RFC 8461 §4.2)"
    if mode == "testing":
        return Status.WARN, " (under testing senders deliver anyway and report it; enforce would refuse mail)"
    return Status.WARN, " (no MTA-STS policy is in force, so senders deliver anyway, without authentication)"


def _dedupe(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


# Findings of one status shown per domain, one per MX address or host: the zone chooses how
# many addresses there are (thousands fit one answer), and each was a report line and its fix.
# Far past any real domain's (Google Workspace's MX hosts have ten), so only such a zone reads
# a count; `verify --json` keeps every address under `mx_tls`.
MAX_SHOWN = 50


def _bounded(findings: list[Finding]) -> list[Finding]:
    shown: list[Finding] = []
    seen: dict[Status, int] = {}
    for finding in findings:
        seen[finding.status] = seen.get(finding.status, 0) + 1
        if seen[finding.status] <= MAX_SHOWN:
            shown.append(finding)
    for status, count in seen.items():
        if count > MAX_SHOWN:
            more = f"{count - MAX_SHOWN:,} more MX address findings like these above are left out here"
            shown.append(
                Finding(MX_TLS, status, f"{more}; `verify --json` lists every MX address under mx_tls")
            )
    return shown
