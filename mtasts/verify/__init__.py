"""`verify`: check a live domain's MTA-STS and TLS-RPT the way a strict sender does.

Pure of Pulumi: the command line, the stack's readiness resource and the end-to-end tests
all call these functions. Rules cite RFC 8461 and RFC 8460.
"""

from mtasts.verify.model import (
    CHECKS,
    AddressServed,
    DomainReport,
    Finding,
    Outcome,
    PolicyCheck,
    Status,
    VerifyOptions,
)
from mtasts.verify.verifier import (
    Session,
    check_policy_file,
    check_policy_served_sync,
    verify_domain,
    verify_domains,
)

__all__ = [
    "CHECKS",
    "AddressServed",
    "DomainReport",
    "Finding",
    "Outcome",
    "PolicyCheck",
    "Session",
    "Status",
    "VerifyOptions",
    "check_policy_file",
    "check_policy_served_sync",
    "verify_domain",
    "verify_domains",
]
