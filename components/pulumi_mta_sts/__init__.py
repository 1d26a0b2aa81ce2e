"""MTA-STS (RFC 8461) and SMTP TLS Reporting (RFC 8460) for mail domains, as a Pulumi component.

    import pulumi_mta_sts as mta_sts

    mta_sts.MtaStsDomain("example", mta_sts.MtaStsDomainArgs(domain="example.com", tls_rpt=[...]))

One `MtaStsDomain` per domain: it looks up the Cloudflare zone, checks the zone's live MX
hosts against the policy, adopts records that already exist, creates the GitHub repository
and the site (Netlify or GitHub Pages) that serve the policy, waits until it is served, and
only then publishes the `_mta-sts` record. Several in one program work side by side; explicit
providers in `opts` reach every child and every lookup.

The names below are the package's public surface; its submodules are not.
"""

from pulumi_mta_sts.args import MtaStsDomainArgs, ProtonArgs
from pulumi_mta_sts.domain import MtaStsDomain

__all__ = ["MtaStsDomain", "MtaStsDomainArgs", "ProtonArgs"]
