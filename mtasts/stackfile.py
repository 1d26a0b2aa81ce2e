"""Read a stack's settings from `Pulumi.<stack>.yaml` without the Pulumi CLI.

Used by `render` and `verify --stack` so users can see the desired state with no
credentials. Secure (encrypted) values are never decrypted here: only their presence
is noted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mtasts.config import ConfigError, Settings, parse_settings

NAMESPACE = "mta-sts"


class StackFileError(ValueError):
    pass


def read_stack_config(stack: str, project_dir: Path = Path(".")) -> dict[str, Any]:
    """The `mta-sts:*` keys of a stack file, namespace removed, secure values left out."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise StackFileError(f"no stack file {path}; stacks here: {', '.join(stacks) or 'none'}") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path} is not valid YAML: {error}") from None
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: 'config' must be a mapping")
    prefix = NAMESPACE + ":"
    return {
        key[len(prefix) :]: value
        for key, value in config.items()
        if key.startswith(prefix) and not (isinstance(value, dict) and "secure" in value)
    }


def load_settings(stack: str, project_dir: Path = Path(".")) -> Settings:
    """Validated Settings of a stack file; raises StackFileError or ConfigError."""
    raw = read_stack_config(stack, project_dir)
    try:
        return parse_settings(raw)
    except ConfigError as error:
        raise ConfigError([f"Pulumi.{stack}.yaml: {problem}" for problem in error.problems]) from None
