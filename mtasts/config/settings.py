"""The validated stack configuration: one frozen object handed to everything else.

Defaults are not written here: they come from Pulumi.yaml (`mtasts.config.schema`) through
`parse_settings`, the only constructor.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mtasts import constants
from mtasts.config.values import hide_tokens, token_parts
from mtasts.constants import PROTON_MX
from mtasts.errors import ProblemsError
from mtasts.policy import Mode, Policy
from mtasts.rules import published

# RFC 8461 §8.3: the `mode: none` policy only has to outlive the policies it replaces;
# a day lets a change of mind (`retire: false`) reach every sender by the next day too.
RETIRE_MAX_AGE = 86_400


class Hosting(enum.StrEnum):
    """Where the policy file is served from."""

    NETLIFY = "netlify"
    GITHUB_PAGES = "github-pages"


class DmarcPolicy(enum.StrEnum):
    """DMARC `p=` (RFC 7489 §6.3); Proton recommends quarantine."""

    NONE = "none"
    QUARANTINE = "quarantine"
    REJECT = "reject"


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


class ConfigError(ProblemsError):
    """Invalid stack configuration; `problems` lists every one, each with its fix.

    Each problem is held with its token-shaped parts hidden (`values.hide_tokens`): `show`
    hides them in a value, but a rule's words quote the value too (`'...' is not a valid
    mailto: URI`, `write it as ...`), and no problem may carry a token pasted into one.
    """

    heading = "invalid mta-sts configuration:"

    def __init__(self, problems: Sequence[str], raw: Any = None) -> None:
        """`raw`: the config the problems are about, whose tokens are hidden in any case."""
        known = token_parts(raw) if raw is not None else frozenset()
        super().__init__([hide_tokens(problem, known) for problem in problems])


@dataclass(frozen=True)
class Settings:
    """Validated stack configuration."""

    domain: str
    mode: Mode
    max_age: int
    mx: tuple[str, ...]
    tls_rpt: tuple[str, ...]
    hosting: Hosting
    repository: str
    zone_id: str | None
    readiness_timeout: int
    proton: ProtonSettings | None
    dnssec: bool
    adopt: bool
    retire: bool

    @property
    def policy_host(self) -> str:
        return constants.policy_host(self.domain)

    @property
    def policy_url(self) -> str:
        return constants.policy_url(self.domain)

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
    return published.default_repository(domain)
