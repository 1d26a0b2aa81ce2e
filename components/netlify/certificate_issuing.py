"""Getting the site's Let's Encrypt certificate for the policy host, and what the resource records of it.

Manages: `issue_certificate`, which looks for the site's certificate first, asks Netlify for
one (no certificate parameters: RFC 8461 §3.2 needs only a valid certificate for the policy
host), and asks again while Netlify answers 422 (DNS does not point at Netlify yet) until the
deadline; the advice its timeout gives; and the outputs the certificate provider returns.

Leaves alone: the token and the resource's lifecycle (components/netlify/provider.py), and the
A record (components/dns.py; the stack makes the certificate depend on it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.netlify.api import NetlifyClient
from components.netlify.models import Certificate
from components.netlify.transport import NetlifyError
from components.polling import Backoff, PollTimeout, poll
from mtasts.constants import NETLIFY_IPV4


def issue_certificate(
    client: NetlifyClient, site_id: str, domain: str, timeout: float, backoff: Backoff
) -> Certificate:
    """The site's certificate for `domain`, requested until Netlify issues it or `timeout` passes."""

    def attempt() -> tuple[Certificate | None, Certificate | None, str]:
        """(a certificate for `domain`, the site's existing one, what Netlify last said)."""
        existing = _existing_certificate(client, site_id)
        if existing and domain in existing.domains:
            return existing, existing, ""
        try:
            certificate = client.provision_certificate(site_id, domain)
        except NetlifyError as error:
            if error.status != 422:
                raise
            # 422 means "bad dns for custom domain" until the A record has propagated, or
            # "No custom domain configured"; both can clear up, so retry until the deadline.
            return None, existing, f"HTTP 422: {error.server_message or 'no message'}"
        if domain in certificate.domains:
            return certificate, existing, ""
        return (
            None,
            existing,
            f"a certificate in state {certificate.state!r} for {list(certificate.domains)}",
        )

    try:
        issued, _, _ = poll(attempt, done=lambda seen: seen[0] is not None, timeout=timeout, backoff=backoff)
    except PollTimeout as timeout_error:
        _, existing, last = timeout_error.last
        raise NetlifyError(
            422,
            f"Netlify issued no TLS certificate for {domain} after {timeout_error.attempts} "
            f"attempt(s) in {timeout:g} s; it last answered {last}. "
            f"{_certificate_advice(domain, existing)}",
            server_message=last,
        ) from None
    assert issued is not None
    return issued


def _certificate_advice(domain: str, existing: Certificate | None) -> str:
    if existing is not None:
        # The API replaces an existing certificate only with a custom one; a Let's Encrypt
        # certificate for a changed custom domain is renewed by Netlify, or by hand in its UI.
        return (
            f"The site already has a certificate, for {list(existing.domains)}, not for {domain}: "
            "wait for Netlify to renew it, or renew it under Domain management → HTTPS in the Netlify "
            "UI, then run `scripts/deploy` again."
        )
    return (
        f"DNS for {domain} does not point at Netlify yet: check that `dig +short A {domain}` answers "
        f"{' '.join(NETLIFY_IPV4)}, that the Cloudflare record is DNS-only (not proxied) and that no AAAA "
        "or CNAME record shadows it, then run `scripts/deploy` again (Let's Encrypt can take many minutes "
        "after DNS changes)."
    )


def _existing_certificate(client: NetlifyClient, site_id: str) -> Certificate | None:
    # POST /ssl on a site that already has a certificate is a 422 ("certificate parameter is
    # required when updating an existing certificate", netlify-openapi.yml), so look first.
    try:
        return client.get_certificate(site_id)
    except NetlifyError as error:
        if error.status == 404:
            return None
        raise


def certificate_outputs(props: Mapping[str, Any], certificate: Certificate) -> dict[str, Any]:
    return {
        "site_id": props["site_id"],
        "custom_domain": props["custom_domain"],
        "timeout_seconds": props.get("timeout_seconds"),
        "state": certificate.state,
        "domains": list(certificate.domains),
        "expires_at": certificate.expires_at,
    }
