"""The `_smtp._tls.<domain>` TXT record (RFC 8460 §3) and its report URIs.

    tlsrpt-record  = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
    tlsrpt-version = %s"v=TLSRPTv1"
    tlsrpt-rua     = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
    tlsrpt-uri     = URI    ; "," and "!" percent-encoded; mailto: or https:

The same readings as `discovery` (its docstring gives the reasons): texts that do not begin
with exactly `v=TLSRPTv1;` (`v=TLSRPTv10; ...`) are discarded before the records are counted
(§3), so one record beside such a near miss is the record, and the near miss only warns (no
sender we know counts it); alone, a near miss fails, as a record meant and not read. Anything
outside the grammar fails, trailing whitespace warns. More than one record: senders send no
reports. Report URI schemes are case-insensitive (RFC 3986 §3.1), so `MAILTO:` only warns
when judged; we publish the lower-case form every sender compares. A `mailto:` URI may carry
RFC 6068 header fields (`?subject=...`): §3 takes any mailto: URI.

A URI is read as RFC 3986 writes one, since a sender's URI parser does: only its characters
(§2), `%` only before two hex digits (§2.1), a numeric port (§3.2.3); `,`, `!` (RFC 8460 §3)
and `;` (the record's delimiter) percent-encoded, and in a `mailto:` address also `#`, `/`,
`&`, `=`, `[` and `]` (RFC 6068 §2), whose domain is a dot-atom without a final dot (RFC 5322
§3.4.1). A URI that encoding would mend is refused with the encoded form as the fix.
An `https:` URL with user information (`user:password@`) fails: the record is public, and
checkdmarc refuses it (RFC 3986 §3.2.1 deprecates a password there); it is never shown back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from urllib.parse import unquote, urlsplit

from mtasts.names import is_hostname, normalize
from mtasts.rules import _tagged, credentials, published
from mtasts.rules.findings import Finding, Severity
from mtasts.visible import listing, quoted, visible

VERSION = "v=TLSRPTv1"
PREFIX = "v=TLSRPTv1;"
RFC = "RFC 8460 §3"

MISSING = "tlsrpt-record-missing"
MULTIPLE = "tlsrpt-record-multiple"
UNRELATED = "tlsrpt-record-unrelated"
PREFIX_CODE = "tlsrpt-record-prefix"
SYNTAX = "tlsrpt-record-syntax"
CHARACTERS = "tlsrpt-record-characters"
RUA_MISSING = "tlsrpt-rua-missing"
RUA_DUPLICATE = "tlsrpt-rua-duplicate"
URI_INVALID = "tlsrpt-uri-invalid"
URI_SCHEME_CASE = "tlsrpt-uri-scheme-case"
URI_USERINFO = "tlsrpt-uri-userinfo"
URI_CREDENTIAL = "tlsrpt-uri-credential"
URI_DUPLICATE = "tlsrpt-uri-duplicate"
WHITESPACE = "tlsrpt-record-whitespace"

# RFC 5321 §4.5.3.1.1: a local part is at most 64 octets (a server may refuse a longer one).
LOCAL_PART_LIMIT = 64
# RFC 793 §3.1, RFC 6335 §6: a TCP port is 1 to 65535 (0 is reserved); RFC 3986's grammar allows any digits.
PORTS = range(1, 65_536)
_HTTPS_PORT = "443"  # RFC 9110 §4.2.2: an https: URI without a port means 443
# RFC 5322 dot-atom local part: what a mailto: report URI carries.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_RUA_SEPARATOR = re.compile(r"[ \t]*,[ \t]*")
# RFC 6068 §2: hfields = "?" hfield *("&" hfield), hfield = hfname "=" hfvalue, of qchar
# (unreserved, pct-encoded and some sub-delims; "," and "!" stay encoded, RFC 8460 §3).
_QCHAR = r"(?:[A-Za-z0-9._~$'()*+:@/?-]|%[0-9A-Fa-f]{2})"
_HFIELDS = re.compile(rf"{_QCHAR}*={_QCHAR}*(?:&{_QCHAR}*={_QCHAR}*)*")
# RFC 3986 §2: unreserved, gen-delims, sub-delims and "%"; any other character is percent-encoded.
_URI_CHARACTER = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PLAIN = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=-]*")  # URI characters, "%" aside
# Percent-encoded although URI characters: RFC 8460 §3 ("," "!"), the record's delimiter (";"),
# and in a mailto: address what RFC 6068 §2 lists ("#" would start a fragment).
_ENCODED = {"https": ",!;", "mailto": ",!;#/&=[]"}
# RFC 3986 §3.2, §3.3: authority (host, numeric port) and the path, query and fragment of a URL.
_PCHAR = r"(?:[A-Za-z0-9._~$&'()*+=:@-]|%[0-9A-Fa-f]{2})"
_HTTPS = re.compile(
    rf"//(?:(?P<userinfo>[^/?#@]*)@)?(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{{1,5}}))?(?:/{_PCHAR}*)*"
    rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
)


def text(uris: Sequence[str]) -> str:
    return f"{PREFIX} rua=" + ",".join(uris)


def counts(txt: str) -> bool:
    return txt.startswith(VERSION)


def _publish(name: str, domain: str = "<domain>") -> str:
    return f'publish TXT "v=TLSRPTv1; rua=mailto:tls-reports@{domain}" at {name}'


def _is_bare_address(value: str) -> bool:
    local, at, host = value.rpartition("@")
    return bool(at) and bool(_LOCAL_PART.fullmatch(local)) and is_hostname(normalize(host))


def with_scheme(value: str) -> str:
    """`value` as a report URI: a bare address gets the `mailto:` it lacks."""
    return f"mailto:{value}" if _is_bare_address(value) else value


def without_userinfo(uri: str, mark: str = "…@") -> str:
    """`uri` as it may be shown: an `https:` URL's user information (a password) replaced by `mark`."""
    scheme, _, rest = uri.partition(":")
    match = _HTTPS.fullmatch(rest) if scheme.lower() == "https" else None
    if match is None or match["userinfo"] is None:
        return uri
    return f"{scheme}:{rest[:2]}{mark}{rest[match.end('userinfo') + 1 :]}"


