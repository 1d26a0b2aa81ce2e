"""`scripts/deploy <stack>`, the README's deploy command, driven with a stand-in `pulumi` CLI.

The real CLI cannot be installed here; the stand-in records its arguments so the test sees
what the script asks Pulumi to do, in which order, and that it refuses what it should.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def stand_in(directory: Path, name: str, body: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text("#!/bin/sh\n" + body)
    (directory / name).chmod(0o755)


def deploy(
    tmp_path: Path,
    *args: str,
    version: str | None = "v3.272.0",
    env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run scripts/deploy with HOME in `tmp_path`; `version=None` means no Pulumi CLI at all and a
    `curl` that cannot reach the installer. Returns the result and the stand-ins' calls."""
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    if version is not None:
        stand_in(
            bin_dir,
            "pulumi",
            f'echo "pulumi $* [backend=$PULUMI_BACKEND_URL]" >> "{calls}"\n'
            f'[ "$1" = version ] && echo "{version}"\nexit 0\n',
        )
    stand_in(bin_dir, "curl", f'echo "curl $*" >> "{calls}"\nexit 6\n')
    base = {k: v for k, v in os.environ.items() if k != "PULUMI_BACKEND_URL"}
    base.update(
        PATH=f"{bin_dir}:{base['PATH']}",
        HOME=str(tmp_path / "home"),
        # pip keeps using the machine's cache although HOME moved
        XDG_CACHE_HOME=base.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
    )
    (tmp_path / "home").mkdir(exist_ok=True)
    result = subprocess.run(
        [str(ROOT / "scripts/deploy"), *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=600,
        cwd=tmp_path,
    )
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_deploy_checks_the_config_then_runs_up_with_the_policy_pack_on_local_files_for_this_run_only(
    tmp_path: Path,
) -> None:
    credentials = tmp_path / "home" / ".pulumi" / "credentials.json"
    credentials.parent.mkdir(parents=True)
    credentials.write_text('{"current": "https://api.pulumi.com"}')
    result, calls = deploy(tmp_path, "dev", "--yes")
    assert result.returncode == 0, result.stderr
    assert calls == [
        "pulumi version [backend=]",
        "pulumi stack select --create dev [backend=file://~]",
        "pulumi up --stack dev --policy-pack policy --yes [backend=file://~]",
    ]
    assert "State backend: local files in ~/.pulumi" in result.stderr
    assert credentials.read_text() == '{"current": "https://api.pulumi.com"}'


def test_deploy_uses_the_backend_the_user_chose_and_never_logs_in(tmp_path: Path) -> None:
    result, calls = deploy(tmp_path, "dev", env={"PULUMI_BACKEND_URL": "s3://team-state"})
    assert result.returncode == 0, result.stderr
    assert calls[-1] == "pulumi up --stack dev --policy-pack policy [backend=s3://team-state]"
    assert not any(" login" in call for call in calls)
    assert "State backend: s3://team-state" in result.stderr


def test_deploy_without_a_pulumi_cli_it_cannot_install_says_how_and_changes_nothing(tmp_path: Path) -> None:
    result, calls = deploy(tmp_path, "dev", version=None)
    assert result.returncode == 1
    assert "Install it by hand" in result.stderr and "get.pulumi.com | sh" in result.stderr
    assert "Nothing was changed" in result.stderr
    assert [call.split()[0] for call in calls] == ["curl"]


def test_deploy_reports_a_config_mistake_before_trying_to_install_the_cli(tmp_path: Path) -> None:
    bad = ROOT / "Pulumi.broken-cli-test-stack.yaml"
    bad.write_text("config:\n  mta-sts:domain: example.com\n  mta-sts:mode: strict\n")
    try:
        result, calls = deploy(tmp_path, "broken-cli-test-stack", version=None)
    finally:
        bad.unlink()
    assert result.returncode == 2
    assert "'mode' 'strict'" in result.stderr
    assert calls == []


def test_deploy_refuses_a_pulumi_cli_too_old_to_adopt_records(tmp_path: Path) -> None:
    result, calls = deploy(tmp_path, "dev", version="v3.150.0")
    assert result.returncode == 2
    assert "3.200 or newer" in result.stderr
    assert not any(call.startswith("up") for call in calls)


@pytest.mark.parametrize("args", [(), ("no-such-stack",)])
def test_deploy_without_a_known_stack_lists_the_stacks_and_changes_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result, calls = deploy(tmp_path, *args)
    assert result.returncode == 2
    assert "dev" in result.stderr and "proton" in result.stderr
    assert calls == []


def test_deploy_stops_on_an_invalid_stack_config_before_calling_pulumi_up(tmp_path: Path) -> None:
    bad = ROOT / "Pulumi.broken-test-stack.yaml"
    bad.write_text("config:\n  mta-sts:domain: example.com\n  mta-sts:mode: strict\n")
    try:
        result, calls = deploy(tmp_path, "broken-test-stack")
    finally:
        bad.unlink()
    assert result.returncode == 2
    assert "'mode' 'strict'" in result.stderr
    assert not any(call.startswith(("up", "stack")) for call in calls)
