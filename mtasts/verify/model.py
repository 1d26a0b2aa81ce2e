"""What `verify` reports: findings per check, grouped per domain, and the options it runs with.

Plain values only, so the command line, the JSON output, the stack's readiness resource and
the end-to-end tests all read the same shapes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Status(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    INFO = "info"


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

    @property
    def failed(self) -> bool:
        return any(finding.status is Status.FAIL for finding in self.findings)

    def by_check(self, check: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.check == check]

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "failed": self.failed,
            "policy_id": self.policy_id,
            "policy_text": self.policy_text,
            "findings": [finding.to_dict() for finding in self.findings],
        }


@dataclass(frozen=True)
class VerifyOptions:
    """How to reach the network.

    `nameserver`/`port`: ask this server for every name (the policy host's address
    included) instead of the system resolver. `ca_file`: trust these roots instead of the
    system store (SSL_CERT_FILE is honoured when it is not given). `timeout` bounds each
    network step; `concurrency` bounds the domains checked at once. `https_port` exists for
    tests: senders always use 443.
    """

    nameserver: str | None = None
    port: int = 53
    ca_file: str | None = None
    timeout: float = 10.0
    concurrency: int = 100
    https_port: int = 443
