"""The judgement: DNS answers and HTTP responses in, findings out. No network here.

Each module takes what was seen (plain values from `mtasts.verify.dns` and
`mtasts.verify.https`) for one protocol object and says, per RFC 8461 and RFC 8460, whether
a strict sender would accept it and what to do if not. The rules themselves live in the
core (`mtasts.rules`, grouped the same way); these modules apply them to what was seen and
phrase their findings for the command line. Asking DNS (`dns`), fetching (`https`,
`policy_served`) and running the checks in order (`verifier`) are left to the rest of
`mtasts.verify`.

- `discovery`: the `_mta-sts` TXT record (RFC 8461 §3.1)
- `policy_file`: the policy's HTTPS responses from every address, and its syntax (RFC 8461 §3.2, §3.3)
- `mx_coverage`: the hosts senders deliver to, and whether the policy matches them (RFC 8461 §4.1)
- `policy_host`: `mta-sts.<domain>`'s own null MX, SPF and no CNAME (RFC 7505, RFC 7208)
- `tlsrpt`: the `_smtp._tls` TXT record (RFC 8460 §3)
- `dnssec`: DNSSEC validation and DANE TLSA records, information only
- `stack_drift`: live state against a stack's desired state (RFC 8461 §8)
- `phrasing`: how a rule's findings, and unanswered questions, read in verify's report
"""
