"""`parse_settings`: every `mta-sts:*` key validated at once, into `Settings`.

Both the Pulumi program (`components/settings.py`) and `python -m mtasts render`
(`mtasts/stackfile.py`) hand a plain mapping of the keys (namespace removed) to it. Keys and
defaults come from Pulumi.yaml; the rules themselves (an `mx` pattern, a report URI, MX
coverage) from `mtasts.rules`. Errors are collected and raised together, each naming the
key, the value as written and what is accepted. Secrets (`netlifyToken`) are not settings:
only whether one is available is checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mtasts.config import schema
from mtasts.config.proton import proton as parse_proton
from mtasts.config.settings import ConfigError, Hosting, Settings
from mtasts.config.values import (
    MAX_ITEMS,
    MAX_NESTING,
    boolean,
    choice,
    expected,
    integer,
    listed_twice,
    nesting,
    reason,
    show,
    string_list,
    unknown_key,
)
from mtasts.constants import NETLIFY_TOKEN_ENV, PROTON_MX, SET_NETLIFY_TOKEN
from mtasts.names import A_LABEL_FIX, is_hostname, malformed_a_label, normalize, proper_a_label
from mtasts.policy import Mode, Policy
from mtasts.rules import mx_coverage, policy_file, published, tlsrpt
from mtasts.rules.mail import PROTON_DKIM_SELECTORS
from mtasts.rules.policy_file import MAX_AGE_LIMIT, mx_findings

READINESS_TIMEOUT_RANGE = (10, 86_400)


def parse_settings(
    raw: Mapping[str, Any],
    *,
    netlify_token_available: bool | None = None,
    prior_problems: Sequence[str] = (),
) -> Settings:
    """Validate the `mta-sts:*` config (keys without the namespace) into Settings.

    `netlify_token_available=False` adds an error when Netlify hosting has no token;
    None skips that check (rendering needs no credentials). `prior_problems` are listed
    first (a key the stack file writes without its namespace).
    """
    declared = schema.declared()
    default = {name: key.default for name, key in declared.items()}
    problems = [*prior_problems]
    problems += [unknown_key(key, declared) for key in raw if key not in declared]
    deep = [key for key in raw if key in declared and nesting(raw[key]) > MAX_NESTING]
    problems += [
        f"'{key}' nests lists or mappings more than {MAX_NESTING} levels deep, or holds more than "
        f"{MAX_ITEMS} items; no setting is nested more than three levels or holds so many"
        for key in deep
    ]
    raw = {key: value for key, value in raw.items() if key not in deep}

    domain = _domain(raw.get("domain"), problems)
    mode = choice(raw, "mode", Mode, default["mode"], problems)
    hosting = choice(raw, "hosting", Hosting, default["hosting"], problems)
    max_age = integer(raw, "maxAge", default["maxAge"], (0, MAX_AGE_LIMIT), problems)
    readiness_timeout = integer(
        raw, "readinessTimeout", default["readinessTimeout"], READINESS_TIMEOUT_RANGE, problems
    )
    retire = boolean(raw, "retire", default["retire"], problems)
    dnssec = boolean(raw, "dnssec", default["dnssec"], problems)
    adopt = boolean(raw, "adopt", default["adopt"], problems)
    mx = _mx(raw.get("mx", default["mx"]), Mode.NONE if retire else mode, problems)
    _policy_size(mx, mode, max_age, problems)
    proton = parse_proton(raw.get("proton"), problems)
    if proton and mode is not None and mode is not Mode.NONE and not retire:
        for finding in mx_coverage.judge(mode.value, mx, proton.mx_hosts, domain=domain or "the domain"):
            host = finding.subject
            problems.append(
                f"'mx' {show(list(mx))} does not cover the MX host {host} that 'proton' publishes; "
                f"add {host} "
                f"(or a '*.' pattern matching it) to 'mx': under enforce, senders would refuse to deliver to "
                f"it ({mx_coverage.RFC})"
            )
    if domain:
        _derived_names(domain, raw.get("proton") not in (None, {}, ""), problems)
    tls_rpt = _tls_rpt(raw.get("tlsRpt"), problems)
    repository = _repository(raw.get("repository"), domain, problems)
    zone_id = _zone_id(raw.get("zoneId"), problems)
    if netlify_token_available is False and hosting is Hosting.NETLIFY:
        problems.append(
            f"'netlifyToken' is not set and {NETLIFY_TOKEN_ENV} is not in the environment; "
            "Netlify hosting needs a personal access token: "
            f"run `{SET_NETLIFY_TOKEN}` or export {NETLIFY_TOKEN_ENV}"
        )
    if problems:
        raise ConfigError(problems, raw)
    assert domain and mode and hosting and max_age is not None and readiness_timeout
    return Settings(
        domain=domain,
        mode=mode,
        max_age=max_age,
        mx=mx,
        tls_rpt=tls_rpt,
        hosting=hosting,
        repository=repository,
        zone_id=zone_id,
        readiness_timeout=readiness_timeout,
        proton=proton,
        dnssec=dnssec,
        adopt=adopt,
        retire=retire,
    )


def _domain(value: Any, problems: list[str]) -> str:
    if value is None or value == "":
        problems.append("'domain' is required: run `scripts/pulumi config set domain example.com`")
        return ""
    if isinstance(value, str) and not value.isascii():
        form = published.a_label(value)
        hint = f" (write it as '{form}')" if form else ""
        problems.append(
            f"'domain' {show(value)} is written in Unicode{hint}; senders compare the ASCII form "
            "(RFC 5890 §2.3.2.1)"
        )
        return ""
    if not isinstance(value, str) or not is_hostname(normalize(value)):
        problems.append(
            f"'domain' {show(value)} is not a valid domain name; "
            "expected a name such as example.com (letters, digits and hyphens, at least two labels)"
        )
        return ""
    if label := malformed_a_label(normalize(value)):
        proper = proper_a_label(label)
        fix = f"write the label as '{proper}', the A-label IDNA makes of it" if proper else A_LABEL_FIX
        problems.append(
            f"'domain' {show(value)} has the label '{label}', which is no A-label: it is not the "
            f"Punycode IDNA makes of a Unicode label (RFC 5890 §2.3.2.1); {fix}"
        )
        return ""
    return normalize(value)


def _derived_names(domain: str, proton: bool, problems: list[str]) -> None:
    """Every name the stack publishes under the domain must fit DNS's limits (RFC 1035 §2.3.4)."""
    prefixes = ["", "_mta-sts", "mta-sts", "_smtp._tls"]
    if proton:
        prefixes += ["_dmarc", *(f"{selector}._domainkey" for selector in PROTON_DKIM_SELECTORS)]
    problems += [f"'domain': {f.seen}; {f.fix}" for f in published.names(domain, prefixes)]


