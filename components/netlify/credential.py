"""The Netlify token as text: clean what was pasted, and scrub it out of every message.

Manages: `clean_token`, which strips the whitespace a pasted secret or a CRLF `.env` brings
and refuses a token that could not be a header value (the HTTP library's error about such a
value would print it), and `scrub`, which removes the token from a message as a whole, before
any truncation, in every form an API or a proxy may echo the Authorization header back in
(the core's scrubber, mtasts/scrub.py, shared with the IMAP password).

Leaves alone: where the token comes from (the providers read it at run time,
components/netlify/provider_base.py) and where it goes (only into the Authorization header,
components/netlify/transport.py).
"""

from __future__ import annotations

from mtasts.constants import NETLIFY_TOKEN_ENV, NETLIFY_TOKEN_KEY, SET_NETLIFY_TOKEN
from mtasts.errors import MtaStsError
from mtasts.scrub import PARTIAL_CHARS
from mtasts.scrub import scrub as scrub_secret

TOKEN_HELP = (
    "make a new personal access token at https://app.netlify.com/user/applications#personal-access-tokens "
    f"and set it with `{SET_NETLIFY_TOKEN}` or export {NETLIFY_TOKEN_ENV}"
)

PARTIAL_TOKEN_CHARS = PARTIAL_CHARS  # the shortest piece of a token that counts as a leak
REDACTED = "[token]"


class TokenError(MtaStsError, ValueError):
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
            f"`scripts/pulumi config set --secret {NETLIFY_TOKEN_KEY}` (it reads the value from "
            f"standard input when none is given) or export {NETLIFY_TOKEN_ENV}"
        )
    return token


def scrub(text: str, token: str | None) -> str:
    """`text` with every trace of `token` replaced by "[token]": the core's scrubber
    (mtasts/scrub.py), with the token's `Bearer ` form of the Authorization header."""
    return scrub_secret(text, token, redacted=REDACTED, prefixes=("Bearer ",))
