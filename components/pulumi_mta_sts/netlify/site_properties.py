"""The NetlifySite resource's properties: which inputs are acceptable, which changed, what it records.

Manages: the checks of `files` (a non-empty map of plain relative paths to text, with the
policy file, RFC 8461 §3.2) and `site_name` (a Netlify subdomain label), the list of inputs
whose desired value differs from the recorded one (the file digests stand for the files), and
the outputs the site provider returns. Pure functions: no request, no token.

Leaves alone: the custom domain's check, shared with the certificate
(pulumi_mta_sts/netlify/provider_base.py), and every call to Netlify (pulumi_mta_sts/netlify/provider.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_mta_sts.netlify.models import file_digests

from mtasts.policy import POLICY_PATH


def site_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """The input keys whose desired value differs from the recorded one."""
    changed = []
    if news.get("custom_domain") != olds.get("custom_domain"):
        changed.append("custom_domain")
    files = news.get("files")
    if not isinstance(files, dict) or file_digests(files) != olds.get("file_digests"):
        changed.append("files")
    name = news.get("site_name")
    if name and name != olds.get("site_name"):
        changed.append("site_name")
    return changed


def site_outputs(site: Any, deploy_id: str, files: Mapping[str, str]) -> dict[str, Any]:
    return {
        "site_id": site.id,
        "site_name": site.name,
        "deploy_id": deploy_id,
        "url": site.ssl_url or site.url,
        "custom_domain": site.custom_domain,
        "file_digests": file_digests(files),
    }


def check_files(files: Any) -> str | None:
    if not isinstance(files, dict) or not files:
        return "files must be a non-empty map of repository paths to text content"
    for path, content in files.items():
        if not isinstance(path, str) or not isinstance(content, str):
            return f"files maps paths to text; {path!r} does not"
        parts = path.strip("/").split("/")
        if not path.strip("/") or any(part in ("", ".", "..") for part in parts):
            return f"file path {path!r} must be a plain relative path"
    if not any(path.strip("/") == POLICY_PATH for path in files):
        return f"files must include {POLICY_PATH}, the policy file (RFC 8461 §3.2)"
    return None


def valid_site_name(name: Any) -> bool:
    return (
        isinstance(name, str)
        and 0 < len(name) <= 63
        and all(c.isascii() and (c.islower() or c.isdigit() or c == "-") for c in name)
    )
