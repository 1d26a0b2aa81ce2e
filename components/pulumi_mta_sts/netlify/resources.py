"""The Pulumi resources the stack declares for Netlify: the site that serves the policy, and its certificate.

Manages:
- `NetlifySite`: one site whose custom domain is exactly `mta-sts.<domain>`, serving the
  repository's files (the core's `DesiredState.files`) through a file-digest deploy.
- `NetlifyCertificate`: the site's Let's Encrypt certificate, requested until DNS points at
  Netlify (the stack makes it depend on the A record) or a timeout passes.
Each is a dynamic resource (type `pulumi-python:dynamic/netlify:<Name>`, from `module` and
`name` below, not from this module's path) whose provider is in pulumi_mta_sts/netlify/provider.py.
A `netlify_token` given to either becomes the secret input `netlify_token` (never an output);
without it the provider reads the stack config or the environment, as it always does for
read and delete.

Leaves alone: domain aliases (never set: a redirect from another name is fatal, RFC 8461 §3.3,
RFC 8461 §3.2), DNS (pulumi_mta_sts/dns.py), and whether the policy is really served (the readiness
resource checks that over HTTPS).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi_mta_sts.dynamic_resource import DynamicResource
from pulumi_mta_sts.netlify.provider import NetlifyCertificateProvider, NetlifySiteProvider
from pulumi_mta_sts.netlify.provider_base import TOKEN_INPUT


def _add_token(props: dict[str, Any], token: pulumi.Input[str] | None) -> None:
    # Only when given, so a stack without it registers the same inputs as before.
    if token is not None:
        props[TOKEN_INPUT] = pulumi.Output.secret(token)


class NetlifySite(DynamicResource, module="netlify", name="Site"):
    """A Netlify site serving `files` at exactly `custom_domain` (no aliases)."""

    site_id: pulumi.Output[str]
    site_name: pulumi.Output[str]
    deploy_id: pulumi.Output[str]
    url: pulumi.Output[str]
    custom_domain: pulumi.Output[str]
    file_digests: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        custom_domain: pulumi.Input[str],
        files: pulumi.Input[Mapping[str, str]],
        site_name: pulumi.Input[str] | None = None,
        netlify_token: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        provider: NetlifySiteProvider | None = None,
    ) -> None:
        props = {
            "custom_domain": custom_domain,
            "files": files,
            "site_name": site_name,
            "site_id": None,
            "deploy_id": None,
            "url": None,
            "file_digests": None,
        }
        _add_token(props, netlify_token)
        super().__init__(provider or NetlifySiteProvider(), name, props, opts)


class NetlifyCertificate(DynamicResource, module="netlify", name="Certificate"):
    """The site's TLS certificate for `custom_domain`, provisioned once DNS points at Netlify."""

    site_id: pulumi.Output[str]
    custom_domain: pulumi.Output[str]
    state: pulumi.Output[str]
    domains: pulumi.Output[list[str]]
    expires_at: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        site_id: pulumi.Input[str],
        custom_domain: pulumi.Input[str],
        timeout_seconds: pulumi.Input[float] = 1800,
        netlify_token: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        provider: NetlifyCertificateProvider | None = None,
    ) -> None:
        props = {
            "site_id": site_id,
            "custom_domain": custom_domain,
            "timeout_seconds": timeout_seconds,
            "state": None,
            "domains": None,
            "expires_at": None,
        }
        _add_token(props, netlify_token)
        super().__init__(provider or NetlifyCertificateProvider(), name, props, opts)
