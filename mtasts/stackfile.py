"""Read a stack's settings from `Pulumi.<stack>.yaml` without the Pulumi CLI.

Used by `render` and `verify --stack` so users can see the desired state with no
credentials, and by the program for the names of the keys a stack file sets (the Pulumi SDK
answers for a key it is asked about, but cannot list them), so that a misspelt key or one
without the `mta-sts:` namespace gets the same message from both. Secure (encrypted) values
are never decrypted here: only their presence is noted.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mtasts.config import ConfigError, Settings, parse_settings, schema
from mtasts.config.values import NAMESPACE, namespace_problems
from mtasts.errors import MtaStsError


class StackFileError(MtaStsError, ValueError):
    """A stack file that cannot be read as one; the message says which and why."""


def stack_file(stack: str, project_dir: Path = Path(".")) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def read_stack_file(stack: str, project_dir: Path = Path(".")) -> dict[str, Any]:
    """The `config:` mapping of a stack file, every key as written."""
    path = stack_file(stack, project_dir)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise StackFileError(f"no stack file {path}; stacks here: {', '.join(stacks) or 'none'}") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path} is not valid YAML: {error}") from None
    config = document.get("config") if isinstance(document, Mapping) else None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: 'config' must be a mapping")
    return config


def settings_keys(config: Mapping[Any, Any]) -> dict[str, Any]:
    """The `mta-sts:*` keys, namespace removed, secure values left out."""
    prefix = NAMESPACE + ":"
    return {
        key[len(prefix) :]: value
        for key, value in config.items()
        if isinstance(key, str)
        and key.startswith(prefix)
        and not (isinstance(value, dict) and "secure" in value)
    }


def foreign_keys(config: Mapping[Any, Any], stack: str) -> list[str]:
    """Problems for keys written without the `mta-sts:` namespace that name one of its settings."""
    return namespace_problems(config, schema.declared(), f"Pulumi.{stack}.yaml")


def load_settings(stack: str, project_dir: Path = Path(".")) -> Settings:
    """Validated Settings of a stack file; raises StackFileError or ConfigError."""
    config = read_stack_file(stack, project_dir)
    try:
        return parse_settings(settings_keys(config), prior_problems=foreign_keys(config, stack))
    except ConfigError as error:
        where = f"Pulumi.{stack}.yaml"
        raise ConfigError(
            [problem if where in problem else f"{where}: {problem}" for problem in error.problems]
        ) from None
