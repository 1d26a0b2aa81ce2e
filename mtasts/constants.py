"""Names and addresses fixed by the RFCs and by the providers, built in one place.

The policy host and its URL (RFC 8461 §3.2), the discovery and reporting record names
(RFC 8461 §3.1, RFC 8460 §3), the addresses each hosting serves from, and Proton Mail's MX
hosts. Everything that needs one of them imports it from here, so a provider that changes an
address is one edit. Host-name syntax is `mtasts.names`; what a record must say is `mtasts.rules`.
"""

from __future__ import annotations

POLICY_HOST_LABEL = "mta-sts"
DISCOVERY_LABEL = "_mta-sts"
TLS_RPT_LABEL = "_smtp._tls"
# RFC 8461 §3.3: the well-known path, served over HTTPS at the policy host.
POLICY_PATH = ".well-known/mta-sts.txt"

# Netlify's load balancer, the A record its docs give for an apex or external DNS.
NETLIFY_IPV4 = ("75.2.60.5",)
# GitHub Pages' apex addresses (GitHub docs, "Managing a custom domain").
GITHUB_PAGES_IPV4 = ("185.199.108.153", "185.199.109.153", "185.199.110.153", "185.199.111.153")

# Proton Mail's MX hosts with the priorities its dashboard asks for, in that order.
PROTON_MX_PRIORITIES = {"mail.protonmail.ch": 10, "mailsec.protonmail.ch": 20}
PROTON_MX = tuple(PROTON_MX_PRIORITIES)
PROTON_SPF_INCLUDE = "_spf.protonmail.ch"


def policy_host(domain: str) -> str:
    """`mta-sts.<domain>`, the host senders fetch the policy from (RFC 8461 §3.2)."""
    return f"{POLICY_HOST_LABEL}.{domain}"


def policy_url(domain: str) -> str:
    """`https://mta-sts.<domain>/.well-known/mta-sts.txt` (RFC 8461 §3.3)."""
    return policy_url_at(policy_host(domain))


def policy_url_at(host: str) -> str:
    """The policy's URL at a policy host already built (`policy_host`)."""
    return f"https://{host}/{POLICY_PATH}"


def discovery_name(domain: str) -> str:
    """`_mta-sts.<domain>`, where the policy id is published (RFC 8461 §3.1)."""
    return f"{DISCOVERY_LABEL}.{domain}"


def tls_rpt_name(domain: str) -> str:
    """`_smtp._tls.<domain>`, where reporting addresses are published (RFC 8460 §3)."""
    return f"{TLS_RPT_LABEL}.{domain}"


# Where the Netlify token is read from: the stack's secret, or the variable Netlify's CLI reads.
NETLIFY_TOKEN_KEY = "mta-sts:netlifyToken"
NETLIFY_TOKEN_ENV = "NETLIFY_AUTH_TOKEN"
SET_NETLIFY_TOKEN = f"scripts/pulumi config set --secret {NETLIFY_TOKEN_KEY} <token>"
