"""One HTTPS answer for the policy file, as a sender takes it (RFC 8461 §3.2, §3.3).

A sender accepts the policy only from HTTP 200, without following a redirect (§3.3), as
`text/plain` (§3.2), no larger than common senders read (64 KiB; no RFC sets it), and in a
charset it decodes: ASCII, or UTF-8 (which an extension value may hold, §3.2) when the
Content-Type says `charset=utf-8` (postfix-mta-sts-resolver decodes a body without a charset
as ASCII, and then sees no policy); where non-ASCII may stand is `policy_file`'s. `response`
judges those over plain values: the status, the Location, the Content-Type and the body as
read. Connecting, TLS and the certificate are the fetcher's (`mtasts.verify.https`); what the
text says is `policy_file`'s; whether every address serves the same text, the caller's
(`mtasts.verify.checks.policy_file`).

Reading taken: the media type is compared without its parameters and case-insensitively
(RFC 9110 §8.3.1); a `charset` parameter is allowed, as postfix-mta-sts-resolver and
checkdmarc allow it.

The Location and Content-Type a finding quotes are the server's: h11 lets any byte but NUL
and whitespace into a header value (ESC, and 0x80-0xff read as Latin-1), so they are shown
through `mtasts.visible`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mtasts.constants import POLICY_PATH, policy_url_at
from mtasts.rules.findings import Finding, Severity
from mtasts.rules.policy_file import MAX_POLICY_BYTES
from mtasts.visible import quoted, visible

MEDIA_TYPE = "text/plain"
REDIRECT = "policy-fetch-redirect"
STATUS = "policy-fetch-status"
TOO_LARGE = "policy-fetch-too-large"
CONTENT_TYPE = "policy-fetch-content-type"
NOT_ASCII = "policy-fetch-not-ascii"
# After these there is no body a sender reads: nothing more to judge.
NO_BODY = frozenset({REDIRECT, STATUS, TOO_LARGE})
RFC_FETCH = "RFC 8461 §3.3"
RFC_FILE = "RFC 8461 §3.2"


@dataclass(frozen=True)
class Response:
    """An HTTP answer for the policy. `body` is None when it was not read whole (over the limit)."""

    status: int | None
    location: str | None = None
    content_type: str | None = None
    body: bytes | None = None
    too_large: bool = False


def media_type(content_type: str | None) -> str:
    """`Text/Plain; charset=utf-8` → `text/plain`."""
    return (content_type or "").split(";")[0].strip().lower()


def response(host: str, answer: Response, where: str | None = None) -> list[Finding]:
    """Why a sender would refuse this answer; empty when it takes the body as the policy.

    `where` names the answer in the findings (verify adds the address and TLS version);
    the policy URL when not given. A redirect, another status or a body over the limit
    ends the judgement: there is no policy body to say more about.
    """
    url = policy_url_at(host)
    where = where or url
    status = answer.status
    if status is not None and 300 <= status < 400:
        location = visible(answer.location or "(no Location)")
        return [
            Finding(
                REDIRECT,
                Severity.FAIL,
                f"{where} answers HTTP {status} redirecting to {location}; "
                f"senders do not follow redirects ({RFC_FETCH})",
                f"serve the file directly at {url}; on Netlify, {host} must be the site's own custom domain, "
                "not an alias that redirects",
                RFC_FETCH,
                subject=url,
            )
        ]
    if status != 200:
        fix = f"serve the policy file at {url} ({RFC_FILE})"
        if status == 404:
            # What a hand-made GitHub Pages repository serves: the stack's own writes .nojekyll.
            fix += (
                "; on GitHub Pages, a 404 here is most often a missing .nojekyll file at the top of the "
                "repository: its Jekyll build leaves out folders whose names begin with a dot, .well-known "
                "too"
            )
        return [
            Finding(
                STATUS,
                Severity.FAIL,
                f"{where} answers HTTP {status}, not 200: senders see no policy",
                fix,
                RFC_FETCH,
                subject=url,
            )
        ]
    if answer.too_large or answer.body is None:
        return [
            Finding(
                TOO_LARGE,
                Severity.FAIL,
                f"{where} is larger than {MAX_POLICY_BYTES} bytes; senders refuse it (stopped reading there)",
                "serve the policy file only: a few lines of 'key: value'",
                subject=url,
            )
        ]
    findings = []
    if media_type(answer.content_type) != MEDIA_TYPE:
        findings.append(
            Finding(
                CONTENT_TYPE,
                Severity.FAIL,
                f"{where} is served as {quoted(answer.content_type or 'no Content-Type')}, not {MEDIA_TYPE}; "
                f"strict senders refuse it ({RFC_FILE})",
                f"serve /{POLICY_PATH} with 'Content-Type: {MEDIA_TYPE}' (Netlify: a _headers file)",
                RFC_FILE,
                subject=url,
            )
        )
    if not answer.body.isascii():
        try:
            answer.body.decode("utf-8")
            served = charset(answer.content_type)
            problem = "" if served == "utf-8" else f"non-ASCII bytes, served {_charset_said(served)}"
        except UnicodeDecodeError:
            problem = "bytes that are not UTF-8"
        if problem:
            findings.append(
                Finding(
                    NOT_ASCII,
                    Severity.FAIL,
                    f"{where} contains {problem}: senders that decode it by its charset see no policy",
                    f"write the policy in plain ASCII, or serve UTF-8 as 'Content-Type: {MEDIA_TYPE}; "
                    f"charset=utf-8' ({RFC_FILE})",
                    RFC_FILE,
                    subject=url,
                )
            )
    return findings


def charset(content_type: str | None) -> str | None:
    """The `charset` parameter, lower-cased (`UTF8` → `utf-8`), or None."""
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower().replace("utf8", "utf-8")
    return None


def _charset_said(served: str | None) -> str:
    return f"as charset {served}" if served else "without a charset (read as ASCII)"
