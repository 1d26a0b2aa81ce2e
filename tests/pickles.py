"""What unpickling a provider from existing state imports: the names old state holds us to."""

from __future__ import annotations

import base64
import io
from typing import Any

import dill


def names_loaded(serialized: str) -> set[tuple[str, str]]:
    """The (module, name) of every class or function unpickling `serialized` imports."""
    seen: set[tuple[str, str]] = set()

    class Recording(dill.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            seen.add((module, name))
            return super().find_class(module, name)

    Recording(io.BytesIO(base64.b64decode(serialized))).load()
    return seen
