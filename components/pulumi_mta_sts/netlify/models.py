"""What Netlify's answers mean to this stack, as frozen values, and the digests a deploy is keyed by.

Manages: `Site`, `Deploy` and `Certificate` read from the JSON Netlify answers (Swagger 2.0
definitions in `tests/data/netlify/netlify-openapi.yml`), keeping only the fields this stack
uses, and refusing an answer that is not of the shape described (`AnswerError`): the values
go into the stack's state and into messages, so an id is one printable word and every text
kept is printable and of bounded length; and the `{"/path": sha1}` map of a file-digest deploy.

Leaves alone: the requests that produce them (pulumi_mta_sts/netlify/api.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mtasts.errors import MtaStsError
from mtasts.visible import clip, visible

# Netlify's ids are 24 hex digits or a UUID; its names, hosts and URLs fit in a DNS name's 253.
MAX_ID_CHARS = 100
MAX_TEXT_CHARS = 2048
MAX_ITEMS = 1000


class AnswerError(MtaStsError, ValueError):
    """An answer that is not what Netlify's API description says; the message says what is wrong."""


def _object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise AnswerError(f"is {_kind(data)}, not the {what} object the API describes")
    return data


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _text(data: Mapping[str, Any], key: str, limit: int = MAX_TEXT_CHARS, free: bool = False) -> str:
    """The string at `key` ("" when absent or null); printable unless `free` (a message, kept
    whatever it holds and cut at `limit`: the reason a deploy failed is worth more than the
    complaint that it was long)."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AnswerError(f"has {_kind(value)} as `{key}`, not a string")
    if free:
        return clip(value, limit)
    if len(value) > limit:
        raise AnswerError(f"has a `{key}` of {len(value):,} characters, more than {limit:,}")
    if not value.isprintable():
        raise AnswerError(f"has unprintable characters in `{key}`: {visible(value, 100)}")
    return value


def _id(data: Mapping[str, Any], key: str = "id") -> str:
    value = _text(data, key, MAX_ID_CHARS)
    if not value or " " in value:
        raise AnswerError(f"has no `{key}`" if not value else f"has spaces in `{key}`: {visible(value, 100)}")
    return value


def _texts(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise AnswerError(f"has {_kind(value)} as `{key}`, not a list")
    if len(value) > MAX_ITEMS:
        raise AnswerError(f"lists {len(value):,} `{key}`, more than {MAX_ITEMS:,}")
    for item in value:
        if not isinstance(item, str):
            raise AnswerError(f"has {_kind(item)} in `{key}`, not a string")
    return tuple(_text({key: item}, key) for item in value)


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
        data = _object(data, "site")
        published = data.get("published_deploy")
        published_id = _text(_object(published, "published_deploy"), "id", MAX_ID_CHARS) if published else ""
        return cls(
            id=_id(data),
            name=_text(data, "name"),
            custom_domain=_text(data, "custom_domain"),
            url=_text(data, "url"),
            ssl_url=_text(data, "ssl_url"),
            domain_aliases=_texts(data, "domain_aliases"),
            published_deploy_id=published_id,
        )


@dataclass(frozen=True)
class Deploy:
    id: str
    state: str
    required: tuple[str, ...] = ()
    error_message: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Deploy:
        data = _object(data, "deploy")
        return cls(
            id=_id(data),
            state=_text(data, "state", MAX_ID_CHARS),
            required=_texts(data, "required"),
            # Free text, shown only through `visible` (api.py); at most what is read of an answer.
            error_message=_text(data, "error_message", free=True),
        )


@dataclass(frozen=True)
class Certificate:
    state: str
    domains: tuple[str, ...] = ()
    expires_at: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Certificate:
        data = _object(data, "certificate")
        return cls(
            state=_text(data, "state", MAX_ID_CHARS),
            domains=_texts(data, "domains"),
            expires_at=_text(data, "expires_at", MAX_ID_CHARS),
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
