"""scripts/debian.sh, which scripts/test uses as root: packages in, the machine otherwise unchanged.

Driven with stand-ins for dpkg-query, apt-get and systemctl on PATH and a temporary
policy-rc.d path and systemd unit folder, so the test sees exactly what it would do to a machine.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def stand_in(bin_dir: Path, name: str, body: str) -> None:
    (bin_dir / name).write_text("#!/bin/bash\n" + body)
    (bin_dir / name).chmod(0o755)


class Machine:
    """A pretend machine: installed packages, enabled units, and a log of what was asked of it."""

    def __init__(self, tmp_path: Path, *, install_fails: bool = False) -> None:
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.log = tmp_path / "log"
        self.policy_rc_d = tmp_path / "policy-rc.d"
        self.units = tmp_path / "systemd"
        self.wants = self.units / "multi-user.target.wants"
        self.wants.mkdir(parents=True)
        (self.wants / "nginx.service").symlink_to("/lib/systemd/system/nginx.service")  # the machine's own
        stand_in(self.bin, "dpkg-query", 'case "$*" in *already-here*) echo "install ok installed";; esac\n')
        stand_in(
            self.bin,
            "apt-get",
            f'echo "apt-get $* policy-rc.d=$( [ -x "{self.policy_rc_d}" ] && "{self.policy_rc_d}"; echo $?)"'
            f' >> "{self.log}"\n'
            f'if [ "$1" = install ]; then '
            f'ln -s /lib/systemd/system/newd.service "{self.wants}/newd.service"; '
            f"exit {1 if install_fails else 0}; fi\n",
        )
        stand_in(self.bin, "systemctl", f'echo "systemctl $*" >> "{self.log}"\n')

    def ensure(self, *packages: str) -> subprocess.CompletedProcess[str]:
        env = dict(
            os.environ,
            PATH=f"{self.bin}:{os.environ['PATH']}",
            POLICY_RC_D=str(self.policy_rc_d),
            SYSTEMD_UNITS=str(self.units),
        )
        script = f"set -euo pipefail; . scripts/debian.sh; ensure_debian_packages {' '.join(packages)}"
        return subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


def test_packages_install_with_daemons_forbidden_and_the_guard_is_removed_afterwards(tmp_path: Path) -> None:
    machine = Machine(tmp_path)
    result = machine.ensure("nsd", "already-here")
    assert result.returncode == 0, result.stderr
    assert machine.calls()[:2] == [
        "apt-get update -qq policy-rc.d=101",
        "apt-get install -y -qq --no-install-recommends nsd policy-rc.d=101",
    ]
    assert not machine.policy_rc_d.exists()


def test_a_failed_install_still_removes_the_guard_and_fails(tmp_path: Path) -> None:
    machine = Machine(tmp_path, install_fails=True)
    result = machine.ensure("nsd")
    assert result.returncode != 0
    assert not machine.policy_rc_d.exists()


def test_a_guard_the_machine_already_had_is_left_as_it_was(tmp_path: Path) -> None:
    machine = Machine(tmp_path)
    machine.policy_rc_d.write_text("#!/bin/sh\nexit 101\n# the admin's own\n")
    machine.policy_rc_d.chmod(0o755)
    assert machine.ensure("nsd").returncode == 0
    assert machine.policy_rc_d.read_text().endswith("# the admin's own\n")


def test_only_units_the_install_enabled_are_disabled_and_nothing_is_stopped(tmp_path: Path) -> None:
    machine = Machine(tmp_path)
    assert machine.ensure("nsd").returncode == 0
    systemctl = [call for call in machine.calls() if call.startswith("systemctl")]
    assert systemctl == ["systemctl disable --quiet newd.service"]
    assert (machine.wants / "nginx.service").is_symlink()


@pytest.mark.parametrize("packages", [("already-here",), ()])
def test_nothing_is_asked_of_apt_when_every_package_is_installed(
    tmp_path: Path, packages: tuple[str, ...]
) -> None:
    machine = Machine(tmp_path)
    assert machine.ensure(*packages).returncode == 0
    assert machine.calls() == []
