"""The `_smtp._tls.<domain>` TXT record and its report URIs (RFC 8460 §3).

Applies `mtasts.rules.tlsrpt` to the live answer; a missing record is a warning, since
mail still flows, but nobody hears when senders cannot deliver over TLS.
"""

from __future__ import annotations

from mtasts.constants import tls_rpt_name
from mtasts.rules import tlsrpt as rules_tlsrpt
from mtasts.verify.checks.phrasing import phrase
from mtasts.verify.dns import DnsResult
from mtasts.verify.model import TLS_RPT, Finding, Status
from mtasts.visible import NAMES_LISTED, listing


def judge(domain: str, answer: DnsResult) -> list[Finding]:
    """`_smtp._tls.<domain>`, judged by `mtasts.rules.tlsrpt` (RFC 8460 §3)."""
    name = tls_rpt_name(domain)
    if not answer.ok:
        publish = f'publish TXT "v=TLSRPTv1; rua=mailto:tls-reports@{domain}" at {name}'
        return [Finding(TLS_RPT, Status.WARN, f"could not look up {name} TXT: {answer.error}", publish)]
    verdict = rules_tlsrpt.judge(list(answer.records), name, domain)
    findings = phrase(TLS_RPT, verdict.findings)
    if verdict.uris:
        findings.append(
            Finding(TLS_RPT, Status.PASS, f"{name} sends reports to {listing(verdict.uris, NAMES_LISTED)}")
        )
    return findings
