"""What Netlify's answers mean to this stack, as frozen values, and the digests a deploy is keyed by.

Manages: `Site`, `Deploy` and `Certificate` read from the JSON Netlify answers (Swagger 2.0
definitions in `tests/data/netlify/netlify-openapi.yml`), keeping only the fields this stack
uses; and the `{"/path": sha1}` map of a file-digest deploy.

Leaves alone: the requests that produce them (pulumi_mta_sts/netlify/api.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    custom_domain: str
    url: str
    ssl_url: str
    domain_aliases: tuple[str, ...]
    published_deploy_id: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Site:
        published = data.get("published_deploy") or {}
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            custom_domain=str(data.get("custom_domain") or ""),
            url=str(data.get("url") or ""),
            ssl_url=str(data.get("ssl_url") or ""),
            domain_aliases=tuple(data.get("domain_aliases") or ()),
            published_deploy_id=str(published.get("id") or ""),
        )


@dataclass(frozen=True)
class Deploy:
    id: str
    state: str
    required: tuple[str, ...] = ()
    error_message: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Deploy:
        return cls(
            id=str(data["id"]),
            state=str(data.get("state") or ""),
            required=tuple(data.get("required") or ()),
            error_message=str(data.get("error_message") or ""),
        )


@dataclass(frozen=True)
class Certificate:
    state: str
    domains: tuple[str, ...] = ()
    expires_at: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Certificate:
        return cls(
            state=str(data.get("state") or ""),
            domains=tuple(data.get("domains") or ()),
            expires_at=str(data.get("expires_at") or ""),
        )


def site_path(path: str) -> str:
    """The path as Netlify's `files` map spells it: absolute, forward slashes."""
    return "/" + path.lstrip("/")


def sha1_hex(content: str | bytes) -> str:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha1(data).hexdigest()  # Netlify's file-digest deploys key files by SHA-1


def file_digests(files: Mapping[str, str]) -> dict[str, str]:
    """`{"/path": sha1}` for repository-relative paths and their text content."""
    return {site_path(path): sha1_hex(content) for path, content in sorted(files.items())}
