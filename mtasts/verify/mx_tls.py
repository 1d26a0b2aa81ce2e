"""What the MX check sees and concludes, as plain values: one probe and one entry per MX host
and address, in the words senders use in their reports (RFC 8460 §4.3).

`SmtpProbe` is what `mtasts.verify.smtp` saw on the wire; `MxTlsEntry` is what
`checks.mx_tls` concluded from it (and the TLSA answer), as `verify --json` shows it under
`mx_tls`. Neither asks the network nor judges anything.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import Any

# RFC 8460 §4.3 result types, as a sender would report them.
STARTTLS_NOT_SUPPORTED = "starttls-not-supported"
CERTIFICATE_HOST_MISMATCH = "certificate-host-mismatch"
CERTIFICATE_EXPIRED = "certificate-expired"
CERTIFICATE_NOT_TRUSTED = "certificate-not-trusted"
VALIDATION_FAILURE = "validation-failure"
TLSA_INVALID = "tlsa-invalid"
DNSSEC_INVALID = "dnssec-invalid"

RESULT_TYPES = (
    STARTTLS_NOT_SUPPORTED,
    CERTIFICATE_HOST_MISMATCH,
    CERTIFICATE_EXPIRED,
    CERTIFICATE_NOT_TRUSTED,
    VALIDATION_FAILURE,
    TLSA_INVALID,
    DNSSEC_INVALID,
)

PORT_25_BLOCKED = "port 25 is not reachable from this machine; the MX hosts were not checked"


def nameable(host: str) -> bool:
    """Whether `host` can be the TLS server name (SNI) and a certificate's dNSName.

    DNS labels may hold any byte, and an MX target holding one a host name cannot (a space, a
    dot inside a label) is written with a `\\DDD` or `\\.` escape; neither SNI (RFC 6066
    §3, an ASCII host name) nor a certificate's dNSName (RFC 5280 §4.2.1.6, the preferred
    name syntax) can carry it, and IDNA refuses a label whose written form is over 63
    characters. Senders cannot authenticate such a host under MTA-STS (RFC 8461 §4.2).
    """
    if "\\" in host:
        return False
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


class SmtpMode(enum.StrEnum):
    """`--smtp`: check the MX hosts (on), also treat an unreachable port 25 as could-not-check
    (require), or skip the MX check (off)."""

    ON = "on"
    REQUIRE = "require"
    OFF = "off"


class ProbeFailure(enum.StrEnum):
    """Where a probe stopped before it held a TLS session."""

    UNREACHABLE = "unreachable"  # no TCP connection: refused or timed out
    # this machine could not try: no route to that kind of address (IPv6 from an IPv4-only
    # host), or no file descriptor left for the socket
    NO_ROUTE = "no-route"
    SILENT = "silent"  # connected, then no reply in time (a tarpit, or a filter in between)
    REFUSED = "refused"  # the server answered, but not with 2xx (a 554 banner, EHLO refused)
    NO_STARTTLS = "no-starttls"  # no STARTTLS in the EHLO reply, or STARTTLS refused
    TLS = "tls"  # the handshake failed (TLS older than 1.2 among the causes), or plaintext came before it


@dataclass(frozen=True)
class SmtpProbe:
    """One connection to port 25 of one MX address: banner, EHLO, STARTTLS, handshake, QUIT.

    `chain` is the certificate chain as the server sent it (DER, leaf first), taken without
    verifying it so that `checks.mx_tls` can say what is wrong with it.
    """

    host: str
    address: str
    failure: ProbeFailure | None = None
    detail: str = ""
    tls_version: str | None = None
    chain: tuple[bytes, ...] = ()
    old_protocol: bool = False  # the handshake failed because the server offers only TLS < 1.2
    early_plaintext: bool = False  # bytes came behind the 220 to STARTTLS, before the handshake

    @property
    def reached(self) -> bool:
        return self.failure not in (ProbeFailure.UNREACHABLE, ProbeFailure.NO_ROUTE)


class MxOutcome(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    UNCHECKED = "could-not-check"


@dataclass(frozen=True)
class MxTlsEntry:
    """The verdict on one MX host and address, as `verify --json` shows it under `mx_tls`.

    `fix` is for the host's owner, by what failed or could not be checked ("" when there is
    nothing for them to do: this machine had no route, or could not read the certificate)."""

    host: str
    address: str
    outcome: MxOutcome
    result_type: str | None
    message: str
    fix: str = ""
    tls_version: str | None = None
    certificate_names: tuple[str, ...] = ()
    certificate_expires: datetime.datetime | None = None
    dane: str = "no-tlsa"
    warning: str = ""

    def to_dict(self) -> dict[str, Any]:
        expires = self.certificate_expires
        return {
            "host": self.host,
            "address": self.address,
            "outcome": self.outcome.value,
            "result_type": self.result_type,
            "message": self.message,
            "tls_version": self.tls_version,
            "certificate_names": list(self.certificate_names),
            "certificate_expires": expires.strftime("%Y-%m-%dT%H:%M:%SZ") if expires else None,
            "dane": self.dane,
            "warning": self.warning or None,
        }


@dataclass(frozen=True)
class MxToday:
    """The live MX hosts' TLS in a sentence each, for advice beside the TLS reports: what fails
    now (`failures`), what warns (`warnings`: a certificate about to expire), the addresses that
    could not be checked beside others that could (`not_checked`), how many passed (`passed`),
    and, when nothing could be checked, why (`unchecked`)."""

    failures: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    unchecked: str | None = None
    not_checked: tuple[str, ...] = ()
    passed: int = 0
