"""Shim: stacks deployed before the package was `pulumi_mta_sts` pickled their providers as
`components.readiness`; the provider host unpickles them by these names. Keep it,
and keep every name below: each is one that such a pickle loads."""

from pulumi_mta_sts.readiness import PolicyReadinessProvider, _log_info

__all__ = ["PolicyReadinessProvider", "_log_info"]
