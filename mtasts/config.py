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
# RFC 8461 §8.3: the `mode: none` policy only has to outlive the policies it replaces;
# a day lets a change of mind (`retire: false`) reach every sender by the next day too.
RETIRE_MAX_AGE = 86_400
DEFAULT_READINESS_TIMEOUT = 1_800  # certificates on Pages and Netlify can take many minutes
READINESS_TIMEOUT_RANGE = (10, 86_400)
# RFC 5322 dot-atom local part; what a TLS-RPT mailto: URI carries (RFC 8460 §3).
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class Hosting(enum.StrEnum):
    """Where the policy file is served from."""

    NETLIFY = "netlify"
    GITHUB_PAGES = "github-pages"


class DmarcPolicy(enum.StrEnum):
    """DMARC `p=` (RFC 7489 §6.3); Proton recommends quarantine."""

    NONE = "none"
    QUARANTINE = "quarantine"
    REJECT = "reject"


PROTON_DKIM_SELECTORS = ("protonmail", "protonmail2", "protonmail3")
PROTON_SPF_INCLUDE = "_spf.protonmail.ch"
# RFC 7208 §4.6.4: at most 10 DNS-querying terms; Proton's include already costs several.
MAX_SPF_INCLUDES = 5
_PROTON_KEYS = ("verification", "dkim", "dmarc", "dmarcRua", "spfIncludes")
_VERIFICATION = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_VERIFICATION_PREFIX = "protonmail-verification="


@dataclass(frozen=True)
class ProtonSettings:
    """Proton Mail custom-domain records (as Proton's dashboard lists them).

    `dkim` maps each selector (protonmail, protonmail2, protonmail3) to the CNAME target
    Proton's dashboard shows for it; a mapping, not a list, so a target cannot land on
    the wrong selector by order.
    """

    verification: str
    dkim: tuple[tuple[str, str], ...]
    dmarc: DmarcPolicy = DmarcPolicy.QUARANTINE
    dmarc_rua: tuple[str, ...] = ()
    spf_includes: tuple[str, ...] = ()

    @property
    def mx_hosts(self) -> tuple[str, ...]:
        return PROTON_MX


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
    proton: ProtonSettings | None = None
    dnssec: bool = False
    adopt: bool = True
    retire: bool = False

    @property
    def policy_host(self) -> str:
        return f"mta-sts.{self.domain}"

    @property
    def policy_url(self) -> str:
        return f"https://{self.policy_host}/.well-known/mta-sts.txt"

    @property
    def configured_policy(self) -> Policy:
        """The policy `mode` and `maxAge` describe: what was served before `retire`."""
        return Policy(mode=self.mode, max_age=self.max_age, mx=self.mx)

    @property
    def policy(self) -> Policy:
        """The policy to serve. `retire` overrides `mode` and `maxAge` (RFC 8461 §8.3)."""
        if self.retire:
            return Policy(mode=Mode.NONE, max_age=RETIRE_MAX_AGE, mx=self.mx)
        return self.configured_policy

    @property
    def published_mx(self) -> tuple[str, ...]:
        """MX hosts this stack publishes at the domain's apex (none unless `proton`)."""
        return self.proton.mx_hosts if self.proton else ()


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
        "proton",
        "dnssec",
        "adopt",
        "retire",
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
    retire = _boolean(raw, "retire", False, problems)
    dnssec = _boolean(raw, "dnssec", False, problems)
    adopt = _boolean(raw, "adopt", True, problems)
    mx = _mx(raw.get("mx", list(PROTON_MX)), Mode.NONE if retire else mode, problems)
    proton = _proton(raw.get("proton"), problems)
    if proton and mode is not None and mode is not Mode.NONE and not retire:
        _check_mx_coverage(Policy(mode=mode, max_age=0, mx=mx), proton.mx_hosts, problems)
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
        proton=proton,
        dnssec=dnssec,
        adopt=adopt,
        retire=retire,
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
    raw: Mapping[str, Any],
    key: str,
    kind: type[enum.Enum],
    default: Any,
    problems: list[str],
    prefix: str = "",
) -> Any:
    value = raw.get(key, default.value)
    for member in kind:
        if member.value == value:
            return member
    accepted = ", ".join(repr(member.value) for member in kind)
    problems.append(f"'{prefix}{key}' {value!r} is not accepted; expected one of {accepted}")
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


def _boolean(raw: Mapping[str, Any], key: str, default: bool, problems: list[str]) -> bool:
    value = raw.get(key, default)
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"  # stack files written by `pulumi config set`
    if not isinstance(value, bool):
        problems.append(f"'{key}' {value!r} is not accepted; expected true or false")
        return default
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
    """A TLS-RPT `rua` URI: `mailto:` with one valid address, or an `https:` URL (RFC 8460 §3)."""
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