def _percent_encoded(uri: str, *, per_character: bool = False) -> tuple[str, list[str]]:
    """`uri` with every character a URI must not hold as it is percent-encoded (UTF-8, RFC 3986 §2.1),
    and those characters; in a `mailto:` URI only its address: its header fields have their own grammar.

    Nearly every URI has nothing to encode, which one pattern tells for the whole address;
    `per_character` looks at each character even then (the tests hold both ways equal)."""
    scheme, _, rest = uri.partition(":")
    address, question, hfields = rest.partition("?") if scheme.lower() == "mailto" else (rest, "", "")
    extra = _ENCODED.get(scheme.lower(), "")
    if not per_character and _PLAIN.fullmatch(address) and not any(char in address for char in extra):
        return f"{scheme}:{rest}", []

    def encode(char: str, at: int, text: str) -> str:
        if char == "%":
            return "%25" if _PERCENT.match(text, at) else char
        if _URI_CHARACTER.fullmatch(char) and char not in extra:
            return char
        return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))

    parts = [encode(char, at, address) for at, char in enumerate(address)]
    changed = sorted({char for char, part in zip(address, parts, strict=True) if part != char})
    return f"{scheme}:{''.join(parts)}{question}{hfields}", changed


def uri_findings(uri: str, *, schemes: tuple[str, ...] = ("mailto", "https")) -> list[Finding]:
    """One report URI: `mailto:` with one address, or an `https:` URL (RFC 8460 §3).

    A host part written in Unicode is refused with its A-label (`mtasts.rules.published`).
    """
    scheme, colon, rest = uri.partition(":")
    expected = "mailto:<address> (e.g. mailto:tls-reports@example.com) or an https:// URL"
    if "mailto" in schemes and "https" not in schemes:
        expected = "mailto:<address> (e.g. mailto:reports@example.com)"
    if "mailto" in schemes and _is_bare_address(uri):
        return [
            Finding(
                URI_INVALID,
                Severity.FAIL,
                f"{quoted(uri)} is an address without the mailto: scheme",
                f"mailto:{uri}",
                RFC,
            )
        ]
    if not colon or scheme.lower() not in schemes:
        return [
            Finding(
                URI_INVALID,
                Severity.FAIL,
                f"{quoted(uri)} is not a {' or '.join(schemes)} URI",
                expected,
                RFC,
            )
        ]
    findings = []
    if scheme != scheme.lower():
        findings.append(
            Finding(
                URI_SCHEME_CASE,
                Severity.WARN,
                f"{quoted(uri)} writes its scheme in capitals; schemes are case-insensitive (RFC 3986 §3.1) "
                "but some senders compare them literally",
                f"write it as {_copyable(scheme.lower() + ':' + rest)}",
                RFC,
            )
        )
    if scheme.lower() == "mailto":
        address, question, hfields = rest.partition("?")
        local, at, host = address.rpartition("@")
        valid = bool(at) and bool(_LOCAL_PART.fullmatch(local))
        valid = valid and (not question or bool(_HFIELDS.fullmatch(hfields)))
    else:
        try:
            host = urlsplit(uri).hostname or ""
        except ValueError:  # e.g. an unclosed IPv6 bracket
            host = ""
        valid = rest.startswith("//") and bool(host) and not re.search(r"[,!;\s]", uri)
    encoded, odd = _percent_encoded(uri)
    if valid and not host.isascii():
        form = published.a_label(host)
        fix = (
            f"write it as {_copyable(uri.replace(host, form))}"
            if form
            else "write its host in ASCII (xn--...)"
        )
        findings.append(
            Finding(published.UNICODE_HOST, Severity.FAIL, f"{quoted(uri)} has a Unicode host", fix, RFC)
        )
    elif encoded != uri and not any(
        f.failed and f.code != URI_CREDENTIAL for f in uri_findings(encoded, schemes=schemes)
    ):
        shown = listing(odd, _tagged.CHARACTERS_SHOWN, show=quoted)
        findings.append(
            Finding(
                URI_INVALID,
                Severity.FAIL,
                f"{quoted(uri)} holds {shown}, which a URI may only hold percent-encoded (RFC 3986 §2)",
                f"write it as {encoded}",
                RFC,
            )
        )
    elif not valid or not is_hostname(normalize(host)) or published.printable(uri, "the URI"):
        findings.append(
            Finding(
                URI_INVALID,
                Severity.FAIL,
                f"{quoted(uri)} is not a valid {scheme.lower()}: URI",
                expected,
                RFC,
            )
        )
    elif malformed := published.host(normalize(host), f"the host of {quoted(uri)},"):
        findings += malformed
    elif scheme.lower() == "mailto" and host.endswith("."):
        findings.append(
            Finding(
                URI_INVALID,
                Severity.FAIL,
                f"{quoted(uri)} ends its address's domain with a dot, which an address does not have "
                "(RFC 5322 §3.4.1)",
                f"write it as {scheme.lower()}:{local}@{host.rstrip('.')}{question}{hfields}",
                RFC,
            )
        )
    elif scheme.lower() == "https" and (match := _HTTPS.fullmatch(rest)) and match["userinfo"] is not None:
        findings.append(
            Finding(
                URI_USERINFO,
                Severity.FAIL,
                f"{quoted(without_userinfo(uri))} holds user information before its host (not shown here), "
                "which the public TXT record shows to anyone; RFC 3986 §3.2.1 deprecates a password "
                "there, and checkdmarc refuses the URI",
                f"write it as {without_userinfo(uri, '')}, with no credential in the URL",
                RFC,
            )
        )
    elif scheme.lower() == "mailto" and _octets(local) > LOCAL_PART_LIMIT:
        findings.append(
            Finding(
                URI_INVALID,
                Severity.FAIL,
                f"{quoted(uri)} has a local part (before the '@') of {_octets(local):,} octets; "
                f"mail servers may refuse one over {LOCAL_PART_LIMIT} (RFC 5321 §4.5.3.1.1)",
                f"use an address whose part before the '@' is at most {LOCAL_PART_LIMIT} characters",
                RFC,
            )
        )
    elif scheme.lower() == "https" and (match := _HTTPS.fullmatch(rest)) and not _port_ok(match["port"]):
        findings.append(
            Finding(
                URI_INVALID,
                Severity.FAIL,
                f"{quoted(uri)} names port {match['port']}, which is no TCP port (1 to 65535, RFC 6335 §6)",
                f"write the port the report server listens on, or none for 443: {_without_port(uri)}",
                RFC,
            )
        )
    elif scheme.lower() == "https" and not _HTTPS.fullmatch(rest):
        findings.append(
            Finding(
                URI_INVALID,
                Severity.FAIL,
                f"{quoted(uri)} is not a URL as RFC 3986 §3 writes one (a port, after the host's ':', is "
                "digits only)",
                expected,
                RFC,
            )
        )
    if credentials.holds_token(uri):
        # Not a problem a sender sees, but the TXT record shows the token to anyone, as it would
        # user information (URI_USERINFO). Said after what makes the URI unusable, if anything.
        findings.append(
            Finding(
                URI_CREDENTIAL,
                Severity.FAIL,
                "a report URI holds a part shaped like a Netlify, GitHub or GitLab token (not shown "
                "here), which the public TXT record shows to anyone",
                "take the token out of the URI, and revoke it if the record was ever published",
                RFC,
            )
        )
    return findings


