"""Netlify hosting for the policy: a REST client (`api`) and Pulumi dynamic resources (`provider`).

The resources are re-exported here for `components/hosting.py`; everything else stays in its module.
"""

from components.netlify.provider import NetlifyCertificate, NetlifySite

__all__ = ["NetlifyCertificate", "NetlifySite"]
