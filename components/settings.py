"""The one place that reads `pulumi.Config`: stack config in, validated `Settings` out.

Invalid config stops the program before any resource is registered, with every problem
listed (`mtasts.config.parse_settings`). The Netlify token is only looked at here: whether
one is available, so that a missing token is reported with the rest, and whether it could
be a token at all (`clean_token`: surrounding whitespace is stripped, inner whitespace,
control or non-ASCII characters are refused), never printed. A preview without a token
(pull requests get no Netlify token: Netlify has no read-only token) goes on, saying that
the Netlify resources were not read.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from components.netlify.api import TokenError, clean_token
from mtasts.config import ConfigError, Hosting, Settings, parse_settings

NAMESPACE = "mta-sts"
# Lists and objects reach the program as JSON text.
_LIST_KEYS = ("mx", "tlsRpt", "proton")


def _all_keys() -> set[str]:
    """Every `mta-sts:*` key set on the stack, so that a misspelt key is reported."""
    keys = {*runtime_config.get_config_env(), *runtime_config.CONFIG.get()}
    return {key.split(":", 1)[1] for key in keys if key.startswith(NAMESPACE + ":")}


def _raw_value(config: pulumi.Config, key: str) -> Any:
    if key in _LIST_KEYS:
        text = config.get(key)
        if text is None:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text  # parse_settings names the key and says what is expected
    return config.get(key)


NO_TOKEN_IN_PREVIEW = (
    "No Netlify token in this preview, so the Netlify site and its certificate were not read from "
    "Netlify: the preview compares the configuration with the last recorded state only. "
    "Pull-request previews run without a Netlify token on purpose (Netlify has no read-only "
    "token); the deploy job holds it."
)


def netlify_token_problem() -> tuple[bool, str | None]:
    """(a token is available, why the one given cannot be used or None); never the token itself."""
    given = runtime_config.get_config(f"{NAMESPACE}:netlifyToken")
    source = f"{NAMESPACE}:netlifyToken" if given is not None else "NETLIFY_AUTH_TOKEN"
    if given is None:
        given = os.environ.get("NETLIFY_AUTH_TOKEN")
    try:
        return clean_token(given) is not None, None
    except TokenError as error:
        return True, f"{source}: {error}"


def read_settings() -> Settings:
    config = pulumi.Config(NAMESPACE)
    raw = {key: _raw_value(config, key) for key in _all_keys() if key != "netlifyToken"}
    raw = {key: value for key, value in raw.items() if value is not None}
    token_available, token_problem = netlify_token_problem()
    preview_without_token = not token_available and pulumi.runtime.is_dry_run()
    try:
        settings = parse_settings(raw, netlify_token_available=token_available or preview_without_token)
    except ConfigError as error:
        # RunError prints the message alone, without a Python traceback.
        raise pulumi.RunError("\n".join(filter(None, (str(error), token_problem)))) from None
    if token_problem and settings.hosting is Hosting.NETLIFY:
        raise pulumi.RunError(token_problem)
    if preview_without_token and settings.hosting is Hosting.NETLIFY:
        pulumi.log.warn(NO_TOKEN_IN_PREVIEW)
    return settings