def _proton(value: Any, problems: list[str]) -> ProtonSettings | None:
    """The `proton` object; None when unset (Proton records are off by default)."""
    if value is None or value == {} or value == "":
        return None
    if not isinstance(value, Mapping):
        problems.append(
            f"'proton' {value!r} is not accepted; expected an object with verification, dkim "
            "and optionally dmarc, dmarcRua, spfIncludes"
        )
        return None
    count = len(problems)
    problems += [
        f"'proton.{key}' is not a setting; known: {', '.join(_PROTON_KEYS)}"
        for key in value
        if key not in _PROTON_KEYS
    ]
    verification = _proton_verification(value.get("verification"), problems)
    dkim = _proton_dkim(value.get("dkim"), problems)
    dmarc = _choice(value, "dmarc", DmarcPolicy, DmarcPolicy.QUARANTINE, problems, prefix="proton.")
    rua = _dmarc_rua(value.get("dmarcRua"), problems)
    includes = _spf_includes(value.get("spfIncludes"), problems)
    if len(problems) > count:
        return None
    return ProtonSettings(
        verification=verification, dkim=dkim, dmarc=dmarc, dmarc_rua=rua, spf_includes=includes
    )


def _proton_verification(value: Any, problems: list[str]) -> str:
    if isinstance(value, str) and value.strip().startswith(_VERIFICATION_PREFIX):
        value = value.strip()[len(_VERIFICATION_PREFIX) :]  # the whole record text pasted
    if not isinstance(value, str) or not _VERIFICATION.match(value.strip()):
        problems.append(
            f"'proton.verification' {value!r} is not accepted; expected the code from Proton's "
            "dashboard (Settings → Domain names → Verify), the part after protonmail-verification="
        )
        return ""
    return value.strip()


def _proton_dkim(value: Any, problems: list[str]) -> tuple[tuple[str, str], ...]:
    expected = ", ".join(PROTON_DKIM_SELECTORS)
    if not isinstance(value, Mapping) or sorted(value) != sorted(PROTON_DKIM_SELECTORS):
        problems.append(
            f"'proton.dkim' {value!r} is not accepted; expected a mapping with exactly the keys "
            f"{expected}, each to the CNAME target Proton's dashboard shows "
            "(e.g. protonmail: protonmail.domainkey.dxxxx.domains.proton.ch)"
        )
        return ()
    targets = []
    for selector in PROTON_DKIM_SELECTORS:
        target = value[selector]
        if not isinstance(target, str) or not is_hostname(normalize(target)):
            problems.append(
                f"'proton.dkim.{selector}' {target!r} is not accepted; expected a host name "
                "such as protonmail.domainkey.dxxxx.domains.proton.ch"
            )
            continue
        targets.append((selector, normalize(target)))
    return tuple(targets)


def _dmarc_rua(value: Any, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    uris = _string_list(value, "proton.dmarcRua", problems)
    if uris is None:
        return ()
    for uri in uris:
        if not uri.startswith("mailto:") or not is_report_uri(uri):
            problems.append(
                f"'proton.dmarcRua' entry {uri!r} is not accepted; expected mailto:<address> "
                "(e.g. mailto:dmarc-reports@example.com, RFC 7489 §6.2)"
            )
    return tuple(uris)


def _spf_includes(value: Any, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    names = _string_list(value, "proton.spfIncludes", problems)
    if names is None:
        return ()
    result: list[str] = []
    for name in names:
        normalized = normalize(name.removeprefix("include:"))
        if not _is_spf_domain(normalized):
            problems.append(
                f"'proton.spfIncludes' entry {name!r} is not accepted; expected a domain whose SPF "
                "record to include, such as _spf.example.net"
            )
        elif normalized == PROTON_SPF_INCLUDE or normalized in result:
            problems.append(
                f"'proton.spfIncludes' entry {name!r} is listed already"
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


def _check_mx_coverage(policy: Policy, hosts: tuple[str, ...], problems: list[str]) -> None:
    """The policy must match every MX host the stack publishes, or `enforce` refuses mail (RFC 8461 §3.2)."""
    for host in policy.uncovered(hosts):
        problems.append(
            f"'mx' {list(policy.mx)!r} does not cover the MX host {host!r} that 'proton' publishes; "
            f"add {host!r} (or a '*.' pattern matching it) to 'mx': under enforce, senders "
            "would refuse to deliver to it (RFC 8461 §4.1)"
        )
