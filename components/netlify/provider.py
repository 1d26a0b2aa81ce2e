"""Shim: stacks deployed before the package was `pulumi_mta_sts` pickled their providers as
`components.netlify.provider`; the provider host unpickles them by these names. Keep it,
and keep every name below: each is one that such a pickle loads."""

from pulumi_mta_sts.netlify.provider import NetlifyCertificateProvider, NetlifySiteProvider

__all__ = ["NetlifyCertificateProvider", "NetlifySiteProvider"]
