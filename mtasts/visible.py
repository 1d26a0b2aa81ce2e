"""Text from outside shown as a reader can trust it: every character visible, the length bounded.

`visible(text)` is the one rule for showing untrusted text (a report's organization, a
domain, a file name) on a terminal or in a page: a character that is not printable
(`str.isprintable`: control characters, CR and LF, ESC and so every escape sequence, the
bidirectional overrides and isolates U+202A–U+202E and U+2066–U+2069, zero-width and
other format characters, unassigned code points) is written as its Python escape
(`\\x1b`, `\\n`, `\\u202e`), and a backslash as `\\\\`, so an escape in the text cannot pass
for one this module wrote. Text past `limit` characters is cut, with a marker saying how
much was left out. What the text means, and HTML escaping, are left to the caller.
"""

from __future__ import annotations

import sys

DEFAULT_LIMIT = 200


def visible(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """`text` with every unprintable character escaped, cut after `limit` characters."""
    head = clip(text, limit)
    if head.isprintable() and "\\" not in head:
        return head
    return "".join(_escaped(char) for char in head)


def clip(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and a marker naming how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…(+{len(text) - limit:,} characters)"


def _escaped(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char.isprintable():
        return char
    return char.encode("unicode_escape").decode("ascii")


def write_out(text: str) -> None:
    """Write `text` to standard output; what its encoding cannot hold is escaped (`\\u2603`).

    Commands quote what others wrote (a TXT record, a report's organization), and output
    redirected to a file on Windows is written in the locale's code page, or in ASCII under
    PYTHONIOENCODING=ascii: a character it lacks would end the command with UnicodeEncodeError."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))
