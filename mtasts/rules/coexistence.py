"""Which records can stand at a name beside the records the stack publishes there.

- A CNAME cannot share its name with any other record (RFC 1034 §3.6.2): not beside the
  stack's records, and nothing beside a CNAME the stack publishes (Proton's DKIM selectors).
- An MX to a host the stack does not publish at that name escapes the policy the stack
  serves, and beside the policy host's null MX it breaks the null MX (RFC 7505 §3).
- At the policy host, an A record the stack does not publish, or any AAAA record, sends some
  senders to another server for the policy (RFC 8461 §3.3: they fetch from whichever address
  they pick).

Each rule judges one record found at a name, as plain values, against the record types (and
MX hosts) the stack publishes there. Adoption (`mtasts.adoption`) calls them for the records a
zone already holds, and only adds what to do. A second TXT record of a kind is its kind's own
rule (`discovery`, `tlsrpt`, `mail`).
"""

from __future__ import annotations

from collections.abc import Set

from mtasts.rules.findings import Finding, Severity

CNAME_BESIDE = "cname-beside-records"
BESIDE_CNAME = "record-beside-cname"
MX_OTHER_HOST = "mx-host-not-published"
ADDRESS_OTHER = "policy-host-address-not-published"
IPV6_OTHER = "policy-host-ipv6-not-published"
RFC_CNAME = "RFC 1034 §3.6.2"
RFC_NULL_MX = "RFC 7505 §3"


def beside(
    published: Set[str], record_type: str, value: str, published_mx: Set[str] = frozenset()
) -> list[Finding]:
    """Why a `record_type` record with `value` cannot share a name where the stack publishes
    the types `published` (and MX to `published_mx`, normalised); empty when it can."""
    if not published:
        return []
    if record_type == "CNAME" and "CNAME" not in published:
        return [
            Finding(
                CNAME_BESIDE,
                Severity.FAIL,
                f"a CNAME cannot share its name with the {'/'.join(sorted(published))} records the "
                f"stack publishes here ({RFC_CNAME})",
                rfc=RFC_CNAME,
                subject=value,
            )
        ]
    if "CNAME" in published and record_type != "CNAME":
        return [
            Finding(
                BESIDE_CNAME,
                Severity.FAIL,
                "the stack publishes a CNAME here, which cannot share its name",
                subject=value,
            )
        ]
    if record_type == "MX" and value not in published_mx:
        return [
            Finding(
                MX_OTHER_HOST,
                Severity.FAIL,
                "an MX host the stack does not publish: the policy does not cover it, so under "
                f"enforce senders would refuse it (a null MX must also stand alone, {RFC_NULL_MX})",
                rfc=RFC_NULL_MX,
                subject=value,
            )
        ]
    if record_type == "AAAA" and "A" in published:
        return [
            Finding(
                IPV6_OTHER,
                Severity.FAIL,
                "the stack publishes IPv4 addresses for the policy host; this AAAA record sends IPv6 "
                "clients to another server",
                subject=value,
            )
        ]
    return []


def other_address(address: str) -> Finding:
    """An A record at the policy host beyond those the stack publishes."""
    return Finding(
        ADDRESS_OTHER,
        Severity.FAIL,
        f"an A record the stack does not publish: some clients would fetch the policy from {address}",
        subject=address,
    )
