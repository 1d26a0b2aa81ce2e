"""The daily workflow reads the TLS reports mailbox next to `verify`, in a job and environment of its own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def jobs() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / ".github" / "workflows" / "verify.yml").read_text())["jobs"])


def reports_step() -> dict[str, Any]:
    [step] = [step for step in jobs()["reports"]["steps"] if "mtasts reports" in str(step.get("run", ""))]
    return dict(step)


def run_step(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ["PATH"], "STACK": "dev", **env}
    return subprocess.run(
        ["bash", "-e", "-c", reports_step()["run"]],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_step_reads_the_mailbox_with_secrets_and_fails_only_on_refused_mail() -> None:
    step = reports_step()
    assert step["env"] == {
        "STACK": "${{ matrix.stack }}",
        "TLSRPT_IMAP_URL": "${{ secrets.TLSRPT_IMAP_URL }}",
        "MTASTS_IMAP_PASSWORD": "${{ secrets.TLSRPT_IMAP_PASSWORD }}",
    }
    assert '--stack "$STACK"' in step["run"] and "--fail-on enforce" in step["run"]
    assert "--imap-timeout 300" in step["run"]


def test_the_mailbox_secrets_live_in_an_environment_of_their_own_and_verify_holds_none() -> None:
    reports, verify = jobs()["reports"], jobs()["verify"]
    assert reports["environment"] == "tls-reports"
    assert "needs" in reports and "verify" not in reports["needs"]  # runs even when verify found a problem
    assert "secrets." not in yaml.safe_dump(verify) and "environment" not in verify


def test_every_job_of_the_daily_run_has_a_time_limit_beyond_the_mailbox_deadline() -> None:
    for name, job in jobs().items():
        if name == "stacks":
            continue
        assert 5 <= job["timeout-minutes"] <= 30, name
    assert jobs()["reports"]["timeout-minutes"] * 60 > 300 + 120  # --imap-timeout plus installing


def test_the_step_is_skipped_with_a_notice_when_no_mailbox_is_configured() -> None:
    result = run_step(TLSRPT_IMAP_URL="")
    assert result.returncode == 0 and "TLSRPT_IMAP_URL is not set" in result.stdout


def test_the_steps_command_line_is_accepted_by_the_command() -> None:
    # Without the password the command stops at its own check, after argparse accepted every flag.
    result = run_step(TLSRPT_IMAP_URL="imaps://tls-reports%40example.com@imap.example.com/INBOX")
    assert result.returncode == 2 and "needs the mailbox password" in result.stderr
