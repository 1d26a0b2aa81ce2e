"""The configuration schema, read from the one place it is declared: Pulumi.yaml's `config:`.

Pulumi reads the same section to type-check a stack's values and to list its settings, so
keys, types and defaults are written once. The file is found beside the package (the
repository root), not in the working directory, so `python -m mtasts` works from any
folder and the dynamic providers' host process, which imports this package, finds it too.
It is read on first use, not at import: start-up stays lean for code that never validates
a stack (the providers' host).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_FILE = Path(__file__).resolve().parents[2] / "Pulumi.yaml"


@dataclass(frozen=True)
class Key:
    name: str
    type: str
    default: Any = None
    secret: bool = False

    @property
    def structured(self) -> bool:
        """Lists and objects: Pulumi hands them to the program as JSON text."""
        return self.type in ("array", "object")


@functools.cache
def declared() -> dict[str, Key]:
    """Every declared key by name, in the order Pulumi.yaml lists them."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(PROJECT_FILE.read_text(encoding="utf-8"), Loader=loader)
    except FileNotFoundError:
        raise RuntimeError(
            f"{PROJECT_FILE} is missing: the mtasts package reads its configuration schema from the "
            "Pulumi.yaml beside it; install the project editable (`pip install -e .`) from a full clone"
        ) from None
    section = document.get("config") or {}
    return {
        name: Key(name, spec.get("type", "string"), spec.get("default"), bool(spec.get("secret")))
        for name, spec in section.items()
    }


def default(name: str) -> Any:
    return declared()[name].default
