"""Shim: stacks deployed before the package was `pulumi_mta_sts` pickled their providers as
`components.polling`; the provider host unpickles them by these names. Keep it,
and keep every name below: each is one that such a pickle loads."""

from pulumi_mta_sts.polling import Backoff

__all__ = ["Backoff"]
