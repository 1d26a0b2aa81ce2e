"""The examples are programs of their own that use the package: two domains side by side, each in
its own zone with its own repository and site, every child and lookup on the providers the
program chose; and the Python example runs from a fresh virtualenv holding only the built wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pulumi_mocks import PROJECT_DIR, StackRun, run_example, zone_id_of

EXAMPLE = PROJECT_DIR / "examples" / "python-two-domains"
PROJECT = "python-two-domains"
DOMAINS = {"example-com": "example.com", "example-org": "example.org"}


@pytest.fixture(scope="module")
def run() -> StackRun:
    os.environ.setdefault("NETLIFY_AUTH_TOKEN", "test-netlify-token-not-a-secret")
    return run_example(EXAMPLE, PROJECT)


def component_of(run: StackRun, urn: str) -> str:
    """The name of the MtaStsDomain a resource belongs to."""
    by_urn = {resource.urn: resource for resource in run.resources}
    resource = by_urn[urn]
    while resource.type != "mta-sts:index:MtaStsDomain":
        resource = by_urn[resource.parent]
    return resource.name


def test_two_domains_in_one_stack_register_no_urn_twice(run: StackRun) -> None:
    urns = [resource.urn for resource in run.resources]
    assert len(urns) == len(set(urns))
    assert sorted(r.name for r in run.of_type("mta-sts:index:MtaStsDomain")) == sorted(DOMAINS)


def test_each_domains_records_go_to_its_own_zone(run: StackRun) -> None:
    records = run.dns_records()
    assert records
    for record in records:
        domain = DOMAINS[component_of(run, record.urn)]
        assert record.inputs["zoneId"] == zone_id_of(domain), record.name
        assert record.inputs["name"].endswith(domain), record.name


def test_each_domain_has_its_own_repository_and_its_hosting(run: StackRun) -> None:
    repositories = {
        component_of(run, r.urn): r.inputs["name"] for r in run.of_type("github:index/repository:Repository")
    }
    assert repositories == {"example-com": "mta-sts-example-com", "example-org": "mta-sts-example-org"}
    [pages] = run.of_type("github:index/repositoryPages:RepositoryPages")
    [site] = run.of_type("pulumi-python:dynamic/netlify:Site")
    assert (component_of(run, pages.urn), component_of(run, site.urn)) == ("example-com", "example-org")


@pytest.mark.parametrize("package", ["cloudflare", "github"])
def test_every_child_uses_the_provider_the_program_passed(run: StackRun, package: str) -> None:
    [explicit] = [r for r in run.resources if r.type == f"pulumi:providers:{package}"]
    children = [r for r in run.resources if r.type.startswith(f"{package}:")]
    assert children
    for child in children:
        assert child.provider.startswith(explicit.urn + "::"), child.name


def test_every_lookup_uses_the_cloudflare_provider_the_program_passed(run: StackRun) -> None:
    [explicit] = [r for r in run.resources if r.type == "pulumi:providers:cloudflare"]
    tokens = [token for token, _ in run.calls]
    assert (
        tokens.count("cloudflare:index/getZone:getZone") == 2
        and "cloudflare:index/getDnsRecords:getDnsRecords" in tokens
    )
    for token, provider in zip(tokens, run.call_providers, strict=True):
        assert provider.startswith(explicit.urn + "::"), token


def test_the_example_runs_from_a_fresh_virtualenv_with_only_the_built_wheel(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--quiet", "-w", str(wheels)],
        cwd=PROJECT_DIR,
        check=True,
        timeout=300,
        capture_output=True,
    )
    [wheel] = wheels.glob("pulumi_mta_sts-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(wheel),
            "-c",
            str(PROJECT_DIR / "constraints.txt"),
        ],
        check=True,
        timeout=900,
        capture_output=True,
    )
    # The mock runner alone, away from the repository: nothing of the repository is importable.
    runner = tmp_path / "runner"
    runner.mkdir()
    shutil.copy(PROJECT_DIR / "tests" / "pulumi_mocks.py", runner / "pulumi_mocks.py")
    script = (
        "import json, sys, pulumi_mta_sts, mtasts\n"
        "from pulumi_mocks import run_example\n"
        "from pathlib import Path\n"
        "run = run_example(Path(sys.argv[1]), 'python-two-domains')\n"
        "print(json.dumps({'files': [pulumi_mta_sts.__file__, mtasts.__file__],\n"
        "                  'components': sorted(r.name for r in run.of_type('mta-sts:index:MtaStsDomain')),\n"
        "                  'exports': sorted(run.exports)}))\n"
    )
    env = {**os.environ, "NETLIFY_AUTH_TOKEN": "test-netlify-token-not-a-secret", "PYTHONPATH": ""}
    result = subprocess.run(
        [python, "-c", script, str(EXAMPLE)], cwd=runner, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    found = json.loads(result.stdout.splitlines()[-1])
    assert all(path.startswith(str(venv)) for path in found["files"]), found["files"]
    assert found["components"] == sorted(DOMAINS)
    assert "exampleOrgPolicyUrl" in found["exports"]


def test_the_wheel_holds_the_package_and_the_core_and_no_components_module(tmp_path: Path) -> None:
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--quiet", "-w", str(tmp_path)],
        cwd=PROJECT_DIR,
        check=True,
        timeout=300,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("pulumi_mta_sts-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {"pulumi_mta_sts", "mtasts"} <= tops
    assert not {
        top for top in tops if top not in ("pulumi_mta_sts", "mtasts") and not top.endswith(".dist-info")
    }
