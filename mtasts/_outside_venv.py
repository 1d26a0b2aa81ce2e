"""What `python -m mtasts` says when run by a Python without the project's packages.

Standard library only, so that it works exactly where the packages are missing. Leaves alone
any other import error: only a missing module gets this message.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

PROJECT = Path(__file__).resolve().parent.parent


def explain(error: ModuleNotFoundError) -> NoReturn:
    """Exit with status 2, naming the missing package and the Python that lacks it."""
    venv = PROJECT / ".venv" / "bin" / "python"
    how = (
        "the project's virtualenv has them"
        if venv.exists()
        else "`scripts/test` or `scripts/deploy` makes the project's virtualenv (.venv) with them"
    )
    sys.stderr.write(
        f"error: python -m mtasts needs the package {error.name or 'it imports'!r}, which "
        f"{sys.executable or 'this Python'} does not have; {how}: run it as "
        "`.venv/bin/python -m mtasts ...` from the repository\n"
    )
    raise SystemExit(2)
