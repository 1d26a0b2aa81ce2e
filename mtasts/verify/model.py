"""What `verify` reports: findings per check, grouped per domain, and the options it runs with.

Plain values only, so the command line, the JSON output, the stack's readiness resource and
the end-to-end tests all read the same shapes.
"""

from __future__ import annotations

import enum
import errno
from dataclasses import dataclass, field
from typing import Any

from mtasts.verify.mx_tls import MxTlsEntry

# This machine cannot reach that kind of address at all (IPv6 from an IPv4-only host).
_NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT})
# Nor can it try without a file descriptor left for the socket (many domains at a high
# --concurrency under a low open-file limit).
_OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE})


def not_tried(error: OSError) -> str | None:
    """Why this machine could not try an address at all, which says nothing about what the
    address serves (the policy fetch and the MX probe alike); None when it did try."""
    if error.errno in _NO_ROUTE:
        return f"this machine has no route to it ({error.strerror or error})"
    if error.errno in _OUT_OF_DESCRIPTORS:
        return (
            f"this machine could not open a socket ({error.strerror or error}): lower --concurrency, "
            "or raise the limit on open files (ulimit -n)"
        )
    return None


class Status(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    INFO = "info"
    # The resolver or the network did not answer, so nothing is known about the domain:
    # not the owner's problem to fix, and never reported with a fix that says to publish.
    UNCHECKED = "unchecked"


class Outcome(enum.StrEnum):
    """A domain's verdict; `verify`'s exit status follows the worst one (see `cli`)."""

    PASSED = "passed"
    WARNINGS = "passed-with-warnings"
    FAILED = "failed"
    UNCHECKED = "could-not-check"


# Stable check names: tests and users match on them.
DISCOVERY = "discovery-record"
POLICY_FETCH = "policy-fetch"
POLICY_SYNTAX = "policy-syntax"
MX_COVERAGE = "mx-coverage"
POLICY_HOST_NULL_MX = "policy-host-null-mx"
POLICY_HOST_SPF = "policy-host-spf"
POLICY_HOST_CNAME = "policy-host-cname"
TLS_RPT = "tls-rpt"
DNSSEC = "dnssec"
DANE = "dane"
MX_TLS = "mx-tls"
STACK_DRIFT = "stack-drift"
INTERNAL = "internal-error"

CHECKS = (
    DISCOVERY,
    POLICY_FETCH,
    POLICY_SYNTAX,
    MX_COVERAGE,
    POLICY_HOST_NULL_MX,
    POLICY_HOST_SPF,
    POLICY_HOST_CNAME,
    TLS_RPT,
    DNSSEC,
    DANE,
    MX_TLS,
    STACK_DRIFT,
)


@dataclass(frozen=True)
class Finding:
    """One observation: `message` says what was seen, `fix` what to do about it."""

    check: str
    status: Status
    message: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status.value, "message": self.message, "fix": self.fix}


@dataclass
class DomainReport:
    domain: str
    findings: list[Finding] = field(default_factory=list)
    policy_text: str | None = None
    policy_id: str | None = None
    mx_tls: list[MxTlsEntry] = field(default_factory=list)  # one per MX host and address

    @property
    def failed(self) -> bool:
        return any(finding.status is Status.FAIL for finding in self.findings)

    @property
    def unchecked(self) -> bool:
        """Some check could not be made because the resolver or the network did not answer."""
        return any(finding.status is Status.UNCHECKED for finding in self.findings)

    @property
    def outcome(self) -> Outcome:
        # A failure is known for sure; what could not be checked may be fine or not.
        if self.failed:
            return Outcome.FAILED
        if self.unchecked:
            return Outcome.UNCHECKED
        if any(finding.status is Status.WARN for finding in self.findings):
            return Outcome.WARNINGS
        return Outcome.PASSED

    def by_check(self, check: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.check == check]

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "outcome": self.outcome.value,
            "failed": self.failed,
            "could_not_check": self.unchecked,
            "policy_id": self.policy_id,
            "policy_text": self.policy_text,
            "findings": [finding.to_dict() for finding in self.findings],
            "mx_tls": [entry.to_dict() for entry in self.mx_tls],
        }


@dataclass(frozen=True)
class VerifyOptions:
    """How to reach the network.

    `nameserver`/`port`: ask this server for every name (the policy host's address
    included) instead of the system resolver. `ca_file`: trust these roots instead of the
    system store (SSL_CERT_FILE is honoured when it is not given). `timeout` bounds each
    network step; `concurrency` bounds the domains checked at once, and the policy fetches in
    flight. `smtp`: "on" checks the MX hosts' TLS, "require" also counts an unreachable
    port 25 as could-not-check, "off" skips it. `https_port`/`smtp_port` exist for tests:
    senders always use 443 and 25.
    """

    nameserver: str | None = None
    port: int = 53
    ca_file: str | None = None
    timeout: float = 10.0
    concurrency: int = 100
    https_port: int = 443
    smtp: str = "on"
    smtp_port: int = 25


@dataclass(frozen=True)
class AddressServed:
    """What one address of the policy host served, as the readiness gate reports it.

    `served`: "policy id <id>", "HTTP 404", "could not connect (...)"... for people to read.
    `policy_id`: the id of the body served with HTTP 200 (`mtasts.policy.policy_id`), None when
    no body was. `expected`: the body was exactly the expected policy text.
    `cache_max_age`/`cache_seconds_left`: how long a cache may keep this answer (Cache-Control
    max-age, minus Age), None/0 when not said.
    """

    address: str
    served: str
    expected: bool
    cache_max_age: int | None = None
    cache_seconds_left: int = 0
    policy_id: str | None = None


@dataclass(frozen=True)
class PolicyCheck:
    """The policy fetched from every address of `mta-sts.<domain>`, judged as `verify` does."""

    findings: list[Finding]
    text: str | None
    addresses: tuple[AddressServed, ...] = ()

    @property
    def served_everywhere(self) -> bool:
        """Every address serves exactly the expected policy and nothing failed or went unanswered."""
        return (
            bool(self.addresses)
            and all(address.expected for address in self.addresses)
            and not any(finding.status in (Status.FAIL, Status.UNCHECKED) for finding in self.findings)
        )
