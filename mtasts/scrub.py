"""Secrets as text: scrub one out of a message as a whole, in every form it could be echoed in.

Manages `scrub`, which removes a secret (the Netlify token, the IMAP mailbox password) from a
message before any truncation, in its raw, escaped, quoted, URL-encoded, HTML- and
JSON-escaped, base64 (at any offset in a larger encoded body), hex (any case and spacing) and
partial forms: a server, an API or a proxy may echo a credential back in any encoding, and a
cut-off echo still leaks most of it.

Leaves alone: where secrets come from and what each caller calls one (the Netlify component
keeps its own `scrub(text, token)` on top of this one, pulumi_mta_sts/netlify/credential.py).
"""

from __future__ import annotations

import base64
import json as jsonlib
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

# Shortest piece of a secret that counts as a leak: long enough not to match ordinary words,
# short enough that what is left after a cut-off echo is caught.
PARTIAL_CHARS = 8


def _base64_inner(data: bytes) -> list[str]:
    """The base64 text `data` encodes to wherever it starts in a larger body: for each offset
    (0, 1, 2 bytes into a 3-byte group), only the characters that hang on `data`'s bits alone,
    in the standard and URL-safe alphabets (RFC 4648 §4, §5). An API that base64-encodes a
    JSON body holding the secret puts it at any offset."""
    forms = []
    for shift, skip in ((0, 0), (1, 2), (2, 3)):
        encoded = base64.b64encode(b"\0" * shift + data).decode().rstrip("=")
        end = len(encoded) - (1 if (shift + len(data)) % 3 else 0)  # the last char mixes with what follows
        inner = encoded[skip:end]
        forms += [inner, inner.replace("+", "-").replace("/", "_")]
    return forms


# Between the bytes of a hex dump: spaces, colons and the like, and `\x` or `0x` before a byte.
_HEX_GAP = r"(?:[\s:,.-]*(?:\\x|0x)?)"


def _hex_pattern(data: bytes) -> re.Pattern[str]:
    """`data` in hex in any case, bytes run together or apart (`6e 66 70`, `6E:66:70`, `\\x6e\\x66`)."""
    return re.compile(_HEX_GAP.join(f"{byte:02x}" for byte in data), re.IGNORECASE)


def secret_forms(secret: str, prefixes: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """(forms matched also in part, forms matched only whole) of `secret` as it could be echoed.

    `prefixes`: text sent in front of the secret in one encoded unit (`"Bearer "` in an
    Authorization header), so the base64 of the whole unit is caught too.
    """
    # Here, not at the top: `html` loads its table of entities on import, and the Pulumi program
    # imports this module (through the Netlify credential) on every run but scrubs only on an error.
    import html

    partial = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        jsonlib.dumps(secret)[1:-1],
        repr(secret)[1:-1],
        repr(secret.encode("utf-8"))[2:-1],
        html.escape(secret),
        "".join(f"\\u{ord(char):04x}" for char in secret),
        "".join(f"%{byte:02x}" for byte in secret.encode("utf-8")),
    }
    whole: set[str] = set()
    for text in {secret, jsonlib.dumps(secret)[1:-1], *(prefix + secret for prefix in prefixes)}:
        data = text.encode("utf-8")
        # The whole encoding, however short the secret (a short password is still one); the
        # characters of an unaligned encoding only when long enough not to match by chance.
        for encoded in (base64.b64encode(data), base64.urlsafe_b64encode(data)):
            whole.update((encoded.decode(), encoded.decode().rstrip("=")))
        whole.update(form for form in _base64_inner(data) if len(form) >= PARTIAL_CHARS)
    return [form for form in partial if form], [form for form in whole if form]


def scrub(text: str, secret: str | None, *, redacted: str = "[secret]", prefixes: Iterable[str] = ()) -> str:
    """`text` with every trace of `secret` replaced by `redacted` (see the module docstring).

    Any run of `PARTIAL_CHARS` or more characters of a textual form of the secret counts,
    compared without regard to case (percent-encoding and escapes vary in case); base64 forms
    count whole (at any offset), hex forms whole in any case and spacing.
    """
    if not secret or not text:
        return text
    partial, whole = secret_forms(secret, prefixes)
    folded = text.lower()
    if len(folded) != len(text):  # "İ".lower() is two characters: keep positions aligned
        folded = "".join(char if len(char.lower()) != 1 else char.lower() for char in text)
    marked = bytearray(len(text))

    def mark(needles: Iterable[str], fold: bool) -> None:
        haystack = folded if fold else text
        for needle in needles:
            needle = needle.lower() if fold else needle
            start = haystack.find(needle)
            while start != -1:
                marked[start : start + len(needle)] = b"\x01" * len(needle)
                start = haystack.find(needle, start + 1)

    size = PARTIAL_CHARS
    grams = {form[i : i + size] for form in partial for i in range(max(1, len(form) - size + 1))}
    mark(grams, fold=True)
    mark(partial, fold=True)
    mark(whole, fold=False)
    for match in _hex_pattern(secret.encode("utf-8")).finditer(text):
        marked[match.start() : match.end()] = b"\x01" * (match.end() - match.start())
    if not any(marked):
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        if marked[index]:
            while index < len(text) and marked[index]:
                index += 1
            out.append(redacted)
        else:
            out.append(text[index])
            index += 1
    return "".join(out)
