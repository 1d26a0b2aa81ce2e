"""`scripts/pulumi`, which runs any Pulumi command on the CLI and backend `scripts/deploy` uses,
driven with a stand-in `pulumi` as tests/test_deploy_script.py does; and the commands the tools
print, which must work as printed in a fresh shell, so they go through it."""

from __future__ import annotations

import ast
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.test_deploy_script import stand_in

ROOT = Path(__file__).resolve().parent.parent
RECORD = (
    'echo "pulumi $* [backend=$PULUMI_BACKEND_URL]" >> "{calls}"\n'
    '[ "$1" = version ] && echo "{version}"\nexit 0\n'
)


def run_pulumi_script(
    tmp_path: Path,
    *args: str,
    version: str | None = "v3.272.0",
    where: str = "path",
    env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """scripts/pulumi from a fresh shell (HOME in `tmp_path`, a PATH without the CLI unless
    `where` is "path"); `where="home"` puts the stand-in in ~/.pulumi/bin, where deploy installs it."""
    calls = tmp_path / "calls"
    bin_dir = tmp_path / ("home/.pulumi/bin" if where == "home" else "bin")
    bin_dir.mkdir(parents=True, exist_ok=True)
    if version is not None:
        stand_in(bin_dir, "pulumi", RECORD.format(calls=calls, version=version))
    tools = tmp_path / "tools"
    stand_in(tools, "curl", f'echo "curl $*" >> "{calls}"\nexit 6\n')
    base = {k: v for k, v in os.environ.items() if k != "PULUMI_BACKEND_URL"}
    path = [str(tools), *(p for p in base["PATH"].split(":") if not (Path(p) / "pulumi").exists())]
    if where == "path":
        path.insert(0, str(bin_dir))
    base.update(
        PATH=":".join(path),
        HOME=str(tmp_path / "home"),
        XDG_CACHE_HOME=base.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
    )
    result = subprocess.run(
        [str(ROOT / "scripts/pulumi"), *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=600,
        cwd=tmp_path,  # any folder: the script runs in the repository
    )
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_a_printed_config_command_runs_on_local_state_as_deploy_would(tmp_path: Path) -> None:
    result, calls = run_pulumi_script(tmp_path, "config", "set", "mode", "enforce", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    assert calls == [
        "pulumi version [backend=]",
        "pulumi config set mode enforce --stack dev [backend=file://~]",
    ]
    assert "State backend: local files in ~/.pulumi" in result.stderr


def test_the_cli_that_deploy_installed_is_found_in_a_fresh_shell(tmp_path: Path) -> None:
    result, calls = run_pulumi_script(tmp_path, "stack", "output", "dnssecDs", where="home")
    assert result.returncode == 0, result.stderr
    assert calls[-1] == "pulumi stack output dnssecDs [backend=file://~]"


def test_the_backend_the_user_chose_is_kept_and_nobody_logs_in(tmp_path: Path) -> None:
    result, calls = run_pulumi_script(tmp_path, "preview", env={"PULUMI_BACKEND_URL": "s3://team-state"})
    assert result.returncode == 0, result.stderr
    assert calls[-1] == "pulumi preview [backend=s3://team-state]"
    assert not any(" login" in call for call in calls)


def test_a_backend_url_holding_a_password_is_used_but_not_printed(tmp_path: Path) -> None:
    # A DIY backend on PostgreSQL is named by a URL that may carry its password; CI logs keep stderr.
    url = "postgres://pulumi:s3cr3t-Passw0rd@db.example.com:5432/state"
    result, calls = run_pulumi_script(tmp_path, "stack", "ls", env={"PULUMI_BACKEND_URL": url})
    assert result.returncode == 0, result.stderr
    assert calls[-1].endswith(f"[backend={url}]")
    assert "s3cr3t-Passw0rd" not in result.stdout + result.stderr
    assert "postgres://…@db.example.com:5432/state" in result.stderr


def test_without_a_cli_it_cannot_install_it_says_how_and_runs_nothing(tmp_path: Path) -> None:
    result, calls = run_pulumi_script(tmp_path, "up", version=None)
    assert result.returncode == 1
    assert "Install it by hand" in result.stderr and "Nothing was changed" in result.stderr
    assert [call.split()[0] for call in calls] == ["curl"]


def test_a_cli_too_old_is_refused_as_deploy_refuses_it(tmp_path: Path) -> None:
    result, calls = run_pulumi_script(tmp_path, "up", version="v3.150.0")
    assert result.returncode == 2 and "3.200 or newer" in result.stderr
    assert calls == ["pulumi version [backend=]"]


def test_deploy_and_the_pulumi_script_share_one_definition_of_cli_and_backend() -> None:
    for script in ("scripts/deploy", "scripts/pulumi"):
        text = (ROOT / script).read_text()
        assert ". scripts/pulumi-cli.sh" in text, script
        assert "PULUMI_BACKEND_URL=" not in text and "get.pulumi.com" not in text, script


# --- The commands the tools print --------------------------------------------------------------

# A Pulumi command written bare: it fails in a shell where deploy's CLI and backend are not set.
BARE = re.compile(r"(?<![\w/.-])pulumi (config|up|stack|destroy|refresh|preview|import|state|cancel)\b")
PRINTING = [
    *sorted(ROOT.glob("mtasts/**/*.py")),
    *sorted(ROOT.glob("policy/**/*.py")),
    ROOT / "__main__.py",
    *sorted(ROOT.glob("components/**/*.py")),
]


def printed_strings(path: Path) -> list[tuple[int, str]]:
    """String constants that are not docstrings: what the code prints or returns as a message."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


@pytest.mark.parametrize("path", PRINTING, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_pulumi_command_the_tools_print_goes_through_scripts_pulumi(path: Path) -> None:
    bare = [f"{path.name}:{line}: {text!r}" for line, text in printed_strings(path) if BARE.search(text)]
    assert not bare, "\n".join(bare)


@pytest.mark.parametrize("path", [ROOT / "README.md", *sorted(ROOT.glob("docs/*.md"))], ids=lambda p: p.name)
def test_the_docs_commands_name_a_stack_not_a_placeholder(path: Path) -> None:
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", path.read_text(), re.DOTALL))
    inline = re.findall(r"`((?:scripts/|\.venv/bin/python )[^`]*)`", path.read_text())
    placeholders = [line for line in [*blocks.splitlines(), *inline] if "<stack>" in line]
    assert not placeholders, placeholders
