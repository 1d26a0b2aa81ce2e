"""Warnings about a valid stack configuration: what deploys, but is likely a mistake.

`config_warnings` decides them once, for `render` (which prints them before the records) and
for the program (which logs them with `pulumi.log.warn`); `argument_warnings` says the ones
about the settings to a program that passes `MtaStsDomain` arguments instead:

- a token, password or key written in plain text in the stack file (it is committed with the
  file; `pulumi config set --secret` stores it encrypted). The value is never shown.
- `tlsRpt` unset: no reports, so nobody can tell whether `enforce` would refuse mail.
- a `maxAge` that protects little: under a day with `enforce`, or 0 (`rules.policy_file.short_max_age`).
- a domain left at a name reserved for examples (RFC 2606 §2, §3; RFC 6761 §6): `example.com`,
  `staging.example.com`, anything under `.test`, `.example`, `.invalid` or `.localhost`.

Leaves alone: whether the configuration is valid (`parse_settings` refuses what is not).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mtasts.config.settings import Settings
from mtasts.config.values import key_name, key_parts, may_be_secret
from mtasts.rules.policy_file import USUAL_MAX_AGE, short_max_age

# Key names that hold credentials in this project and the providers it uses
# (`cloudflare:apiToken`, `github:token`, `mta-sts:netlifyToken`, `aws:secretKey`, ...).
_SECRET_NAME = re.compile(r"token|secret|password|passwd|passphrase|api_?key|private_?key|credential", re.I)
# RFC 2606 §2 reserves these top-level names, §3 the second-level example names; RFC 6761 §6
# says the same of all four top-level names.
RESERVED_TLDS = ("test", "example", "invalid", "localhost")
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


def is_example_domain(domain: str) -> bool:
    name = domain.lower().rstrip(".")
    return name.rsplit(".", 1)[-1] in RESERVED_TLDS or any(
        name == reserved or name.endswith("." + reserved) for reserved in RESERVED_DOMAINS
    )


def plaintext_secrets(stack_config: Mapping[Any, Any]) -> list[str]:
    """Keys of the stack file whose name says credential, or that hold a token themselves
    (`github:token ghp_...: x`, a `config set key value` typo), and whose value is not `secure:`."""
    return [
        key
        for key, value in stack_config.items()
        if isinstance(key, str)
        and (_SECRET_NAME.search(key_parts(_split(key)[1])[0]) or _holds_token(key))
        and isinstance(value, (str, int))
        and not isinstance(value, bool)
        and str(value).strip()
    ]


def _split(key: str) -> tuple[str, str]:
    """`github:token x` as `github:` and `token x`; a key without a namespace as `` and itself."""
    namespace, colon, rest = key.partition(":")
    return (namespace + colon, rest) if colon else ("", key)


def _holds_token(key: str) -> bool:
    """Whether a part of `key` between `:`, `=`, `.` and spaces is shaped like a token."""
    return any(may_be_secret(part) for part in re.split(r"[:=.\s]+", key))


def _secret_warning(key: str, where: str, stack: str) -> str:
    """The plaintext warning for `key`, shown as `key_name` shows keys; the command names the
    key alone (it prompts for the value, so none is printed)."""
    namespace, rest = _split(key)
    name, after = key_parts(rest)
    settable = namespace + name
    if _holds_token(settable):
        settable = "<key>"
    shown = key_name(key, namespaced=True)
    alone = f" (a key is the name alone: write '{settable}' and the value apart)" if after else ""
    return (
        f"'{shown}' is written in plain text in {where}{alone}, so anyone who can read the file (or the "
        f"repository it is committed to) has it: revoke it, make a new one and set it with "
        f"`scripts/pulumi config set --secret {settable} --stack {stack}` (stored encrypted), then delete "
        "the plain line"
    )


def config_warnings(settings: Settings, stack_config: Mapping[Any, Any], stack: str) -> list[str]:
    """Every warning about `settings` and the stack file's `config:` mapping, in a stable order."""
    return [*secret_warnings(stack_config, stack), *settings_warnings(settings, stack)]


def secret_warnings(stack_config: Mapping[Any, Any], stack: str) -> list[str]:
    """The stack file's credentials written in plain text, each with the command that stores it encrypted."""
    where = f"Pulumi.{stack}.yaml"
    return [_secret_warning(key, where, stack) for key in plaintext_secrets(stack_config)]


def settings_warnings(settings: Settings, stack: str) -> list[str]:
    """What deploys but is likely a mistake, with the stack config command that fixes it."""
    where = f"Pulumi.{stack}.yaml"
    fixes = {
        "domain": f". Set your own mail domain as 'mta-sts:domain' in {where} before deploying",
        "tlsRpt": f". Set it with `scripts/pulumi config set --path 'tlsRpt[0]' "
        f"mailto:tls-reports@{settings.domain} --stack {stack}`.",
        "maxAge": f". Set maxAge to a week with `scripts/pulumi config set maxAge {USUAL_MAX_AGE} "
        f"--stack {stack}`.",
    }
    return [problem + fixes[key] for key, problem in _mistakes(settings, tls_rpt="tlsRpt")]


def argument_warnings(settings: Settings) -> list[str]:
    """`settings_warnings` for a component's caller, who passes arguments (by their snake_case
    names, as the component's errors name them) instead of setting stack config."""
    domain = settings.domain
    fixes = {
        "domain": ": pass your own mail domain as domain",
        "tlsRpt": f" for {domain}: pass the addresses as tls_rpt, such as ['mailto:tls-reports@{domain}']",
        "maxAge": f" for {domain}: pass max_age={USUAL_MAX_AGE} (a week)",
    }
    return [problem + fixes[key] for key, problem in _mistakes(settings, tls_rpt="tls_rpt")]


def _mistakes(settings: Settings, *, tls_rpt: str) -> list[tuple[str, str]]:
    """(config key, what is wrong) for each likely mistake, in a stable order; `tls_rpt` is that
    setting's name as the reader writes it. Each caller adds the fix in its own terms."""
    found = []
    if is_example_domain(settings.domain):
        found.append(
            (
                "domain",
                f"domain {settings.domain} is a name reserved for examples (RFC 2606): "
                "nobody's mail goes there",
            )
        )
    if not settings.tls_rpt:
        found.append(
            (
                "tlsRpt",
                f"{tls_rpt} is not set, so no _smtp._tls record is published: senders will not report TLS "
                "failures, and you cannot tell whether `mode: enforce` would refuse mail",
            )
        )
    # Of the policy served: `retire` serves mode none, which keeps nothing to protect.
    if short := short_max_age(settings.policy.mode, settings.policy.max_age):
        found.append(("maxAge", short.text()))
    return found
