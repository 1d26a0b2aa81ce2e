"""Every value is clean before it is published: in DNS, in the policy file, as a repository name.

- Printable ASCII only: no control character, NUL, CR or LF, space or non-ASCII character
  reaches a record, the policy file, or a file or name in the repository. A host part
  written in Unicode (a domain, the domain of a `mailto:` address, the host of an `https:`
  URL) is refused with its IDNA A-label as the fix (UTS #46 processing, as browsers and
  mail clients apply it): senders compare A-labels, and we publish what they compare
  rather than guess for the user.
- DNS limits (RFC 1035 §2.3.4): 253 octets per name in text form, 63 per label, for every
  name the stack derives from the domain, the longest included.
- TXT record size (RFC 1035 §3.3): the text is cut into character-strings of at most 255
  octets, each after a length octet, and the record data's length (RDLENGTH, §3.2.1) is 16
  bits: at most 65,535 octets in all.
- GitHub repository names: at most 100 of letters, digits, `.`, `-`, `_`, not `.`/`..`, not
  ending in `.git`. The default name is shortened deterministically (a digest of the domain
  keeps two long domains apart) when the domain makes it too long.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from mtasts.names import A_LABEL_FIX, malformed_a_label
from mtasts.rules.findings import Finding, Severity

NAME_LIMIT = 253
LABEL_LIMIT = 63
REPOSITORY_LIMIT = 100
REPOSITORY_PREFIX = "mta-sts-"

UNPRINTABLE = "value-unprintable"
UNICODE_HOST = "host-unicode"
MALFORMED_A_LABEL = "host-a-label-malformed"
NAME_TOO_LONG = "dns-name-too-long"
LABEL_TOO_LONG = "dns-label-too-long"
REPOSITORY_NAME = "repository-name"
TXT_TOO_LARGE = "txt-record-too-large"

TXT_STRING_LIMIT = 255  # RFC 1035 §3.3: a character-string is a length octet and up to 255 octets
TXT_DATA_LIMIT = 65_535  # RFC 1035 §3.2.1: RDLENGTH is a 16-bit count of the record data's octets

_PRINTABLE = re.compile(r"[\x21-\x7e]*")
_REPOSITORY = re.compile(r"[A-Za-z0-9._-]{1,100}")


def a_label(host: str) -> str | None:
    """The IDNA A-label form of a host written in Unicode, or None when it has none."""
    labels = host.strip().rstrip(".").split(".")
    try:
        # Label by label: ASCII labels (`_spf`, `*`) stay as written, IDNA only converts the others.
        return ".".join(label.lower() if label.isascii() else _idna_a_label(label) for label in labels)
    except (UnicodeError, ValueError):  # idna.IDNAError is a UnicodeError
        return None


def _idna_a_label(label: str) -> str:
    # Imported here, not at the top: loading idna's UTS #46 tables costs the program about a
    # millisecond of start-up, and only a label written in Unicode (which is refused) needs them.
    import idna

    return idna.encode(label, uts46=True).decode("ascii")


def printable(value: str, what: str) -> list[Finding]:
    """Printable ASCII with no space: what may reach DNS, the policy file or the repository."""
    if _PRINTABLE.fullmatch(value):
        return []
    bad = sorted({char for char in value if not _PRINTABLE.fullmatch(char)})
    shown = ", ".join(
        "a space" if char == " " else char.encode("unicode_escape").decode("ascii") for char in bad
    )
    return [
        Finding(
            UNPRINTABLE,
            Severity.FAIL,
            f"{what} holds {shown}: only printable ASCII without spaces is published",
            "remove them",
            subject=value,
        )
    ]


def host(value: str, what: str) -> list[Finding]:
    """A host part: ASCII with well-formed A-labels, or refused with the A-label to write instead."""
    if value.isascii():
        if label := malformed_a_label(value):
            return [
                Finding(
                    MALFORMED_A_LABEL,
                    Severity.FAIL,
                    f"{what} {value} has the label {label}, which is no A-label: "
                    "it is not the Punycode of a Unicode label",
                    A_LABEL_FIX,
                    "RFC 5890 §2.3.2.1",
                    subject=value,
                )
            ]
        return printable(value, what)
    form = a_label(value)
    return [
        Finding(
            UNICODE_HOST,
            Severity.FAIL,
            f"{what} {value} is written in Unicode",
            f"write it as {form}" if form else "write it in ASCII (its A-label, xn--...)",
            "RFC 5890 §2.3.2.1",
            subject=value,
        )
    ]


def names(domain: str, prefixes: Iterable[str]) -> list[Finding]:
    """Every name `<prefix>.<domain>` within the DNS limits (RFC 1035 §2.3.4)."""
    findings = []
    for prefix in prefixes:
        name = f"{prefix}.{domain}" if prefix else domain
        long_labels = [label for label in name.split(".") if len(label) > LABEL_LIMIT]
        if long_labels:
            findings.append(
                Finding(
                    LABEL_TOO_LONG,
                    Severity.FAIL,
                    f"the name {name} has a label of {len(long_labels[0])} characters",
                    f"use a domain whose labels have at most {LABEL_LIMIT} characters",
                    "RFC 1035 §2.3.4",
                    subject=name,
                )
            )
        elif len(name) > NAME_LIMIT:
            findings.append(
                Finding(
                    NAME_TOO_LONG,
                    Severity.FAIL,
                    f"the name {name} would have {len(name)} characters, more than DNS allows ({NAME_LIMIT})",
                    f"use a domain of at most {NAME_LIMIT - len(prefix) - 1} characters",
                    "RFC 1035 §2.3.4",
                    subject=name,
                )
            )
    return findings


def txt_octets(text: str) -> int:
    """The octets of a TXT record's data holding `text`: every 255-octet piece and its length octet."""
    octets = len(text.encode("utf-8"))
    return octets + max(1, -(-octets // TXT_STRING_LIMIT))


def txt_size(text: str, what: str, fix: str) -> Finding | None:
    """`what` (`the _smtp._tls TXT record`) fails when its data would not fit a DNS record."""
    octets = txt_octets(text)
    if octets <= TXT_DATA_LIMIT:
        return None
    seen = f"{what} would hold {octets:,} octets of data; a DNS record holds at most {TXT_DATA_LIMIT:,}"
    return Finding(TXT_TOO_LARGE, Severity.FAIL, seen, fix, "RFC 1035 §3.3")


def repository(name: str) -> list[Finding]:
    if _REPOSITORY.fullmatch(name) and name not in {".", ".."} and not name.lower().endswith(".git"):
        return []
    return [
        Finding(
            REPOSITORY_NAME,
            Severity.FAIL,
            f"{name!r} is not a valid GitHub repository name",
            f"use up to {REPOSITORY_LIMIT} letters, digits, '.', '-' or '_', not ending in .git "
            "(e.g. mta-sts-example-com)",
            subject=name,
        )
    ]


def default_repository(domain: str) -> str:
    """`mta-sts-<domain with dashes>`, cut to GitHub's limit with a digest of the whole domain."""
    name = REPOSITORY_PREFIX + domain.replace(".", "-")
    if len(name) <= REPOSITORY_LIMIT:
        return name
    digest = hashlib.sha256(domain.encode("ascii")).hexdigest()[:10]
    return name[: REPOSITORY_LIMIT - len(digest) - 1].rstrip("-.") + "-" + digest
