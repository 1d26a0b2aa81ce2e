"""`verify`: check a live domain's MTA-STS and TLS-RPT the way a strict sender does.

Pure of Pulumi: the command line, the stack's readiness resource and the end-to-end tests
all call these functions. Rules cite RFC 8461 and RFC 8460.

- `model`: findings, reports and options, as plain values
- `dns`, `https`: the I/O, answers as plain values
- `checks`: the judgement, one module per protocol object
- `session`: the resolver, client and query limit one run shares
- `policy_served`: is the policy served from every address (the readiness gate's check)
- `verifier`: every check for one or many domains, concurrent and bounded
- `report`, `cli`: the text and JSON output, and the command line
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
from mtasts.verify.policy_served import check_policy_file, check_policy_served_sync
from mtasts.verify.session import Session
from mtasts.verify.verifier import verify_domain, verify_domains

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
