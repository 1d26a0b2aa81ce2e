"""The configuration schema, declared once, here: every setting's name, type, default and meaning.

Three things follow this declaration, and tests keep them equal to it: `Pulumi.yaml`'s
`config:` section (which Pulumi reads to type-check a stack's values and list its settings),
`parse_settings` (which applies these defaults), and the component's `MtaStsDomainArgs` (the
same keys in snake case). It is Python, inside the package, so an installed wheel needs no
file beside it and nothing reads the working directory.

Names are the config keys (camelCase, without the `mta-sts:` namespace).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from mtasts.config.settings import PROTON_MX


@dataclass(frozen=True)
class Key:
    name: str
    type: str  # a Pulumi.yaml config type: string, integer, boolean, array or object
    description: str
    default: Any = None
    secret: bool = False
    items: str | None = None  # the type of an array's items

    @property
    def structured(self) -> bool:
        """Lists and objects: Pulumi hands them to the program as JSON text."""
        return self.type in ("array", "object")

    def project_file_entry(self) -> dict[str, Any]:
        """This key as Pulumi.yaml's `config:` section writes it."""
        entry: dict[str, Any] = {"type": self.type}
        if self.items:
            entry["items"] = {"type": self.items}
        if self.secret:
            entry["secret"] = True
        entry["description"] = self.description
        if self.default is not None:
            entry["default"] = list(self.default) if isinstance(self.default, tuple) else self.default
        return entry


KEYS: tuple[Key, ...] = (
    Key("domain", "string", "The mail domain (required), e.g. example.com."),
    Key(
        "mode",
        "string",
        "Policy mode, testing, enforce or none. Start with testing and read the TLS-RPT reports "
        "before enforce.",
        default="testing",
    ),
    Key("maxAge", "integer", "Policy max_age in seconds, 0 to 31557600.", default=604_800),
    Key(
        "mx",
        "array",
        "Policy mx patterns, host names or *.host names; must cover every MX host of the domain.",
        default=PROTON_MX,
        items="string",
    ),
    Key(
        "tlsRpt",
        "array",
        "TLS-RPT report URIs (mailto: or https:). Unset publishes no _smtp._tls record, and you will not "
        "hear about failures.",
        items="string",
    ),
    Key("hosting", "string", "Where the policy is served, netlify or github-pages.", default="netlify"),
    Key(
        "repository",
        "string",
        "GitHub repository holding the policy; defaults to mta-sts-<domain with dots as dashes>.",
    ),
    Key("zoneId", "string", "Cloudflare zone id; looked up from domain when unset."),
    Key(
        "netlifyToken",
        "string",
        "Netlify personal access token (secret); defaults to NETLIFY_AUTH_TOKEN from the environment.",
        secret=True,
    ),
    Key(
        "readinessTimeout",
        "integer",
        "Seconds to wait for the new policy to be served over HTTPS before the _mta-sts record changes.",
        default=1800,
    ),
    # `type: object` needs a Pulumi CLI from mid-2025 on (pulumi/pulumi#20129, #20132; before,
    # pulumi/pulumi#11321). Its fields are validated by `mtasts.config.proton`.
    Key(
        "proton",
        "object",
        "Proton Mail records, off when unset. An object: verification (the code from Proton's dashboard), "
        "dkim (a mapping protonmail/protonmail2/protonmail3 to the CNAME targets Proton shows), dmarc "
        "(none, quarantine or reject; default quarantine), dmarcRua (mailto: URIs, optional), spfIncludes "
        "(extra SPF include domains, merged into the one SPF record, optional). Publishes the apex "
        "verification TXT, MX 10 mail.protonmail.ch and 20 mailsec.protonmail.ch, SPF, three DKIM CNAMEs "
        "and _dmarc; mx must cover the MX hosts. These records are left in place when the stack is "
        "destroyed.",
    ),
    Key(
        "dnssec",
        "boolean",
        "Sign the Cloudflare zone (DNSSEC) so senders can use DANE towards Proton's MX hosts; exports the DS "
        "record (dnssecDs) to enter at your registrar. Left on when the stack is destroyed.",
        default=False,
    ),
    Key(
        "adopt",
        "boolean",
        "Adopt records that already exist at the names this stack manages (Pulumi import, updated in place "
        "on the first up). False refuses to run next to them. Conflicting records always stop the run.",
        default=True,
    ),
    Key(
        "retire",
        "boolean",
        "Remove MTA-STS (RFC 8461 section 8.3): serve mode none with a new id and max_age 86400, overriding "
        "mode and maxAge, and export retireSafeToDestroyAfter, the time after which destroying the stack "
        "is safe.",
        default=False,
    ),
)


@functools.cache
def declared() -> dict[str, Key]:
    """Every declared key by name, in the order Pulumi.yaml lists them."""
    return {key.name: key for key in KEYS}


def default(name: str) -> Any:
    return declared()[name].default


def project_file_config() -> dict[str, dict[str, Any]]:
    """Pulumi.yaml's `config:` section as this declaration writes it."""
    return {key.name: key.project_file_entry() for key in KEYS}
