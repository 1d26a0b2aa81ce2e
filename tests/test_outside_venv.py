"""`python -m mtasts` run by a Python without the project's packages says how to run it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


RENDER = ("render", "--stack", "dev")
# verify loads its DNS and HTTP libraries only when it runs, so only a run can miss them.
VERIFY = ("verify", "example.invalid", "--nameserver", "127.0.0.1", "--timeout", "0.5")


def run(
    *python_args: str, env: dict[str, str] | None = None, command: tuple[str, ...] = RENDER
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *python_args, "-m", "mtasts", *command],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **(env or {})},
    )


def test_without_any_site_packages_it_names_the_missing_package_and_the_virtualenv() -> None:
    result = run("-S")  # no site-packages: even the first import fails
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "ModuleNotFoundError" not in result.stderr
    assert re.search(r"needs the package '\w+'", result.stderr), result.stderr
    assert "`.venv/bin/python -m mtasts ...`" in result.stderr


@pytest.mark.parametrize(("missing", "command"), [("imapclient", RENDER), ("dns", VERIFY), ("h11", VERIFY)])
def test_a_package_missing_behind_the_core_gives_the_same_advice(
    tmp_path: Path, missing: str, command: tuple[str, ...]
) -> None:
    (tmp_path / missing).mkdir()
    (tmp_path / missing / "__init__.py").write_text(
        f"raise ModuleNotFoundError('No module named ' + {missing!r}, name={missing!r})\n"
    )
    result = run(env={"PYTHONPATH": str(tmp_path)}, command=command)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"needs the package {missing!r}" in result.stderr and ".venv/bin/python -m mtasts" in result.stderr


def test_importing_the_package_elsewhere_still_raises_the_error(tmp_path: Path) -> None:
    (tmp_path / "yaml").mkdir()
    (tmp_path / "yaml" / "__init__.py").write_text("raise ModuleNotFoundError('no yaml', name='yaml')\n")
    result = subprocess.run(
        [sys.executable, "-c", "import mtasts"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 1 and "ModuleNotFoundError" in result.stderr
