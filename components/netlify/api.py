"""A small synchronous client for the part of Netlify's REST API this stack uses.

Manages: sites (create, get, update the custom domain, delete), file-digest deploys (create,
upload the files Netlify asks for, wait until ready), the site's file list, and the site's
Let's Encrypt certificate (show, provision). Every operation is one described in
Netlify's API description (Swagger 2.0, basePath /api/v1; a copy is in
`tests/data/netlify/netlify-openapi.yml`).

Leaves alone: DNS (Cloudflare holds the zone), domain aliases (a redirect from another name
is fatal under RFC 8461 §3.3), builds, forms, functions and everything else.

The token goes only into the Authorization header. It never appears in an exception message,
a repr or a log line, and the client refuses to be pickled: `clean_token` refuses a token
that could not be a header value (and strips the whitespace a pasted secret or a CRLF `.env`
brings), and `scrub` removes the token from every message as a whole, before any truncation,
in its raw, escaped, quoted, URL-encoded, base64 and partial forms (an API or a proxy may echo
the Authorization header back, in any encoding).
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import html
import json as jsonlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import httpx

from components.polling import Backoff, PollTimeout, poll

DEFAULT_BASE_URL = "https://api.netlify.com/api/v1"
TOKEN_HELP = (
    "make a new personal access token at https://app.netlify.com/user/applications#personal-access-tokens "
    "and set it with `pulumi config set --secret mta-sts:netlifyToken <token>` "
    "or export NETLIFY_AUTH_TOKEN"
)


# Shortest piece of a token that counts as a leak: long enough not to match ordinary words,
# short enough that what is left after a cut-off echo is caught.
PARTIAL_TOKEN_CHARS = 8
# How much of Netlify's own message an error repeats, after scrubbing.
SERVER_MESSAGE_CHARS = 300
REDACTED = "[token]"


class TokenError(ValueError):
    """A token that cannot be used as given; the message never contains it."""


def clean_token(raw: str | None) -> str | None:
    """The token without surrounding whitespace (a pasted secret, a CRLF `.env`), or None if empty.

    Refuses a token with whitespace, control or non-ASCII characters inside: it is not a
    Netlify token, and the HTTP library's error about such a header value would print it.
    """
    if raw is None:
        return None
    token = raw.strip().strip("\ufeff").strip()
    if not token:
        return None
    bad = next((index for index, char in enumerate(token) if not 33 <= ord(char) <= 126), None)
    if bad is not None:
        kind = (
            "a space"
            if token[bad] == " "
            else "a control character"
            if ord(token[bad]) < 32
            else ("a non-ASCII character")
        )
        raise TokenError(
            f"the Netlify token has {kind} at position {bad + 1} of {len(token)}: a Netlify personal access "
            "token is one word of printable ASCII. Copy it again and set it with "
            "`pulumi config set --secret mta-sts:netlifyToken` (it reads the value from standard input "
            "when none is given) or export NETLIFY_AUTH_TOKEN"
        )
    return token


def _token_forms(token: str) -> tuple[list[str], list[str]]:
    """(forms matched also in part, forms matched only whole) of `token` as it could be echoed."""
    partial = {
        token,
        quote(token, safe=""),
        quote(token),
        quote_plus(token),
        jsonlib.dumps(token)[1:-1],
        repr(token)[1:-1],
        repr(token.encode("utf-8"))[2:-1],
        html.escape(token),
        "".join(f"\\u{ord(char):04x}" for char in token),
        "".join(f"%{byte:02x}" for byte in token.encode("utf-8")),
    }
    whole: set[str] = {token.encode("utf-8").hex()}
    for text in (token, f"Bearer {token}"):
        data = text.encode("utf-8")
        for encoded in (base64.b64encode(data), base64.urlsafe_b64encode(data)):
            whole.add(encoded.decode())
            whole.add(encoded.decode().rstrip("="))
    return [form for form in partial if form], [form for form in whole if form]


def scrub(text: str, token: str | None) -> str:
    """`text` with every trace of `token` replaced by "[token]" (see the module docstring).

    Any run of `PARTIAL_TOKEN_CHARS` or more characters of a textual form of the token counts,
    compared without regard to case (percent-encoding and escapes vary in case).
    """
    if not token or not text:
        return text
    partial, whole = _token_forms(token)
    folded = text.lower()
    marked = bytearray(len(text))

    def mark(needles: Iterable[str], fold: bool) -> None:
        haystack = folded if fold else text
        for needle in needles:
            needle = needle.lower() if fold else needle
            start = haystack.find(needle)
            while start != -1:
                marked[start : start + len(needle)] = b"\x01" * len(needle)
                start = haystack.find(needle, start + 1)

    size = PARTIAL_TOKEN_CHARS
    grams = {form[i : i + size] for form in partial for i in range(max(1, len(form) - size + 1))}
    mark(grams, fold=True)
    mark(partial, fold=True)
    mark(whole, fold=False)
    if not any(marked):
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        if marked[index]:
            while index < len(text) and marked[index]:
                index += 1
            out.append(REDACTED)
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


class NetlifyError(Exception):
    """A Netlify API call that failed, with the HTTP status (None: no answer) and what to do."""

    def __init__(self, status: int | None, message: str, *, server_message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.server_message = server_message


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


@dataclass
class NetlifyClient:
    """Synchronous Netlify API client. Use as a context manager, or call `close()`."""

    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0
    max_rate_limit_retries: int = 3
    max_rate_limit_wait: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    _http: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            token = clean_token(self.token)
        except TokenError as error:
            raise NetlifyError(None, f"{error}.") from None
        if not token:
            raise NetlifyError(None, f"No Netlify token: {TOKEN_HELP}.")
        self.token = token
        self._http = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            timeout=self.timeout,
            headers={"Authorization": f"Bearer {self.token}", "User-Agent": "mta-sts-pulumi"},
            follow_redirects=False,
        )

    def __reduce__(self) -> Any:
        raise TypeError("NetlifyClient holds a credential and is never pickled")

    def __enter__(self) -> NetlifyClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # Sites -----------------------------------------------------------------------------------

    def create_site(self, custom_domain: str, name: str | None = None) -> Site:
        body: dict[str, Any] = {"custom_domain": custom_domain}
        if name:
            body["name"] = name
        data = self._request("POST", "/sites", f"creating the site for {custom_domain}", json=body)
        return Site.from_json(data)

    def get_site(self, site_id: str) -> Site:
        return Site.from_json(self._request("GET", f"/sites/{_seg(site_id)}", f"reading site {site_id}"))

    def update_site(self, site_id: str, *, custom_domain: str | None = None, name: str | None = None) -> Site:
        body: dict[str, Any] = {}
        if custom_domain is not None:
            body["custom_domain"] = custom_domain
        if name is not None:
            body["name"] = name
        # The spec describes PATCH (updateSite) for partial updates of a site.
        data = self._request("PATCH", f"/sites/{_seg(site_id)}", f"updating site {site_id}", json=body)
        return Site.from_json(data)

    def delete_site(self, site_id: str) -> None:
        self._request("DELETE", f"/sites/{_seg(site_id)}", f"deleting site {site_id}")

    def list_site_files(self, site_id: str) -> dict[str, str]:
        """`{"/path": sha1}` of what the site's published deploy serves."""
        data = self._request("GET", f"/sites/{_seg(site_id)}/files", f"listing the files of site {site_id}")
        return {site_path(str(item["path"])): str(item["sha"]) for item in data}

    # Deploys ---------------------------------------------------------------------------------

    def create_deploy(self, site_id: str, digests: Mapping[str, str]) -> Deploy:
        data = self._request(
            "POST",
            f"/sites/{_seg(site_id)}/deploys",
            f"starting a deploy of site {site_id}",
            json={"files": dict(digests)},
        )
        return Deploy.from_json(data)

    def upload_file(self, deploy_id: str, path: str, content: bytes) -> None:
        # Slashes stay literal in {path}, as Netlify's own clients send it (encodeURI, not
        # encodeURIComponent): https://github.com/netlify/open-api/issues/260 shows the flow.
        self._request(
            "PUT",
            f"/deploys/{_seg(deploy_id)}/files/{quote(path.lstrip('/'), safe='/')}",
            f"uploading {site_path(path)} to deploy {deploy_id}",
            content=content,
            headers={"Content-Type": "application/octet-stream"},
        )

    def get_deploy(self, deploy_id: str) -> Deploy:
        return Deploy.from_json(
            self._request("GET", f"/deploys/{_seg(deploy_id)}", f"reading deploy {deploy_id}")
        )

    def deploy_files(
        self,
        site_id: str,
        files: Mapping[str, str],
        *,
        timeout_seconds: float = 300.0,
        backoff: Backoff | None = None,
    ) -> Deploy:
        """File-digest deploy: send every digest, upload what Netlify lists in `required`, wait for ready.

        `required` holds SHA-1 digests, not paths, and one digest stands for every file with that
        content, so each required digest is uploaded once, under one of its paths.
        """
        contents = {site_path(path): content.encode("utf-8") for path, content in files.items()}
        digests = {path: sha1_hex(data) for path, data in sorted(contents.items())}
        deploy = self.create_deploy(site_id, digests)
        path_for_digest: dict[str, str] = {}
        for path, digest in digests.items():
            path_for_digest.setdefault(digest, path)
        for digest in deploy.required:
            if digest not in path_for_digest:
                raise NetlifyError(
                    None,
                    f"Netlify asked deploy {deploy.id} for a file with digest {digest}, which this deploy "
                    "did not offer; run `pulumi up` again, and report it if it repeats.",
                )
            path = path_for_digest[digest]
            self.upload_file(deploy.id, path, contents[path])
        return self.wait_for_deploy(deploy.id, timeout_seconds=timeout_seconds, backoff=backoff)

    def wait_for_deploy(
        self, deploy_id: str, *, timeout_seconds: float, backoff: Backoff | None = None
    ) -> Deploy:
        """Poll until the deploy is `ready`; fail on `error` or when the time is up."""

        def ended(deploy: Deploy) -> bool:
            if deploy.state in ("error", "rejected"):
                raise NetlifyError(
                    None,
                    self._scrub(
                        f"Netlify deploy {deploy_id} ended in state {deploy.state!r}: "
                        f"{deploy.error_message or 'no message'}; fix the cause and run `pulumi up` again."
                    ),
                )
            return deploy.state == "ready"

        try:
            return poll(
                lambda: self.get_deploy(deploy_id),
                done=ended,
                timeout=timeout_seconds,
                backoff=backoff or Backoff(),
                sleep=self.sleep,
            )
        except PollTimeout as timeout:
            raise NetlifyError(
                None,
                f"Netlify deploy {deploy_id} was still {timeout.last.state!r} after {timeout_seconds:g} s; "
                "check the deploy in the Netlify UI and run `pulumi up` again.",
            ) from None

    # TLS -------------------------------------------------------------------------------------

    def get_certificate(self, site_id: str) -> Certificate:
        data = self._request(
            "GET", f"/sites/{_seg(site_id)}/ssl", f"reading the certificate of site {site_id}"
        )
        return Certificate.from_json(data)

    def provision_certificate(self, site_id: str, custom_domain: str) -> Certificate:
        """Ask Netlify for a Let's Encrypt certificate (no certificate parameters: RFC 8461 §3.2)."""
        data = self._request(
            "POST",
            f"/sites/{_seg(site_id)}/ssl",
            f"provisioning the certificate for {custom_domain}",
            hints={
                422: (
                    f"DNS for {custom_domain} does not point at Netlify yet (or the site has no custom "
                    "domain). Check that the A record points at Netlify and is DNS-only, not proxied, "
                    "then wait for it to propagate and run `pulumi up` again"
                )
            },
        )
        return Certificate.from_json(data)

    # Transport -------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        hints: Mapping[int, str] | None = None,
    ) -> Any:
        def send() -> httpx.Response:
            try:
                return self._http.request(method, path, json=json, content=content, headers=headers)
            except httpx.HTTPError as error:
                # httpx names the URL, and an invalid header value in full: scrub the whole message.
                raise NetlifyError(
                    None, self._scrub(f"Netlify did not answer while {operation}: {error}")
                ) from None

        try:
            response = poll(
                send,
                done=lambda answer: answer.status_code != 429,
                max_attempts=self.max_rate_limit_retries + 1,
                wait_for=lambda answer: min(retry_after(answer.headers), self.max_rate_limit_wait),
                sleep=self.sleep,
            )
        except PollTimeout as limited:
            raise self._error(limited.last, operation, hints or {}, limited.attempts - 1) from None
        if response.is_success:
            if response.status_code == 204 or not response.content:
                return None
            return response.json()
        raise self._error(response, operation, hints or {}, 0)

    def _error(
        self, response: httpx.Response, operation: str, hints: Mapping[int, str], retries: int
    ) -> NetlifyError:
        status = response.status_code
        # Scrub Netlify's whole message first: cutting it short could split an echoed token.
        server = self._scrub(_server_message(response))[:SERVER_MESSAGE_CHARS]
        said = f" (Netlify said: {server})" if server else ""
        if status in hints:
            text = f"Netlify refused {operation} with HTTP {status}{said}: {hints[status]}."
        elif status == 401:
            text = (
                f"Netlify rejected the token with HTTP 401 while {operation}: it is invalid, expired or "
                f"revoked; {TOKEN_HELP}."
            )
        elif status == 403:
            text = (
                f"Netlify refused {operation} with HTTP 403{said}: the token's user has no access to it; "
                "use a token of the account that owns the site."
            )
        elif status == 404:
            text = (
                f"Netlify found nothing while {operation} (HTTP 404){said}: it was deleted outside Pulumi, "
                "or the token belongs to another account; run `pulumi refresh` to reconcile the state."
            )
        elif status == 422:
            text = (
                f"Netlify refused {operation} with HTTP 422{said}; fix the request and run `pulumi up` again."
            )
        elif status == 429:
            text = (
                f"Netlify rate-limited {operation} (HTTP 429) and was still limiting after {retries} "
                f"retries; wait {retry_after(response.headers):g} s or more and run `pulumi up` again."
            )
        else:
            text = f"Netlify answered HTTP {status} while {operation}{said}; run `pulumi up` again later."
        return NetlifyError(status, self._scrub(text), server_message=server)

    def _scrub(self, text: str) -> str:
        return scrub(text, self.token)


def retry_after(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float:
    """Seconds to wait before retrying a 429: Retry-After (seconds or date), else X-RateLimit-Reset."""
    value = headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now())
            except (TypeError, ValueError):
                pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now())
        except ValueError:
            pass
    return 1.0


def _server_message(response: httpx.Response) -> str:
    """What Netlify said, whole: the caller scrubs it before shortening it."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()
    if isinstance(data, dict):
        for key in ("message", "errors", "error"):
            if data.get(key):
                return str(data[key])
    return str(data)


def _seg(value: str) -> str:
    """One path segment: ids come from state, so quote them rather than trust them."""
    return quote(value, safe="")