def _copyable(uri: str) -> str:
    """A URI a fix proposes, escaped (`mtasts.visible`) but not cut: it is for copying, and the
    record's size bounds it."""
    return visible(uri, len(uri))


def _octets(local: str) -> int:
    """A local part's length as the server receives it: percent-encodings decoded (RFC 6068 §2)."""
    return len(unquote(local).encode("utf-8"))


def _port_ok(port: str | None) -> bool:
    return port is None or int(port) in PORTS


def _without_port(uri: str) -> str:
    scheme, _, rest = uri.partition(":")
    match = _HTTPS.fullmatch(rest)
    if match is None or match["port"] is None:
        return uri
    return f"{scheme}:{rest[: match.start('port') - 1]}{rest[match.end('port') :]}"


def comparable(uri: str) -> str:
    """`uri` as senders compare it, so two spellings of one address count as one: the scheme
    and a host in lower case (RFC 3986 §6.2.2.1; a domain is case-insensitive, RFC 5321 §2.4,
    a local part is not), hex digits of percent-encodings in upper case, and an https: URL's
    default port and empty path left out (RFC 3986 §6.2.3)."""
    scheme, _, rest = uri.partition(":")
    rest = re.sub(r"%[0-9A-Fa-f]{2}", lambda m: m.group(0).upper(), rest)
    if scheme.lower() == "mailto":
        address, question, hfields = rest.partition("?")
        local, at, host = address.rpartition("@")
        return f"mailto:{local}{at}{host.lower()}{question}{hfields}"
    match = _HTTPS.fullmatch(rest) if scheme.lower() == "https" else None
    if match is None:
        return f"{scheme.lower()}:{rest}"
    port = "" if match["port"] in (None, _HTTPS_PORT) else f":{match['port']}"
    user = "" if match["userinfo"] is None else match["userinfo"] + "@"
    tail = rest[match.end("port") if match["port"] is not None else match.end("host") :] or "/"
    return f"https://{user}{match['host'].lower()}{port}{tail}"


