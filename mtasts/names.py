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


def ascii_hint(name: str) -> str:
    """A hint for a name that is not ASCII: its A-label form, when it has one."""
    try:
        return f" (write it as {name.encode('idna').decode('ascii')!r})"
    except UnicodeError:
        return ""