def _mx(value: Any, mode: Mode | None, problems: list[str]) -> tuple[str, ...]:
    patterns = string_list(value, "mx", "mail.example.com", problems)
    if patterns is None:
        return ()
    if not patterns and mode is not Mode.NONE:
        problems.append(
            "'mx' is empty; a policy in testing or enforce mode must list the MX hosts "
            f"(for Proton Mail: {' and '.join(PROTON_MX)}), or set mode to none"
        )
    result: list[str] = []
    for pattern in patterns:
        normalized = normalize(pattern)
        findings = published.host(normalized, "the mx entry") or mx_findings(normalized)
        if findings:
            said = reason(findings[0].seen.removeprefix("mx "), pattern)
            problems.append(
                f"'mx' entry {show(pattern)} is not accepted ({said}); "
                + (
                    findings[0].fix
                    if findings[0].code in (published.UNICODE_HOST, published.MALFORMED_A_LABEL)
                    else "expected a host name such as mail.example.com, or '*.' followed by one such as "
                    "*.example.com"
                )
            )
        elif normalized in result:
            problems.append(f"'mx' entry {show(pattern)} is listed twice; list each pattern once")
        else:
            result.append(normalized)
    return tuple(result)


def _policy_size(mx: tuple[str, ...], mode: Mode | None, max_age: int | None, problems: list[str]) -> None:
    """The policy these settings render must be one senders read (`policy_file.too_large`)."""
    policy = Policy(mode or Mode.TESTING, MAX_AGE_LIMIT if max_age is None else max_age, mx)
    if size := policy_file.too_large(len(policy.render().encode("utf-8"))):
        problems.append(f"'mx': with {len(mx)} patterns {size.seen}; {size.fix} ({size.rfc})")


def _tls_rpt(value: Any, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    uris = string_list(value, "tlsRpt", "mailto:tls-reports@example.com", problems, tlsrpt.with_scheme)
    if uris is None:
        return ()
    repeated = tlsrpt.repeats(uris)
    for index, uri in enumerate(uris):
        # What we publish must parse under the strictest reading: a warning refuses too.
        findings = tlsrpt.uri_findings(uri)
        if index in repeated:
            problems.append(listed_twice("tlsRpt", uri, repeated[index]))
        elif findings:
            said = reason(findings[0].seen, uri)
            problems.append(
                f"'tlsRpt' entry {show(tlsrpt.without_userinfo(uri))} is not accepted: {said}; "
                f"{expected(findings[0].fix)} ({tlsrpt.RFC})"
            )
    if size := tlsrpt.too_large(tlsrpt.text(uris)):
        problems.append(f"'tlsRpt': {size.seen}; {size.fix} ({size.rfc})")
    return tuple(uris)


def _repository(value: Any, domain: str, problems: list[str]) -> str:
    if value is None or value == "":
        return published.default_repository(domain) if domain else ""
    findings = published.repository(value) if isinstance(value, str) else published.repository(show(value))
    if findings:
        problems.append(
            f"'repository' {show(value)} is not a valid GitHub repository name; {findings[0].fix}"
        )
        return ""
    return value


def _zone_id(value: Any, problems: list[str]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{32}", value):
        problems.append(
            f"'zoneId' {show(value)} is not a Cloudflare zone id; expected 32 lower-case hex digits "
            "(Cloudflare dashboard → the zone → Overview → API), or leave it unset to look it up"
        )
        return None
    return value
