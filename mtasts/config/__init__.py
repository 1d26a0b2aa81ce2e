"""The stack's settings: keys declared in Pulumi.yaml, validated once, into one frozen object.

- `schema`: the keys, types and defaults, read from Pulumi.yaml's `config:` section
- `settings`: the `Settings` object and its enums
- `parse`: `parse_settings`, with `proton` and `values` for the parts of it
"""

from mtasts.config.parse import parse_settings
from mtasts.config.settings import (
    RETIRE_MAX_AGE,
    ConfigError,
    DmarcPolicy,
    Hosting,
    ProtonSettings,
    Settings,
    default_repository,
)
from mtasts.constants import PROTON_MX, PROTON_SPF_INCLUDE
from mtasts.policy import Mode

__all__ = [
    "PROTON_MX",
    "PROTON_SPF_INCLUDE",
    "RETIRE_MAX_AGE",
    "ConfigError",
    "DmarcPolicy",
    "Hosting",
    "Mode",
    "ProtonSettings",
    "Settings",
    "default_repository",
    "parse_settings",
]
