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


def deploy(
    tmp_path: Path, *args: str, version: str = "v3.272.0"
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    calls = tmp_path / "calls"
    stub = tmp_path / "bin" / "pulumi"
    stub.parent.mkdir(exist_ok=True)
    stub.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n[ "$1" = version ] && echo "{version}"\nexit 0\n')
    stub.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PULUMI_BACKEND_URL"}
    env["PATH"] = f"{stub.parent}:{env['PATH']}"
    result = subprocess.run(
        [str(ROOT / "scripts/deploy"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=tmp_path,
    )
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_deploy_checks_the_config_then_runs_up_with_the_policy_pack_on_the_local_backend(
    tmp_path: Path,
) -> None:
    result, calls = deploy(tmp_path, "dev", "--yes")
    assert result.returncode == 0, result.stderr
    assert calls == [
        "version",
        "login --local",
        "stack select --create dev",
        "up --stack dev --policy-pack policy --yes",
    ]


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
