"""DNSSEC and DANE, information only: neither is required by MTA-STS.

Reports whether the resolver validated the domain's answers (the AD bit) and whether the MX
hosts publish TLSA records at `_25._tcp.<host>` (RFC 7672). Signing the zone is the
stack's `dnssec` setting; judging TLSA contents is left to the senders that use DANE.
"""

from __future__ import annotations

from collections.abc import Mapping

from mtasts.verify.dns import DnsResult
from mtasts.verify.model import DANE, DNSSEC, Finding, Status
from mtasts.visible import NAMES_LISTED, listing


def validation(domain: str, answers: list[DnsResult]) -> list[Finding]:
    """Information only: the AD bit a validating resolver sets on the domain's answers."""
    usable = [answer for answer in answers if answer.ok]
    if not usable:
        return [Finding(DNSSEC, Status.INFO, f"not judged: no answer for {domain} came back to look at")]
    if all(answer.authenticated for answer in usable):
        return [
            Finding(
                DNSSEC, Status.INFO, f"the resolver validated {domain}'s answers with DNSSEC (AD bit set)"
            )
        ]
    return [
        Finding(
            DNSSEC,
            Status.INFO,
            f"{domain}'s answers are not DNSSEC-validated by the resolver (no AD bit); "
            "DANE for its MX hosts cannot take effect",
        )
    ]


def dane(hosts: list[str], answers: Mapping[str, DnsResult]) -> list[Finding]:
    """Information only: whether MX hosts publish TLSA records at `_25._tcp.<host>`."""
    if not hosts:
        return []
    with_tlsa = [host for host in hosts if answers.get(host) and answers[host].records]
    # A lookup that failed (SERVFAIL, no answer) said nothing about the records: not "no TLSA".
    failed = [host for host in hosts if host in answers and not answers[host].ok]
    without = [host for host in hosts if host not in with_tlsa and host not in failed]
    parts = []
    if with_tlsa:
        parts.append(f"TLSA records at _25._tcp of {listing(with_tlsa, NAMES_LISTED, show=str)}")
    if without:
        parts.append(f"no TLSA records at _25._tcp of {listing(without, NAMES_LISTED, show=str)}")
    if failed:
        parts.append(
            f"could not look up the TLSA records at _25._tcp of {listing(failed, NAMES_LISTED, show=str)}"
            f" ({answers[failed[0]].error})"
        )
    return [Finding(DANE, Status.INFO, "DANE: " + "; ".join(parts))]
