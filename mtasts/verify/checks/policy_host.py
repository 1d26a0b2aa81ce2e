"""`mta-sts.<domain>`'s own records: a null MX, `v=spf1 -all`, and no CNAME.

Applies `mtasts.rules.policy_host` (RFC 7505, RFC 7208, RFC 1034 §3.6.2) to the live answers.
These are advice (warnings): senders fetch the policy whatever the host's mail records say.
The host's addresses and what they serve are `policy_file`'s.
"""

from __future__ import annotations

from mtasts.rules import policy_host as rules_policy_host
from mtasts.verify.checks.phrasing import mx_pair, phrase
from mtasts.verify.dns import DnsResult
from mtasts.verify.model import POLICY_HOST_CNAME, POLICY_HOST_NULL_MX, POLICY_HOST_SPF, Finding, Status


def null_mx(host: str, answer: DnsResult) -> list[Finding]:
    """RFC 7505: the policy host has an address, so without a null MX it would receive mail."""
    if not answer.ok:
        fix = f"publish 'MX 0 .' at {host}"
        return [
            Finding(POLICY_HOST_NULL_MX, Status.WARN, f"could not look up MX at {host}: {answer.error}", fix)
        ]
    pairs = [mx_pair(record) for record in answer.records]
    findings = rules_policy_host.null_mx(host, pairs)
    if not findings:
        return [Finding(POLICY_HOST_NULL_MX, Status.PASS, f"{host} publishes the null MX '0 .'")]
    return phrase(POLICY_HOST_NULL_MX, findings)


def spf(host: str, answer: DnsResult) -> list[Finding]:
    """RFC 7208: say that the policy host sends no mail (`mtasts.rules.policy_host`)."""
    if not answer.ok:
        fix = f'publish TXT "{rules_policy_host.SPF_NONE}" at {host}'
        return [
            Finding(POLICY_HOST_SPF, Status.WARN, f"could not look up TXT at {host}: {answer.error}", fix)
        ]
    findings = rules_policy_host.spf(host, list(answer.records))
    if not findings:
        return [Finding(POLICY_HOST_SPF, Status.PASS, f"{host} publishes '{rules_policy_host.SPF_NONE}'")]
    return phrase(POLICY_HOST_SPF, findings)


def cname(host: str, answer: DnsResult) -> list[Finding]:
    """A CNAME cannot share its name with the null MX and SPF records (RFC 1034 §3.6.2)."""
    if not answer.ok:
        return [Finding(POLICY_HOST_CNAME, Status.WARN, f"could not look up CNAME at {host}: {answer.error}")]
    findings = rules_policy_host.cname(host, list(answer.records))
    if not findings:
        return [Finding(POLICY_HOST_CNAME, Status.PASS, f"{host} is not a CNAME")]
    return phrase(POLICY_HOST_CNAME, findings)