def repeats(uris: Sequence[str]) -> dict[int, str]:
    """Each entry that names a URI listed before it (as `comparable` reads them), and that URI."""
    first: dict[str, str] = {}
    repeated = {}
    for index, uri in enumerate(uris):
        key = comparable(uri)
        if key in first:
            repeated[index] = first[key]
        else:
            first[key] = uri
    return repeated


@dataclass(frozen=True)
class Record:
    uris: tuple[str, ...]
    findings: tuple[Finding, ...]


def too_large(txt: str, name: str = "_smtp._tls") -> Finding | None:
    """The record's text too long for one DNS record (RFC 1035 §3.3), for the record read and
    for the `tlsRpt` setting that writes it."""
    return published.txt_size(txt, f"the {name} TXT record", "list fewer or shorter report URIs")


def parse(txt: str, name: str = "_smtp._tls") -> Record:
    """Judge one text that `counts`; `uris` is empty when a strict sender sends no reports."""
    publish = _publish(name)
    if not txt.startswith(PREFIX):
        seen = f"{quoted(txt)} does not begin with 'v=TLSRPTv1;': senders discard it"
        return Record((), (Finding(PREFIX_CODE, Severity.FAIL, seen, publish, RFC),))
    if size := too_large(txt, name):
        return Record((), (size,))  # no sender reads it: the record cannot be served
    tagged = _tagged.split(txt, VERSION, free_value=("rua",))
    findings = _tagged.grammar_findings(
        tagged,
        txt,
        codes=(CHARACTERS, SYNTAX, WHITESPACE),
        fix=publish,
        rfc=RFC,
        consequence="a sender parsing by the grammar sends no reports",
    )
    ruas = tagged.values("rua")
    if not ruas and not tagged.errors:
        findings.append(Finding(RUA_MISSING, Severity.FAIL, f"{quoted(txt)} has no rua field", publish, RFC))
    if len(ruas) > 1:
        findings.append(
            Finding(
                RUA_DUPLICATE,
                Severity.FAIL if len(set(ruas)) > 1 else Severity.WARN,
                f"{quoted(txt)} has {len(ruas)} rua fields; senders differ on which one counts",
                "keep one rua field listing every URI, separated by commas",
                RFC,
            )
        )
    uris = tuple(_RUA_SEPARATOR.split(ruas[0])) if ruas else ()
    for uri in uris:
        findings += uri_findings(uri)
    for index, earlier in repeats(uris).items():
        findings.append(
            Finding(
                URI_DUPLICATE,
                Severity.WARN,
                f"rua lists {quoted(without_userinfo(uris[index]))}, the address of "
                f"{quoted(without_userinfo(earlier))} again; a sender may send each report twice",
                "list each URI once",
                RFC,
            )
        )
    failed = any(finding.failed for finding in findings)
    return Record(() if failed else uris, tuple(findings))


