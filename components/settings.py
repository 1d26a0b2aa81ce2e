"""The one place that reads `pulumi.Config`: stack config in, validated `Settings` out.

Only the SDK's public API: each key Pulumi.yaml declares is read by its declared type
(`Config.get_object` for lists and objects, `Config.get` for the rest; `parse_settings`
accepts the strings `pulumi config set` writes for numbers and booleans). The SDK cannot
list the keys a stack sets, so their names come from the stack file (`mtasts.stackfile`),
and their values again from `pulumi.Config`: a misspelt key or one without the `mta-sts:`
namespace is reported as `render` reports it. Keys set only outside the stack file (an ESC
environment) are read when declared, and not listed when misspelt.

Invalid config stops the program before any resource is registered, with every problem
listed. The Netlify token is looked at here only to say whether one is available (so that a
missing token is reported with the rest) and whether it could be a token at all
(`clean_token`: surrounding whitespace is stripped; inner whitespace, control or non-ASCII
characters are refused), never printed. A preview without a token (pull requests get none:
Netlify has no read-only token) goes on, saying that the Netlify resources were not read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pulumi
from pulumi_mta_sts import MtaStsDomainArgs, ProtonArgs
from pulumi_mta_sts.netlify.credential import TokenError, clean_token

from mtasts.config import ConfigError, Hosting, Settings, parse_settings, schema
from mtasts.config.advice import secret_warnings
from mtasts.config.values import NAMESPACE, for_stack
from mtasts.stackfile import StackFileError, StackFileMissing, foreign_keys, read_stack_file, settings_keys


def _value(config: pulumi.Config, name: str, structured: bool) -> Any:
    if not structured:
        return config.get(name)
    try:
        return config.get_object(name)
    except pulumi.ConfigTypeError:
        return config.get(name)  # not JSON: a list given as a string, which parse_settings names


NO_TOKEN_IN_PREVIEW = (
    "No Netlify token in this preview, so the Netlify site and its certificate were not read from "
    "Netlify: the preview compares the configuration with the last recorded state only. "
    "Pull-request previews run without a Netlify token on purpose (Netlify has no read-only "
    "token); the deploy job holds it."
)


def netlify_token_problem(config: pulumi.Config) -> tuple[bool, str | None]:
    """(a token is available, why the one given cannot be used or None); never the token itself."""
    given = config.get("netlifyToken")  # the plain value of a secret, to be judged, never shown
    source = f"{NAMESPACE}:netlifyToken" if given is not None else "NETLIFY_AUTH_TOKEN"
    if given is None:
        given = os.environ.get("NETLIFY_AUTH_TOKEN")
    try:
        return clean_token(given) is not None, None
    except TokenError as error:
        return True, f"{source}: {error}"


def read_settings(project_dir: Path | None = None) -> Settings:
    config = pulumi.Config(NAMESPACE)
    declared = schema.declared()
    try:
        written = read_stack_file(pulumi.get_stack(), project_dir or Path.cwd())
    except StackFileMissing:
        written = {}  # no stack file here: the stack's config lives elsewhere
    except StackFileError as error:
        raise pulumi.RunError(f"invalid mta-sts configuration: {error}") from None
    names = [name for name in declared if not declared[name].secret]
    names += [name for name in settings_keys(written) if name not in declared]
    raw = {
        name: _value(config, name, declared[name].structured if name in declared else True) for name in names
    }
    raw = {name: value for name, value in raw.items() if value is not None}
    token_available, token_problem = netlify_token_problem(config)
    preview_without_token = not token_available and pulumi.runtime.is_dry_run()
    try:
        settings = parse_settings(
            raw,
            netlify_token_available=token_available or preview_without_token,
            prior_problems=foreign_keys(written, pulumi.get_stack()),
        )
    except ConfigError as error:
        # RunError prints the message alone, without a Python traceback.
        message = "\n".join(filter(None, (str(error), token_problem)))
        raise pulumi.RunError(for_stack(message, pulumi.get_stack())) from None
    if token_problem and settings.hosting is Hosting.NETLIFY:
        raise pulumi.RunError(token_problem)
    if preview_without_token and settings.hosting is Hosting.NETLIFY:
        pulumi.log.warn(NO_TOKEN_IN_PREVIEW)
    # As `render` prints them; the ones about the settings themselves the component logs (StackDomain).
    for warning in secret_warnings(written, pulumi.get_stack()):
        pulumi.log.warn(warning)
    return settings


def domain_args(settings: Settings) -> MtaStsDomainArgs:
    """The validated stack settings as the component's arguments (the token stays in the config,
    where the Netlify provider reads it, so existing stacks' inputs do not change)."""
    args = MtaStsDomainArgs(
        domain=settings.domain,
        mode=settings.mode.value,
        mx=list(settings.mx),
        max_age=settings.max_age,
        tls_rpt=list(settings.tls_rpt),
        hosting=settings.hosting.value,
        repository=settings.repository,
        readiness_timeout=settings.readiness_timeout,
        dnssec=settings.dnssec,
        adopt=settings.adopt,
        retire=settings.retire,
    )
    if settings.zone_id:
        args["zone_id"] = settings.zone_id
    if settings.proton:
        proton = settings.proton
        args["proton"] = ProtonArgs(
            verification=proton.verification,
            dkim=dict(proton.dkim),
            dmarc=proton.dmarc.value,
            dmarc_rua=list(proton.dmarc_rua),
            spf_includes=list(proton.spf_includes),
        )
    return args
