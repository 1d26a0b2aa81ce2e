"""How this stack talks to Netlify's REST API: one authenticated request, and what a failure means.

Manages: the HTTP connection (httpx; the token goes only into the Authorization header, no
redirect is followed, at most MAX_ANSWER_BYTES of an answer is read), the retries of a
rate-limited request (HTTP 429, waiting as Retry-After or X-RateLimit-Reset says, through
pulumi_mta_sts/polling.py), and the mapping of every failure to a `NetlifyError` that says
what to do, scrubbed of the token (pulumi_mta_sts/netlify/credential.py). The transport
never appears in a repr with its token and refuses to be pickled.

Leaves alone: which operations exist and what their answers mean (pulumi_mta_sts/netlify/api.py).
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

from pulumi_mta_sts.netlify.credential import TOKEN_HELP, TokenError, clean_token, scrub
from pulumi_mta_sts.polling import PollTimeout, poll

from mtasts.errors import MtaStsError
from mtasts.visible import visible

if TYPE_CHECKING:
    # httpx is imported where a request is made: `pulumi preview`/`up` import this module with
    # every Netlify component, and httpx alone is a fifth of the program's own start-up.
    import httpx
    from pulumi_mta_sts.netlify.deadline import Deadline

DEFAULT_BASE_URL = "https://api.netlify.com/api/v1"
# How much of Netlify's own message an error repeats, after scrubbing.
SERVER_MESSAGE_CHARS = 300
# The most of an answer read: a site or deploy is a few KiB; a server sending more is broken
# or hostile, and an endless body must not fill the memory of `pulumi up`.
MAX_ANSWER_BYTES = 1 << 20
# The most of an error body read: only its first SERVER_MESSAGE_CHARS are shown.
MAX_ERROR_BYTES = 64 << 10


class NetlifyError(MtaStsError):
    """A Netlify API call that failed, with the HTTP status (None: no answer) and what to do."""

    def __init__(self, status: int | None, message: str, *, server_message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.server_message = server_message


@dataclass
class NetlifyTransport:
    """Authenticated requests to Netlify's API. Use as a context manager, or call `close()`."""

    token: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0
    # The most one request (one attempt of it) may take, however slowly the server answers.
    deadline: float = 120.0
    max_rate_limit_retries: int = 3
    max_rate_limit_wait: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    _http: httpx.Client = field(init=False, repr=False)
    _deadline: Deadline = field(init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            token = clean_token(self.token)
        except TokenError as error:
            raise NetlifyError(None, f"{error}.") from None
        if not token:
            raise NetlifyError(None, f"No Netlify token: {TOKEN_HELP}.")
        self.token = token
        import httpx

        self._http = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            timeout=self.timeout,
            # identity: a compressed answer could expand a thousandfold past the size checked.
            headers={
                "Authorization": f"Bearer {self.token}",
                "User-Agent": "mta-sts-pulumi",
                "Accept-Encoding": "identity",
            },
            follow_redirects=False,
        )
        from pulumi_mta_sts.netlify.deadline import Deadline, bound_by

        self._deadline = Deadline()
        bound_by(self._http, self._deadline)

    def __reduce__(self) -> Any:
        raise TypeError(f"{type(self).__name__} holds a credential and is never pickled")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

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
        import httpx

        # Ids come from the state and from Netlify: shown, never run, by the terminal.
        operation = visible(operation, 300)

        def send() -> tuple[httpx.Response, bytes]:
            self._deadline.start(self.deadline)
            try:
                with self._http.stream(method, path, json=json, content=content, headers=headers) as answer:
                    limit = MAX_ANSWER_BYTES if answer.is_success else MAX_ERROR_BYTES
                    body = _read_at_most(answer, limit)
                    if answer.is_success and len(body) > limit:
                        raise NetlifyError(
                            answer.status_code,
                            self._scrub(
                                f"Netlify answered more than {limit:,} bytes while {operation}, far more "
                                "than the API's answer holds; run `scripts/deploy` again later, and report "
                                "it if it repeats."
                            ),
                        )
                    return answer, body[:limit]
            except httpx.HTTPError as error:
                if self._deadline.expired:
                    raise NetlifyError(
                        None,
                        self._scrub(
                            f"Netlify did not finish answering within {self.deadline:g} s while "
                            f"{operation}; run `scripts/deploy` again later."
                        ),
                    ) from None
                # httpx names the URL, and an invalid header value in full: scrub the whole message.
                said = visible(self._scrub(str(error)), SERVER_MESSAGE_CHARS)
                raise NetlifyError(
                    None, self._scrub(f"Netlify did not answer while {operation}: {said}")
                ) from None
            finally:
                self._deadline.stop()

        try:
            answered = poll(
                send,
                done=lambda answer: answer[0].status_code != 429,
                max_attempts=self.max_rate_limit_retries + 1,
                wait_for=lambda answer: min(retry_after(answer[0].headers), self.max_rate_limit_wait),
                sleep=self.sleep,
            )
        except PollTimeout as limited:
            raise self._error(limited.last, operation, hints or {}, limited.attempts - 1) from None
        response, body = answered
        if response.is_success:
            if response.status_code == 204 or not body:
                return None
            try:
                return jsonlib.loads(body)
            except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
                raise NetlifyError(
                    response.status_code,
                    self._scrub(
                        f"Netlify's answer to {operation} is not JSON ({visible(str(error), 100)}); run "
                        "`scripts/deploy` again later, and report it if it repeats."
                    ),
                ) from None
        raise self._error(answered, operation, hints or {}, 0)

    def _error(
        self,
        answered: tuple[httpx.Response, bytes],
        operation: str,
        hints: Mapping[int, str],
        retries: int,
    ) -> NetlifyError:
        response, body = answered
        status = response.status_code
        # Scrub Netlify's whole message first: cutting it short could split an echoed token.
        # Then escape it: what a terminal would run (ESC, CR, LF, bidi overrides) is shown instead.
        server = visible(self._scrub(_server_message(body)), SERVER_MESSAGE_CHARS)
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
                "or the token belongs to another account; run `scripts/pulumi refresh` to reconcile the "
                "state."
            )
        elif status == 422:
            text = (
                f"Netlify refused {operation} with HTTP 422{said}; fix the request and run "
                "`scripts/deploy` again."
            )
        elif status == 429:
            text = (
                f"Netlify rate-limited {operation} (HTTP 429) and was still limiting after {retries} "
                f"retries; wait {retry_after(response.headers):g} s or more and run `scripts/deploy` again."
            )
        else:
            text = (
                f"Netlify answered HTTP {status} while {operation}{said}; run `scripts/deploy` again later."
            )
        return NetlifyError(status, self._scrub(text), server_message=server)

    def _scrub(self, text: str) -> str:
        return scrub(text, self.token)