@dataclass(frozen=True)
class Reporting:
    uris: tuple[str, ...]
    record: str | None
    findings: tuple[Finding, ...]


def judge(texts: Sequence[str], name: str = "_smtp._tls", domain: str = "<domain>") -> Reporting:
    """All TXT texts at `_smtp._tls.<domain>`. No record only warns: reporting is optional,
    but without it nobody hears that TLS to the MX hosts fails."""
    records = [txt for txt in texts if txt.startswith(PREFIX)]
    near = [txt for txt in texts if counts(txt) and not txt.startswith(PREFIX)]
    others = [txt for txt in texts if not counts(txt)]
    unrelated: tuple[Finding, ...] = (
        (
            Finding(
                UNRELATED,
                Severity.WARN,
                f"{name} also holds TXT records that do not start with 'v=TLSRPTv1', which senders discard: "
                + listing(others, show=quoted),
                f"remove them from {name} unless they are meant for something else",
                RFC,
            ),
        )
        if others
        else ()
    )
    if not records and near:
        findings = _tagged.first_few(near, lambda txt: parse(txt, name).findings, partial(_more_near, name))
        return Reporting((), None, (*unrelated, *findings))
    unrelated += tuple(
        _tagged.first_few(
            near,
            lambda txt: [
                Finding(
                    PREFIX_CODE,
                    Severity.WARN,
                    f"{name} also holds {quoted(txt)}, which does not begin with 'v=TLSRPTv1;': senders "
                    "discard it before counting records",
                    f"delete {quoted(txt)} at {name}",
                    RFC,
                    subject=txt,
                )
            ],
            partial(_more_near, name, severity=Severity.WARN),
        )
    )
    if not records:
        return Reporting((), None, (*unrelated, missing(name, domain)))
    if len(records) > 1:
        finding = Finding(
            MULTIPLE,
            Severity.FAIL,
            f"{name} has {len(records):,} 'v=TLSRPTv1' records ({listing(records, show=quoted)}): "
            "senders send no reports",
            f"keep exactly one record at {name}, listing every address in its rua",
            RFC,
        )
        return Reporting((), None, (*unrelated, finding))
    record = parse(records[0], name)
    return Reporting(record.uris, records[0], (*unrelated, *record.findings))


def _more_near(name: str, texts: Sequence[str], severity: Severity = Severity.FAIL) -> Finding:
    """The near misses past the first few (each of which has a finding), in one finding."""
    return Finding(
        PREFIX_CODE,
        severity,
        f"{name} holds {len(texts):,} more texts like these, beginning with 'v=TLSRPTv1' but not with "
        "'v=TLSRPTv1;': senders discard them",
        f"delete them at {name}",
        RFC,
    )


def missing(name: str, domain: str = "<domain>") -> Finding:
    """No record counts at the name: reporting is optional, so this only warns (RFC 8460 §3)."""
    seen = f"{name} has no 'v=TLSRPTv1' record: senders send no reports, so failures go unseen"
    return Finding(MISSING, Severity.WARN, seen, _publish(name, domain), RFC)


def multiple_records(name: str, count: int) -> Finding:
    return Finding(
        MULTIPLE,
        Severity.FAIL,
        f"{name} would hold {count} 'v=TLSRPTv1' records: senders send no reports when there is "
        "more than one",
        f"delete all but one of them at {name}",
        RFC,
    )
