"""The one place that reads `pulumi.Config`: stack config in, validated `Settings` out.

Invalid config stops the program before any resource is registered, with every problem
listed (`mtasts.config.parse_settings`). The Netlify token is never read here: only
whether one is available, so that a missing token is reported with the rest.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from mtasts.config import ConfigError, Settings, parse_settings

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


def read_settings() -> Settings:
    config = pulumi.Config(NAMESPACE)
    raw = {key: _raw_value(config, key) for key in _all_keys() if key != "netlifyToken"}
    raw = {key: value for key, value in raw.items() if value is not None}
    token_available = runtime_config.get_config(f"{NAMESPACE}:netlifyToken") is not None or bool(
        os.environ.get("NETLIFY_AUTH_TOKEN")
    )
    try:
        return parse_settings(raw, netlify_token_available=token_available)
    except ConfigError as error:
        # RunError prints the message alone, without a Python traceback.
        raise pulumi.RunError(str(error)) from None
