"""Netlify hosting for the policy, one module per concern.

- `resources`: the Pulumi resources the stack declares (`NetlifySite`, `NetlifyCertificate`).
- `provider`: their dynamic providers, which existing stacks' state names (see its docstring).
- `provider_base`: what both providers share (the token read at run time, errors without it).
- `site_properties`, `certificate_issuing`: the site's properties; obtaining the certificate.
- `api`: the operations of Netlify's REST API; `models`: what its answers mean.
- `transport`: the authenticated requests, rate-limit retries and error messages.
- `credential`: the token as text (cleaning it, scrubbing it out of every message).

The resources are re-exported here for `pulumi_mta_sts/hosting.py`; everything else stays in its module.
"""

from pulumi_mta_sts.netlify.resources import NetlifyCertificate, NetlifySite

__all__ = ["NetlifyCertificate", "NetlifySite"]
