"""The Netlify token as text: clean what was pasted, and scrub it out of every message.

Manages: `clean_token`, which strips the whitespace a pasted secret or a CRLF `.env` brings
and refuses a token that could not be a header value (the HTTP library's error about such a
value would print it), and `scrub`, which removes the token from a message as a whole, before
any truncation, in its raw, escaped, quoted, URL-encoded, base64 and partial forms (an API or
a proxy may echo the Authorization header back, in any encoding).

Leaves alone: where the token comes from (the providers read it at run time,
pulumi_mta_sts/netlify/provider_base.py) and where it goes (only into the Authorization header,
pulumi_mta_sts/netlify/transport.py).
"""

from __future__ import annotations

import base64
import html
import json as jsonlib
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

TOKEN_HELP = (
    "make a new personal access token at https://app.netlify.com/user/applications#personal-access-tokens "
    "and set it with `pulumi config set --secret mta-sts:netlifyToken <token>` "
    "or export NETLIFY_AUTH_TOKEN"
)

# Shortest piece of a token that counts as a leak: long enough not to match ordinary words,
# short enough that what is left after a cut-off echo is caught.
PARTIAL_TOKEN_CHARS = 8
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
