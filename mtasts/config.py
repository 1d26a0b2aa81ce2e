"""The stack's settings: every config key validated once, into one frozen object.

Both the Pulumi program and `python -m mtasts render` hand a plain mapping of the
`mta-sts:*` keys to `parse_settings`. Errors are collected and raised together, each
naming the key, the bad value and what is accepted (Terraform-validation style).
Secrets (`netlifyToken`) are not settings: only whether one is available is checked.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mtasts.names import ascii_hint, is_hostname, normalize
from mtasts.policy import MAX_AGE_LIMIT, Mode, Policy, is_mx_pattern

PROTON_MX = ("mail.protonmail.ch", "mailsec.protonmail.ch")
DEFAULT_MAX_AGE = 604_800  # one week, as the article and Proton's own policy use
DEFAULT_READINESS_TIMEOUT = 1_800  # certificates on Pages and Netlify can take many minutes
READINESS_TIMEOUT_RANGE = (10, 86_400)
# RFC 5322 dot-atom local part; what a TLS-RPT mailto: URI carries (RFC 8460 §3).
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class Hosting(enum.StrEnum):
    """Where the policy file is served from (rules: hosting facts)."""

    NETLIFY = "netlify"
    GITHUB_PAGES = "github-pages"


class ConfigError(ValueError):
    """Invalid stack configuration; `problems` lists every one, each with its fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid mta-sts configuration:\n{listing}")


@dataclass(frozen=True)
class Settings:
    """Validated stack configuration. Defaults are the safe ones (`mode: testing`)."""

    domain: str
    mode: Mode = Mode.TESTING
    max_age: int = DEFAULT_MAX_AGE
    mx: tuple[str, ...] = PROTON_MX
    tls_rpt: tuple[str, ...] = ()
    hosting: Hosting = Hosting.NETLIFY
    repository: str = ""
    zone_id: str | None = None
    readiness_timeout: int = DEFAULT_READINESS_TIMEOUT

    @property
    def policy_host(self) -> str:
        return f"mta-sts.{self.domain}"

    @property
    def policy_url(self) -> str:
        return f"https://{self.policy_host}/.well-known/mta-sts.txt"

    @property
    def policy(self) -> Policy:
        return Policy(mode=self.mode, max_age=self.max_age, mx=self.mx)


def default_repository(domain: str) -> str:
    return "mta-sts-" + domain.replace(".", "-")


def parse_settings(raw: Mapping[str, Any], *, netlify_token_available: bool | None = None) -> Settings:
    """Validate the `mta-sts:*` config (keys without the namespace) into Settings.

    `netlify_token_available=False` adds an error when Netlify hosting has no token;
    None skips that check (rendering needs no credentials).
    """
    problems: list[str] = []
    known = {
        "domain",
        "mode",
        "maxAge",
        "mx",
        "tlsRpt",
        "hosting",
        "repository",
        "zoneId",
        "netlifyToken",
        "readinessTimeout",
    }
    problems += [
        f"'{key}' is not a setting of this stack; known settings: {', '.join(sorted(known))}"
        for key in raw
        if key not in known
    ]

    domain = _domain(raw.get("domain"), problems)
    mode = _choice(raw, "mode", Mode, Mode.TESTING, problems)
    hosting = _choice(raw, "hosting", Hosting, Hosting.NETLIFY, problems)
    max_age = _integer(raw, "maxAge", DEFAULT_MAX_AGE, (0, MAX_AGE_LIMIT), problems)
    readiness_timeout = _integer(
        raw, "readinessTimeout", DEFAULT_READINESS_TIMEOUT, READINESS_TIMEOUT_RANGE, problems
    )
    mx = _mx(raw.get("mx", list(PROTON_MX)), mode, problems)
    tls_rpt = _tls_rpt(raw.get("tlsRpt"), problems)
    repository = _repository(raw.get("repository"), domain, problems)
    zone_id = _zone_id(raw.get("zoneId"), problems)
    if netlify_token_available is False and hosting is Hosting.NETLIFY:
        problems.append(
            "'netlifyToken' is not set and NETLIFY_AUTH_TOKEN is not in the environment; "
            "Netlify hosting needs a personal access token: "
            "run `pulumi config set --secret netlifyToken <token>` or export NETLIFY_AUTH_TOKEN"
        )
    if problems:
        raise ConfigError(problems)
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
    )


