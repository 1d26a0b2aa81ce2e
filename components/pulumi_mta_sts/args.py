"""`MtaStsDomainArgs`: what one domain's `MtaStsDomain` takes, the config keys in snake case.

The fields follow the one declaration of the settings (`mtasts.config.schema`; a test keeps
them equal): same names in snake case, same types, and the same defaults, which are applied
by `mtasts.config.parse_settings`, not written here. A `TypedDict`, so that a plain dict with
snake_case keys (what a component created from another language receives, and what a Python
caller may write) is the same value as `MtaStsDomainArgs(...)`.

Plain values, not outputs: the component decides at construction which records, site and
checks one domain needs, and refuses bad arguments before any child registers. Only
`netlify_token` may be an output (a secret from the caller's config).

No `from __future__ import annotations` here, and no unions: the component provider infers
the multi-language schema from these annotations and the string after each one.
"""

import ast
import functools
import inspect
from typing import NotRequired, TypedDict

import pulumi


class ProtonArgs(TypedDict):
    """Proton Mail's records for the domain, as Proton's dashboard lists them."""

    verification: str
    """The code from Proton's dashboard → Verify (the part after protonmail-verification=)."""
    dkim: dict[str, str]
    """The CNAME target Proton shows for each DKIM selector: protonmail, protonmail2, protonmail3."""
    dmarc: NotRequired[str]
    """DMARC policy: none, quarantine or reject. Default: quarantine."""
    dmarc_rua: NotRequired[list[str]]
    """DMARC aggregate report URIs (mailto:). Default: none."""
    spf_includes: NotRequired[list[str]]
    """Extra SPF include domains, merged into the one SPF record. Default: none."""


class MtaStsDomainArgs(TypedDict):
    """MTA-STS (RFC 8461) and TLS reporting (RFC 8460) for one mail domain."""

    domain: str
    """The mail domain, e.g. example.com; its zone must be at Cloudflare."""
    mode: NotRequired[str]
    """Policy mode: testing, enforce or none. Default: testing."""
    max_age: NotRequired[int]
    """Policy max_age in seconds, 0 to 31557600. Default: 604800."""
    mx: NotRequired[list[str]]
    """Policy mx patterns, host names or *.host names. Default: mail.protonmail.ch, mailsec.protonmail.ch."""
    tls_rpt: NotRequired[list[str]]
    """TLS-RPT report URIs (mailto: or https:). Default: none, and no _smtp._tls record."""
    hosting: NotRequired[str]
    """Where the policy is served: netlify or github-pages. Default: netlify."""
    repository: NotRequired[str]
    """GitHub repository holding the policy. Default: mta-sts-<domain with dots as dashes>."""
    zone_id: NotRequired[str]
    """Cloudflare zone id. Default: looked up from domain."""
    netlify_token: NotRequired[pulumi.Input[str]]
    """Netlify personal access token (secret). Default: NETLIFY_AUTH_TOKEN from the environment."""
    readiness_timeout: NotRequired[int]
    """Seconds to wait for the new policy to be served before the _mta-sts record changes. Default: 1800."""
    proton: NotRequired[ProtonArgs]
    """Proton Mail records (verification, MX, SPF, DKIM, DMARC). Default: none."""
    dnssec: NotRequired[bool]
    """Sign the Cloudflare zone (DNSSEC) and output the DS record for the registrar. Default: false."""
    adopt: NotRequired[bool]
    """Adopt records that already exist at the names this domain manages. Default: true."""
    retire: NotRequired[bool]
    """Remove MTA-STS (RFC 8461 section 8.3): serve mode none with a new id. Default: false."""


@functools.cache
def descriptions(args: type = MtaStsDomainArgs) -> dict[str, str]:
    """Each field's description: the string right after its annotation, as the schema has it."""
    [body] = ast.parse(inspect.getsource(args)).body
    assert isinstance(body, ast.ClassDef)
    found: dict[str, str] = {}
    for field, text in zip(body.body, body.body[1:], strict=False):
        if not (isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)):
            continue
        if isinstance(text, ast.Expr) and isinstance(text.value, ast.Constant):
            found[field.target.id] = str(text.value.value)
    return found
