"""The policy host `mta-sts.<domain>`'s own records: addresses, no mail, no CNAME.

The host needs A (or AAAA) records for senders to fetch the policy (RFC 8461 §3.3). A name
with an address receives mail through the implicit MX (RFC 5321 §5), so it publishes the
null MX, alone (RFC 7505 §3), and `v=spf1 -all`, as its only SPF record (RFC 7208 §4.5).
A CNAME cannot share its name with those records (RFC 1034 §3.6.2).
"""

from __future__ import annotations

from collections.abc import Sequence

from mtasts.rules import mail
from mtasts.rules.findings import Finding, Severity
from mtasts.visible import NAMES_LISTED, listing, quoted

SPF_NONE = "v=spf1 -all"
NO_ADDRESS = "policy-host-no-address"
NULL_MX_MISSING = "policy-host-null-mx-missing"
NULL_MX_NOT_ALONE = "policy-host-null-mx-not-alone"
SPF_MISSING = "policy-host-spf-missing"
SPF_OTHER = "policy-host-spf-other"
CNAME = "policy-host-cname"
RFC_SPF = "RFC 7208 §4.5"


def is_null_mx(priority: int | None, exchange: str) -> bool:
    """RFC 7505 §3: preference 0 and the root name ('.' or '' as some APIs write it)."""
    return exchange.strip() in (".", "") and priority in (0, None)


def addresses(host: str, found: Sequence[str]) -> list[Finding]:
    if found:
        return []
    return [
        Finding(
            NO_ADDRESS,
            Severity.FAIL,
            f"{host} has no A or AAAA record: senders cannot fetch the policy",
            f"publish A records for {host} pointing at the host that serves the policy",
            "RFC 8461 §3.3",
        )
    ]


def null_mx(host: str, mx: Sequence[tuple[int | None, str]]) -> list[Finding]:
    """`mx`: (priority, exchange) pairs at the host."""
    nulls = [entry for entry in mx if is_null_mx(*entry)]
    others = [entry for entry in mx if not is_null_mx(*entry)]
    findings = []
    if not nulls:
        seen = listing([f"MX {p} {x}" for p, x in others], NAMES_LISTED, show=str) or "no MX record"
        findings.append(
            Finding(
                NULL_MX_MISSING,
                Severity.WARN,
                f"{host} has no null MX ({seen}): through the implicit MX it can be sent mail",
                f"publish 'MX 0 .' at {host}",
                "RFC 7505 §3",
            )
        )
    findings += [
        Finding(
            NULL_MX_NOT_ALONE,
            Severity.WARN,
            f"{host} has MX {priority} {exchange} beside the null MX, which must stand alone",
            "remove this MX record",
            "RFC 7505 §3",
            subject=exchange,
        )
        for priority, exchange in (others if nulls else [])
    ]
    return findings


def spf(host: str, texts: Sequence[str]) -> list[Finding]:
    """Exactly one SPF record at the host, and it is `v=spf1 -all`."""
    records = mail.spf_records(texts)
    fix = f'publish TXT "{SPF_NONE}" at {host} as its only SPF record'
    if not records:
        return [
            Finding(
                SPF_MISSING,
                Severity.WARN,
                f"{host} has no SPF record: anyone may send mail as it",
                fix,
                RFC_SPF,
            )
        ]
    exact = [text for text in records if is_spf_none(text)]
    extra = [text for text in records if not is_spf_none(text)] + exact[1:]
    beside = len(records) > 1
    return [
        Finding(
            SPF_OTHER,
            Severity.WARN,
            f"{host} has SPF {quoted(text)}"
            + (
                " beside another SPF record: two are a permanent error"
                if beside
                else ", not exactly 'v=spf1 -all'"
            ),
            fix if not beside else "remove this record",
            RFC_SPF,
            subject=text,
        )
        for text in extra
    ]


def is_spf_none(text: str) -> bool:
    return text.lower().split() == SPF_NONE.split()


def cname(host: str, targets: Sequence[str]) -> list[Finding]:
    if not targets:
        return []
    return [
        Finding(
            CNAME,
            Severity.WARN,
            f"{host} is a CNAME to {targets[0]}: it cannot also hold the null MX and SPF records",
            f"replace the CNAME with A records for {host} (the stack publishes the host's addresses)",
            "RFC 1034 §3.6.2",
        )
    ]
