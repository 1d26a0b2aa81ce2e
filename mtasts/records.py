"""DNS records as values, and the grammar of the two TXT records we publish.

A record knows its full name, type, value and ttl, how it looks in a zone file and how
Cloudflare wants its `content`. Components and `render` print these; they never rebuild
a value themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mtasts.rules import discovery, mail, published, tlsrpt

_TXT_CHUNK = published.TXT_STRING_LIMIT  # one character-string in a TXT record holds at most 255 octets


@dataclass(frozen=True)
class DnsRecord:
    """One resource record. `key` is a stable kebab-case name for the Pulumi resource;
    `former_keys` are the names it had before a rename (the resource carries them as aliases,
    so a rename updates the live record instead of replacing it)."""

    key: str
    name: str
    type: str
    value: str
    ttl: int
    priority: int | None = None
    former_keys: tuple[str, ...] = ()

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
    return discovery.text(policy_id)


def tls_rpt_text(uris: tuple[str, ...]) -> str:
    """`_smtp._tls` TXT text (RFC 8460 §3)."""
    return tlsrpt.text(uris)


def spf_text(includes: tuple[str, ...], qualifier: str = "~all") -> str:
    """One SPF record for every sender of a name (RFC 7208 §3.2: never two `v=spf1` records)."""
    return " ".join(["v=spf1", *(f"include:{name}" for name in includes), qualifier])


def dmarc_text(policy: str, rua: tuple[str, ...] = ()) -> str:
    """`_dmarc` TXT text (RFC 7489 §6.3): `v=DMARC1; p=<policy>[; rua=<uri>,...]`."""
    return f"v=DMARC1; p={policy}" + (f"; rua={','.join(rua)}" if rua else "")


def proton_verification_text(code: str) -> str:
    return mail.PROTON_VERIFICATION_PREFIX + code


def txt_kind(text: str) -> str | None:
    """`sts`, `tls-rpt`, `dmarc`, `spf`, `proton-verification` or None for any other TXT text.

    Which texts count as which record is each record's own rule (`mtasts.rules`); a name may
    hold only one of each but the verification.
    """
    if discovery.counts(text):
        return "sts"
    if tlsrpt.counts(text):
        return "tls-rpt"
    if mail.is_dmarc(text):
        return "dmarc"
    if mail.is_spf(text):
        return "spf"
    if mail.is_proton_verification(text):
        return "proton-verification"
    return None
