"""`scrub` over random tokens buried in random bodies: base64 at every offset of a 3-byte group
(an API that base64-encodes a JSON body holding the token), hex in either case and with the
separators dumps use. Leaks are found here from the encoded body itself, not from the
scrubber's own list of forms."""

from __future__ import annotations

import base64
import json
import re

from hypothesis import example, given
from hypothesis import strategies as st

from components.netlify.credential import PARTIAL_TOKEN_CHARS, REDACTED, scrub

tokens = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=16, max_size=64)
padding = st.binary(max_size=40)
WINDOW = 2 * PARTIAL_TOKEN_CHARS


def token_span_in_base64(before: int, size: int) -> tuple[int, int]:
    """The base64 characters made from token bits alone, for a token `before` bytes into the data."""
    return -(-before * 8 // 6), (before + size) * 8 // 6


def windows(text: str, size: int = WINDOW) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


@given(token=tokens, before=padding, after=padding, urlsafe=st.booleans())
@example(token="nfp_Hx7Kq2ZLm9Pw4Rt8Vb3Nc6Yd1Fg5Js0A", before=b"x", after=b"", urlsafe=False)
@example(token="nfp_Hx7Kq2ZLm9Pw4Rt8Vb3Nc6Yd1Fg5Js0A", before=b"xy", after=b"}", urlsafe=True)
def test_a_token_inside_a_base64_body_is_scrubbed_at_any_offset(
    token: str, before: bytes, after: bytes, urlsafe: bool
) -> None:
    data = before + token.encode() + after
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    body = encode(data).decode()
    start, end = token_span_in_base64(len(before), len(token.encode()))
    scrubbed = scrub(f"Netlify said: {body}", token)
    assert REDACTED in scrubbed
    leaked = [piece for piece in windows(body[start:end]) if piece in scrubbed]
    assert not leaked, (scrubbed, leaked)


@given(token=tokens, before=st.text(max_size=20), after=st.text(max_size=20))
def test_a_base64_json_body_holding_the_token_is_scrubbed(token: str, before: str, after: str) -> None:
    body = json.dumps({"note": before, "authorization": f"Bearer {token}", "rest": after}).encode()
    encoded = base64.b64encode(body).decode()
    offset = body.index(json.dumps(token)[1:-1].encode())
    start, end = token_span_in_base64(offset, len(json.dumps(token)[1:-1].encode()))
    scrubbed = scrub(encoded, token)
    assert not [piece for piece in windows(encoded[start:end]) if piece in scrubbed], scrubbed


@given(
    token=tokens,
    before=padding,
    separator=st.sampled_from(["", " ", ":", "-", "\n", "  ", ", "]),
    prefix=st.sampled_from(["", "\\x", "0x"]),
    upper=st.booleans(),
)
def test_a_token_in_hex_is_scrubbed_in_any_case_and_spacing(
    token: str, before: bytes, separator: str, prefix: str, upper: bool
) -> None:
    dump = separator.join(
        f"{prefix}{byte:02X}" if upper else f"{prefix}{byte:02x}" for byte in before + token.encode()
    )
    scrubbed = scrub(f"bytes: {dump} end", token)
    assert scrubbed.endswith(" end")
    digits = re.sub(r"[^0-9a-f]", "", re.sub(r"\\x|0x|\[token\]", " ", scrubbed.lower()))
    assert not windows(token.encode().hex(), WINDOW) & windows(digits, WINDOW), scrubbed


def test_text_without_the_token_is_left_alone_in_base64_and_hex() -> None:
    token = "nfp_Hx7Kq2ZLm9Pw4Rt8Vb3Nc6Yd1Fg5Js0A"
    other = base64.b64encode(b'{"message": "not found", "id": "6e66705f"}').decode()
    assert scrub(other, token) == other
    assert scrub("sha 6E 66 70 5F 00 11", token) == "sha 6E 66 70 5F 00 11"


def test_a_short_secret_is_scrubbed_whole_in_base64_and_hex() -> None:
    # The scrubber serves other secrets too (a mailbox password), which may be short.
    secret = "pa55w"
    encoded = base64.b64encode(secret.encode()).decode()
    assert scrub(f"AUTH PLAIN {encoded}", secret) == f"AUTH PLAIN {REDACTED}"
    assert scrub("said " + secret.encode().hex().upper(), secret) == f"said {REDACTED}"