def _domain(value: Any, problems: list[str]) -> str:
    if value is None or value == "":
        problems.append("'domain' is required: run `pulumi config set domain example.com`")
        return ""
    if not isinstance(value, str) or not value.isascii() or not is_hostname(normalize(value)):
        hint = ascii_hint(value) if isinstance(value, str) and not value.isascii() else ""
        problems.append(
            f"'domain' {value!r} is not a valid domain name{hint}; "
            "expected a name such as example.com (letters, digits and hyphens, at least two labels)"
        )
        return ""
    return normalize(value)


def _choice(
    raw: Mapping[str, Any], key: str, kind: type[enum.Enum], default: Any, problems: list[str]
) -> Any:
    value = raw.get(key, default.value)
    for member in kind:
        if member.value == value:
            return member
    accepted = ", ".join(repr(member.value) for member in kind)
    problems.append(f"'{key}' {value!r} is not accepted; expected one of {accepted}")
    return None


def _integer(
    raw: Mapping[str, Any], key: str, default: int, bounds: tuple[int, int], problems: list[str]
) -> int | None:
    value = raw.get(key, default)
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value.strip()):
        value = int(value)  # stack files written by `pulumi config set` hold strings
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(
            f"'{key}' {value!r} is not accepted; expected a whole number of seconds from {low} to {high}"
        )
        return None
    return value


def _string_list(value: Any, key: str, problems: list[str]) -> list[str] | None:
    if isinstance(value, str):
        value = [value]  # a single value is a list of one
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        problems.append(f"'{key}' {value!r} is not accepted; expected a list of strings")
        return None
    return [item.strip() for item in value]


def _mx(value: Any, mode: Mode | None, problems: list[str]) -> tuple[str, ...]:
    patterns = _string_list(value, "mx", problems)
    if patterns is None:
        return ()
    if not patterns and mode is not Mode.NONE:
        problems.append(
            "'mx' is empty; a policy in testing or enforce mode must list the MX hosts "
            "(for Proton Mail: mail.protonmail.ch and mailsec.protonmail.ch), or set mode to none"
        )
    result: list[str] = []
    for pattern in patterns:
        normalized = normalize(pattern)
        if not is_mx_pattern(normalized):
            problems.append(
                f"'mx' entry {pattern!r} is not accepted; expected a host name such as "
                "mail.example.com, or '*.' followed by one such as *.example.com"
            )
        elif normalized in result:
            problems.append(f"'mx' entry {pattern!r} is listed twice; list each pattern once")
        else:
            result.append(normalized)
    return tuple(result)


def _tls_rpt(value: Any, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    uris = _string_list(value, "tlsRpt", problems)
    if uris is None:
        return ()
    for uri in uris:
        if not is_report_uri(uri):
            problems.append(
                f"'tlsRpt' entry {uri!r} is not accepted; expected mailto:<address> "
                "(e.g. mailto:tls-reports@example.com) or an https:// URL (RFC 8460 §3)"
            )
    return tuple(uris)


def is_report_uri(uri: str) -> bool:
    """A TLS-RPT `rua` URI: `mailto:` with one valid address, or an `https:` URL (rules §TLS)."""
    if uri.startswith("mailto:"):
        local, at, domain = uri[len("mailto:") :].rpartition("@")
        return bool(at) and bool(_LOCAL_PART.match(local)) and is_hostname(normalize(domain))
    if uri.startswith("https://"):
        host = urlsplit(uri).hostname or ""
        return is_hostname(host) and not any(char in uri for char in ",; \t")
    return False


def _repository(value: Any, domain: str, problems: list[str]) -> str:
    if value is None or value == "":
        return default_repository(domain) if domain else ""
    if (
        not isinstance(value, str)
        or not _REPOSITORY.match(value)
        or value in {".", ".."}
        or value.endswith(".git")
    ):
        problems.append(
            f"'repository' {value!r} is not a valid GitHub repository name; expected up to 100 "
            "letters, digits, '.', '-' or '_', not ending in .git (e.g. mta-sts-example-com)"
        )
        return ""
    return value


def _zone_id(value: Any, problems: list[str]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{32}", value):
        problems.append(
            f"'zoneId' {value!r} is not a Cloudflare zone id; expected 32 lower-case hex digits "
            "(Cloudflare dashboard → the zone → Overview → API), or leave it unset to look it up"
        )
        return None
    return value
