"""The `proton` setting: Proton Mail's records, as its dashboard lists them for a custom domain."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mtasts.config.settings import DmarcPolicy, ProtonSettings
from mtasts.config.values import (
    choice,
    expected,
    key_name,
    listed_twice,
    reason,
    show,
    string_list,
    unknown_key,
)
from mtasts.constants import PROTON_SPF_INCLUDE
from mtasts.names import is_hostname, normalize
from mtasts.records import dmarc_text
from mtasts.rules import mail, published, tlsrpt

PROTON_KEYS = ("verification", "dkim", "dmarc", "dmarcRua", "spfIncludes")
# RFC 7208 §4.6.4: at most 10 DNS-querying terms; Proton's include already costs several.
MAX_SPF_INCLUDES = 5
_VERIFICATION = re.compile(r"[A-Za-z0-9_-]{1,200}")


def proton(value: Any, problems: list[str]) -> ProtonSettings | None:
    """The `proton` object; None when unset (Proton records are off by default)."""
    if value is None or value == {} or value == "":
        return None
    if not isinstance(value, Mapping):
        problems.append(
            f"'proton' {show(value)} is not accepted; expected an object with verification, dkim "
            "and optionally dmarc, dmarcRua, spfIncludes (set them with "
            "`scripts/pulumi config set --path proton.verification <code>`)"
        )
        return None
    count = len(problems)
    problems += [unknown_key(key, PROTON_KEYS, "proton.") for key in value if key not in PROTON_KEYS]
    verification = _verification(value.get("verification"), problems)
    dkim = _dkim(value.get("dkim"), problems)
    dmarc = choice(value, "dmarc", DmarcPolicy, DmarcPolicy.QUARANTINE, problems, prefix="proton.")
    rua = _dmarc_rua(value.get("dmarcRua"), problems)
    includes = _spf_includes(value.get("spfIncludes"), problems)
    if len(problems) > count:
        return None
    return ProtonSettings(
        verification=verification, dkim=dkim, dmarc=dmarc, dmarc_rua=rua, spf_includes=includes
    )


def _verification(value: Any, problems: list[str]) -> str:
    if isinstance(value, str) and mail.is_proton_verification(value):
        value = value.strip()[len(mail.PROTON_VERIFICATION_PREFIX) :]  # the whole record text pasted
    if isinstance(value, str) and (placeholder := mail.placeholder(value.strip(), "the code", "Verify")):
        problems.append(f"'proton.verification': {placeholder.seen}; {placeholder.fix}")
        return ""
    if not isinstance(value, str) or not _VERIFICATION.fullmatch(value.strip()):
        problems.append(
            f"'proton.verification' {show(value)} is not accepted; expected the code from "
            f"{mail.PROTON_DASHBOARD} → Verify, the part after protonmail-verification="
        )
        return ""
    return value.strip()


def _dkim(value: Any, problems: list[str]) -> tuple[tuple[str, str], ...]:
    example = "protonmail: protonmail.domainkey.d<code>.domains.proton.ch"
    if not isinstance(value, Mapping):
        problems.append(
            f"'proton.dkim' {show(value)} is not accepted; expected a mapping of the selectors "
            f"{', '.join(mail.PROTON_DKIM_SELECTORS)} to the CNAME targets {mail.PROTON_DASHBOARD} → DKIM "
            f"shows (e.g. {example})"
        )
        return ()
    problems += [f"'proton.dkim': {f.seen}; {f.fix}" for f in mail.dkim_selectors(value, key_name)]
    targets = []
    for selector in mail.PROTON_DKIM_SELECTORS:
        if selector not in value:
            continue
        target = value[selector]
        if isinstance(target, str) and (
            placeholder := mail.placeholder(target.strip(), "the target", "DKIM")
        ):
            problems.append(f"'proton.dkim.{selector}': {placeholder.seen}; {placeholder.fix}")
            continue
        if isinstance(target, str) and (unicode := published.host(normalize(target), "the target")):
            problems.append(f"'proton.dkim.{selector}': {unicode[0].seen}; {unicode[0].fix}")
            continue
        if not isinstance(target, str) or not is_hostname(normalize(target)):
            problems.append(
                f"'proton.dkim.{selector}' {show(target)} is not accepted; expected a host name "
                f"such as {selector}.domainkey.d<code>.domains.proton.ch ({mail.PROTON_DASHBOARD} → DKIM)"
            )
            continue
        targets.append((selector, normalize(target)))
    return tuple(targets)


def _dmarc_rua(value: Any, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    uris = string_list(
        value, "proton.dmarcRua", "mailto:dmarc-reports@example.com", problems, tlsrpt.with_scheme
    )
    if uris is None:
        return ()
    repeated = tlsrpt.repeats(uris)
    for index, uri in enumerate(uris):
        findings = tlsrpt.uri_findings(uri, schemes=("mailto",))
        if index in repeated:
            problems.append(listed_twice("proton.dmarcRua", uri, repeated[index]))
        elif findings:
            said = reason(findings[0].seen, uri)
            problems.append(
                f"'proton.dmarcRua' entry {show(uri)} is not accepted: {said}; "
                f"{expected(findings[0].fix)} (RFC 7489 §6.2)"
            )
    # The longest policy word (`quarantine`): the record must fit one DNS record whichever is set.
    text = dmarc_text(DmarcPolicy.QUARANTINE.value, tuple(uris))
    if size := published.txt_size(text, "the _dmarc TXT record", "list fewer or shorter report URIs"):
        problems.append(f"'proton.dmarcRua': {size.seen}; {size.fix} ({size.rfc})")
    return tuple(uris)


def _spf_includes(value: Any, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    names = string_list(value, "proton.spfIncludes", "_spf.example.net", problems)
    if names is None:
        return ()
    result: list[str] = []
    for name in names:
        normalized = normalize(name.removeprefix("include:"))
        if unicode := published.host(normalized, "the domain"):
            problems.append(f"'proton.spfIncludes' entry {show(name)}: {unicode[0].seen}; {unicode[0].fix}")
        elif not _is_spf_domain(normalized):
            problems.append(
                f"'proton.spfIncludes' entry {show(name)} is not accepted; expected a domain whose SPF "
                "record to include, such as _spf.example.net"
            )
        elif normalized == PROTON_SPF_INCLUDE or normalized in result:
            problems.append(
                f"'proton.spfIncludes' entry {show(name)} is listed already"
                + (" (Proton's own include is always added)" if normalized == PROTON_SPF_INCLUDE else "")
                + "; list each domain once"
            )
        else:
            result.append(normalized)
    if len(result) > MAX_SPF_INCLUDES:
        problems.append(
            f"'proton.spfIncludes' lists {len(result)} domains; at most {MAX_SPF_INCLUDES} fit next to "
            "Proton's include within SPF's limit of 10 DNS lookups (RFC 7208 §4.6.4)"
        )
    return tuple(result)


def _is_spf_domain(name: str) -> bool:
    """A domain for `include:`: a host name whose labels may also hold `_` (e.g. `_spf.example.net`)."""
    return is_hostname(name.replace("_", "u")) and not any(label.startswith("-") for label in name.split("."))
