"""Text from outside shown as a reader can trust it: every character visible, the length bounded.

`visible(text)` is the one rule for showing untrusted text (a report's organization, a
domain, a file name) on a terminal or in a page: a character that is not printable
(`str.isprintable`: control characters, CR and LF, ESC and so every escape sequence, the
bidirectional overrides and isolates U+202A–U+202E and U+2066–U+2069, zero-width and
other format characters, unassigned code points) is written as its Python escape
(`\\x1b`, `\\n`, `\\u202e`), and a backslash as `\\\\`, so an escape in the text cannot pass
for one this module wrote. Text past `limit` characters is cut, with a marker saying how
much was left out. What the text means, and HTML escaping, are left to the caller.

`quoted(text)` is the same for text shown between quotes (a TXT record, a policy line), and
`listing(items)` shows the first few of a list someone else chose the length of (the records
at a name, the names of a certificate) and counts the rest.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence

DEFAULT_LIMIT = 200
# Items a listing shows before it counts the rest: texts (records, lines), each up to
# DEFAULT_LIMIT characters; and names (host names, addresses, patterns, a certificate's
# names), of which ordinary deployments list more (GitHub Pages serves from eight addresses,
# Google Workspace names five MX hosts) and which read as before up to ten.
LISTED = 3
NAMES_LISTED = 10


def visible(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """`text` with every unprintable character escaped, cut after `limit` characters."""
    head = clip(text, limit)
    if head.isprintable() and "\\" not in head:
        return head
    return "".join(_escaped(char) for char in head)


def printable(text: str) -> str:
    """`text` with only its unprintable characters escaped, as `visible` escapes them.

    For text that may already hold escapes of its own, which `visible` would double (`\\x1b`
    is the spelling of a backslash the server sent): a line of a report whose messages escaped
    what they quote, or a host name that is a DNS text (`\\032`) in one caller and an API's
    raw string in another. A backslash it leaves may pass for an escape, but cannot move the
    cursor. Printable text, all ordinary text, is returned as it is."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def clip(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and a marker naming how many were cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + _cut(len(text) - limit)


def _cut(count: int) -> str:
    return f"…(+{count:,} characters)"


def quoted(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """`text` in quotes as Python writes a string, cut after `limit` characters.

    `repr` escapes what `visible` escapes, spelt the same way (every character
    `str.isprintable` refuses, and the backslash), and the quote as well, so where a quoted
    record ends is never in doubt whatever it holds. The marker of a cut follows the quotes."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + _cut(len(text) - limit)


def listing(
    items: Sequence[str], shown: int = LISTED, show: Callable[[str], str] = visible, separator: str = ", "
) -> str:
    """The first `shown` of `items` as `show` writes them, and how many more there are.

    For a list whose length a server chose (the TXT records at a name, a certificate's names,
    a domain's MX hosts): thousands of them would otherwise make one line of megabytes. A
    host name or an address read from DNS is printable already (dnspython writes any other
    byte as `\\DDD`), and is listed with `show=str`, so its escapes stay single."""
    head = separator.join(show(item) for item in items[:shown])
    rest = len(items) - shown
    return f"{head} and {rest:,} more" if rest > 0 else head


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
    with _unwritable_as_such():
        sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))


def flush_out() -> None:
    """Flush standard output, where a failure shows for text written in small pieces."""
    with _unwritable_as_such():
        sys.stdout.flush()


class UnwritableOutput(Exception):
    """Standard output refused the text (a full disk, a device's error): said, unlike the
    reader gone away of `... | head` (BrokenPipeError), which ends a command quietly."""


@contextlib.contextmanager
def _unwritable_as_such() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        raise UnwritableOutput(error.strerror or str(error)) from error
