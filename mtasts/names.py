"""Host-name syntax shared by the config, the policy parser and `verify`.

Only LDH host names (RFC 1123) in their ASCII form are accepted: internationalised names
must be given as A-labels (`xn--...`), because that is what senders compare.
"""

from __future__ import annotations

import re

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_NAME_LENGTH = 253


def normalize(name: str) -> str:
    """Lower-case a name and drop one trailing dot (DNS names are case-insensitive)."""
    name = name.strip().lower()
    return name[:-1] if name.endswith(".") else name


def is_hostname(name: str) -> bool:
    """True for an ASCII host name with at least two labels and a non-numeric top label."""
    if not name or len(name) > MAX_NAME_LENGTH or name != name.lower():
        return False
    labels = name.split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels) and not labels[-1].isdigit()


# Characters no Unicode label holds, whatever IDNA version a sender follows: controls,
# surrogates, private-use and unassigned code points, spaces and separators.
_NEVER_IN_A_LABEL = {"Cc", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"}


def malformed_a_label(name: str) -> str | None:
    """The first label of `name` that claims to be an A-label (`xn--`) and is no Punycode of a Unicode label.

    An A-label is the Punycode form of a label with non-ASCII characters (RFC 5890 §2.3.2.1,
    RFC 3492): one that does not decode, decodes to plain ASCII or to characters no label
    holds, or does not encode back to itself names nothing a registry hands out, and is a
    typo or a truncated copy. Labels IDNA 2008 disallows but DNS serves (emoji) are valid here.
    """
    for label in name.split("."):
        if label[:4].lower() != "xn--" or len(label) > 63 or not label.isascii():
            continue  # not an A-label's shape: what judges host names refuses it
        import unicodedata  # here: only an `xn--` label needs it, and the program starts without it

        body = label[4:].lower()
        try:
            decoded = body.encode("ascii").decode("punycode")
        except UnicodeError:
            return label
        if (
            decoded.isascii()
            or any(unicodedata.category(char) in _NEVER_IN_A_LABEL for char in decoded)
            or decoded.encode("punycode").decode("ascii") != body
            or not _as_idna_makes_it(decoded)
        ):
            return label
    return None


def _as_idna_makes_it(decoded: str) -> bool:
    """Whether IDNA would produce a label that decodes to `decoded`: no format character (Cf: a
    soft hyphen, a bidi override, which UTS #46 deletes or refuses), NFC (RFC 5891 §5.2), and a
    form UTS #46 maps to itself (an upper-case Ü, as in `xn--BCHER-2pa`, maps to ü; fullwidth
    letters to ASCII). Emoji, which UTS #46 does not map, stay valid."""
    import unicodedata

    if any(unicodedata.category(char) == "Cf" for char in decoded):
        return False
    return unicodedata.normalize("NFC", decoded) == decoded and _uts46(decoded) in (decoded, None)


def _uts46(text: str) -> str | None:
    """`text` after UTS #46 mapping, or None where it refuses a code point (an emoji)."""
    import idna  # here: only an `xn--` label needs its tables

    try:
        return str(idna.uts46_remap(text, std3_rules=False, transitional=False))
    except idna.IDNAError:
        return None


def proper_a_label(label: str) -> str | None:
    """The A-label IDNA gives for what a malformed `xn--` label decodes to, when there is one."""
    try:
        decoded = label[4:].lower().encode("ascii").decode("punycode")
        mapped = _uts46(decoded)
        if mapped is None or mapped.isascii():
            return None
        import idna

        return str(idna.encode(mapped, uts46=True).decode("ascii"))
    except (UnicodeError, ValueError):
        return None


A_LABEL_FIX = "write the A-label your registrar shows, or the name in Unicode to be shown its A-label"


def ascii_hint(name: str) -> str:
    """A hint for a name that is not ASCII: its A-label form, when it has one."""
    try:
        return f" (write it as {name.encode('idna').decode('ascii')!r})"
    except UnicodeError:
        return ""
