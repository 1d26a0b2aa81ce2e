"""The rules of MTA-STS (RFC 8461), TLS-RPT (RFC 8460) and the mail records, one module per object.

Each rule is a function over plain values (record texts, a policy text, host names) that
returns `Finding`s: a stable code, a severity, what was seen, the fix and the RFC section.
Configuration validation (`mtasts.config`), adoption (`mtasts.adoption`), the CrossGuard
pack (`policy/`) and `verify` (`mtasts.verify.checks`) call these functions and only phrase
the findings for their audience; none of them judges a record itself.

- `discovery`: the `_mta-sts` TXT record (RFC 8461 §3.1)
- `tlsrpt`: the `_smtp._tls` TXT record and its report URIs (RFC 8460 §3)
- `policy_fetch`: one HTTPS answer for the policy: status, redirect, type, size, ASCII (RFC 8461 §3.3)
- `policy_file`: the policy file and its `mx` patterns (RFC 8461 §3.2)
- `mx_coverage`: which MX hosts a policy matches, and what a gap costs (RFC 8461 §4.1, §5)
- `policy_host`: `mta-sts.<domain>`'s own records: null MX, SPF, no CNAME (RFC 7505, RFC 7208)
- `coexistence`: which records may share a name with the stack's (RFC 1034 §3.6.2, RFC 7505 §3)
- `mail`: SPF, DKIM, DMARC and Proton's verification record (RFC 7208, RFC 6376, RFC 7489)

Where the RFCs leave room, or senders read them differently, the module says which reading
it takes and why, next to the code: what we publish parses under the strictest reading, and
what we judge never passes where a real sender sees no policy.
"""

from mtasts.rules.findings import Finding, Severity, worst

__all__ = ["Finding", "Severity", "worst"]