# The longest wait a 429 is read as asking for: the answer is said back in the error ("wait ...
# s or more"), and a server's `inf` or 1e300 is no wait anyone could honour.
MAX_RETRY_AFTER = 86_400.0


def retry_after(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float:
    """Seconds to wait before retrying a 429: Retry-After (seconds or date), else X-RateLimit-Reset;
    between 0 and MAX_RETRY_AFTER, and a value that is no number (NaN) read as none."""
    value = headers.get("Retry-After")
    if value:
        try:
            return _bounded(float(value))
        except ValueError:
            try:
                return _bounded(email.utils.parsedate_to_datetime(value).timestamp() - now())
            except (TypeError, ValueError):
                pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return _bounded(float(reset) - now())
        except ValueError:
            pass
    return 1.0


def _bounded(seconds: float) -> float:
    if math.isnan(seconds):
        raise ValueError("not a number")
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def _read_at_most(response: httpx.Response, limit: int) -> bytes:
    """The body up to one chunk past `limit` bytes: enough to tell that it was longer."""
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            break
    return bytes(body)


def _server_message(body: bytes) -> str:
    """What Netlify said (at most MAX_ERROR_BYTES of it): the caller scrubs it before shortening it."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = jsonlib.loads(text)
    except ValueError:
        return text.strip()
    if isinstance(data, dict):
        for key in ("message", "errors", "error"):
            if data.get(key):
                return str(data[key])
    return str(data)


def segment(value: str) -> str:
    """One path segment: ids come from state, so quote them rather than trust them."""
    return quote(value, safe="")
