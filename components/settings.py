"""The one place that reads `pulumi.Config`: stack config in, validated `Settings` out.

Only the SDK's public API: each key Pulumi.yaml declares is read by its declared type
(`Config.get_object` for lists and objects, `Config.get` for the rest; `parse_settings`
accepts the strings `pulumi config set` writes for numbers and booleans). The SDK cannot
list the keys a stack sets, so their names come from the stack file (`mtasts.stackfile`),
and their values again from `pulumi.Config`: a misspelt key or one without the `mta-sts:`
namespace is reported as `render` reports it. Keys set only outside the stack file (an ESC
environment) are read when declared, and not listed when misspelt.

Invalid config stops the program before any resource is registered, with every problem
listed. The Netlify token is never read: only whether one is available.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pulumi

from mtasts.config import ConfigError, Settings, parse_settings, schema
from mtasts.config.values import NAMESPACE
from mtasts.stackfile import StackFileError, foreign_keys, read_stack_file, settings_keys


def _value(config: pulumi.Config, name: str, structured: bool) -> Any:
    if not structured:
        return config.get(name)
    try:
        return config.get_object(name)
    except pulumi.ConfigTypeError:
        return config.get(name)  # not JSON: a list given as a string, which parse_settings names


def read_settings(project_dir: Path | None = None) -> Settings:
    config = pulumi.Config(NAMESPACE)
    declared = schema.declared()
    try:
        written = read_stack_file(pulumi.get_stack(), project_dir or Path.cwd())
    except StackFileError:
        written = {}  # no stack file here: the stack's config lives elsewhere
    names = [name for name in declared if not declared[name].secret]
    names += [name for name in settings_keys(written) if name not in declared]
    raw = {
        name: _value(config, name, declared[name].structured if name in declared else True) for name in names
    }
    raw = {name: value for name, value in raw.items() if value is not None}
    token_available = config.get_secret("netlifyToken") is not None or bool(
        os.environ.get("NETLIFY_AUTH_TOKEN")
    )
    try:
        return parse_settings(
            raw,
            netlify_token_available=token_available,
            prior_problems=foreign_keys(written, pulumi.get_stack()),
        )
    except ConfigError as error:
        # RunError prints the message alone, without a Python traceback.
        raise pulumi.RunError(str(error)) from None
