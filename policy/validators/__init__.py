"""The pack's rules grouped by area; each asks `mtasts.rules` and phrases the finding for a reviewer.

- `policy_file`: the policy document (validity, allowed mx, enforce max_age, mode none)
- `discovery`: the `_mta-sts` and `_smtp._tls` records (id, one of each, TLS-RPT present)
- `mail_routing`: MX coverage and the policy host's records (null MX, SPF, DNS-only, no CNAME)
- `hosting`: the repository and the hosts (Pages' .nojekyll, protection, full record names)
"""
