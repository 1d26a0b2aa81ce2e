"""DNS records as values, and the grammar of the two TXT records we publish.

A record knows its full name, type, value and ttl, how it looks in a zone file and how
Cloudflare wants its `content`. Components and `render` print these; they never rebuild
a value themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mtasts.config import is_report_uri

_TXT_CHUNK = 255  # one character-string in a TXT record holds at most 255 octets
_STS_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")


@dataclass(frozen=True)
class DnsRecord:
    """One resource record. `key` is a stable kebab-case name for the Pulumi resource."""

    key: str
    name: str
    type: str
    value: str
    ttl: int
    priority: int | None = None

    @property
    def content(self) -> str:
        """The record data without priority, as Cloudflare's `content` takes it.

        TXT data is quoted (and split into 255-octet strings): Cloudflare stores TXT
        content quoted, and an unquoted value shows a diff after every refresh.
        """
        if self.type == "TXT":
            return quote_txt(self.value)
        return self.value

    @property
    def rdata(self) -> str:
        return f"{self.priority} {self.content}" if self.priority is not None else self.content

    def zone_line(self) -> str:
        rdata = self.rdata
        if self.type in {"MX", "CNAME"} and not self.value.endswith("."):
            rdata += "."  # a target name without its final dot is relative in a zone file
        return f"{self.name}.\t{self.ttl}\tIN\t{self.type}\t{rdata}"


def quote_txt(text: str) -> str:
    chunks = [text[i : i + _TXT_CHUNK] for i in range(0, len(text), _TXT_CHUNK)] or [""]
    return " ".join('"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"' for chunk in chunks)


_QUOTED_STRINGS = re.compile(r'^\s*(?:"(?:[^"\\]|\\.)*"\s*)+$')
_QUOTED_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")


def unquote_txt(content: str) -> str:
    """The text of a TXT record from Cloudflare's `content`: the inverse of `quote_txt`.

    `"v=STSv1; " "id=1"` becomes `v=STSv1; id=1` (character-strings are concatenated, as
    RFC 8461 §3.1 and RFC 8460 §3 read them). Content that is not a sequence of quoted
    strings, such as a record typed into the dashboard without quotes, is returned as is.
    """
    if not _QUOTED_STRINGS.match(content):
        return content
    return "".join(_ESCAPE.sub(r"\1", chunk) for chunk in _QUOTED_STRING.findall(content))


def discovery_text(policy_id: str) -> str:
    """`_mta-sts` TXT text (RFC 8461 §3.1)."""
    return f"v=STSv1; id={policy_id}"


def tls_rpt_text(uris: tuple[str, ...]) -> str:
    """`_smtp._tls` TXT text (RFC 8460 §3)."""
    return "v=TLSRPTv1; rua=" + ",".join(uris)


def spf_text(includes: tuple[str, ...], qualifier: str = "~all") -> str:
    """One SPF record for every sender of a name (RFC 7208 §3.2: never two `v=spf1` records)."""
    return " ".join(["v=spf1", *(f"include:{name}" for name in includes), qualifier])


def dmarc_text(policy: str, rua: tuple[str, ...] = ()) -> str:
    """`_dmarc` TXT text (RFC 7489 §6.3): `v=DMARC1; p=<policy>[; rua=<uri>,...]`."""
    return f"v=DMARC1; p={policy}" + (f"; rua={','.join(rua)}" if rua else "")


def proton_verification_text(code: str) -> str:
    return f"protonmail-verification={code}"


# What kind of TXT record a text is, for the records that must be unique at their name.
TXT_KINDS = (
    ("sts", "v=STSv1"),
    ("tls-rpt", "v=TLSRPTv1"),
    ("dmarc", "v=DMARC1"),
    ("proton-verification", "protonmail-verification="),
)


def txt_kind(text: str) -> str | None:
    """`sts`, `tls-rpt`, `dmarc`, `spf`, `proton-verification` or None for any other TXT text.

    SPF's version tag is case-insensitive (RFC 7208 §4.5); the others are compared as the
    RFCs spell them (RFC 8461 §3.1, RFC 8460 §3, RFC 7489 §6.4).
    """
    text = text.strip()
    lowered = text.lower()
    if lowered == "v=spf1" or lowered.startswith("v=spf1 "):
        return "spf"
    return next((kind for kind, prefix in TXT_KINDS if text.startswith(prefix)), None)


def _fields(text: str) -> list[tuple[str, str]]:
    fields = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, equals, value = part.partition("=")
        fields.append((name.strip(), value.strip() if equals else ""))
    return fields


def parse_discovery(text: str) -> str:
    """Return the id of a `v=STSv1` TXT text, or raise ValueError saying what is wrong."""
    fields = _fields(text)
    if not fields or fields[0] != ("v", "STSv1") or not text.startswith("v=STSv1"):
        raise ValueError(f"{text!r} does not start with 'v=STSv1'")
    ids = [value for name, value in fields if name == "id"]
    if len(ids) != 1:
        raise ValueError(f"{text!r} must have exactly one 'id' field")
    if not _STS_ID.match(ids[0]):
        raise ValueError(f"id {ids[0]!r} must be 1–32 letters and digits")
    return ids[0]


def parse_tls_rpt(text: str) -> tuple[str, ...]:
    """Return the `rua` URIs of a `v=TLSRPTv1` TXT text, or raise ValueError."""
    fields = _fields(text)
    if not fields or fields[0] != ("v", "TLSRPTv1") or not text.startswith("v=TLSRPTv1"):
        raise ValueError(f"{text!r} does not start with 'v=TLSRPTv1'")
    ruas = [value for name, value in fields if name == "rua"]
    if len(ruas) != 1:
        raise ValueError(f"{text!r} must have exactly one 'rua' field")
    uris = tuple(uri.strip() for uri in ruas[0].split(","))
    bad = [uri for uri in uris if not is_report_uri(uri)]
    if bad:
        raise ValueError(f"rua URIs must be mailto: or https:, found {', '.join(map(repr, bad))}")
    return uris
