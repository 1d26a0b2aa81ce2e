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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from mtasts.verify.policy_served import check_policy_file, check_policy_served_sync
    from mtasts.verify.session import Session
    from mtasts.verify.verifier import verify_domain, verify_domains

# The I/O (dnspython, ssl, h11) loads on first use of a name that needs it, so the command
# line's other commands and the Pulumi program's start-up, which import only the plain values
# above, do not pay for it (PEP 562).
_LAZY = {
    "check_policy_file": "mtasts.verify.policy_served",
    "check_policy_served_sync": "mtasts.verify.policy_served",
    "Session": "mtasts.verify.session",
    "verify_domain": "mtasts.verify.verifier",
    "verify_domains": "mtasts.verify.verifier",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


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
