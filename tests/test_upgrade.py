"""Stacks deployed by earlier versions upgrade in place: every URN they hold is the URN, or an
alias, of a resource the program registers now (tests/data/urns/, made with the program before
the component became a package), and every provider pickled into their state still loads."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.pickles import names_loaded
from tests.pulumi_mocks import PROJECT_DIR, Registered, StackRun

Run = Callable[..., StackRun]
URN_DATA = sorted((PROJECT_DIR / "tests" / "data" / "urns").glob("*.json"))
ROOT = "pulumi:pulumi:Stack"
PICKLED = json.loads((PROJECT_DIR / "tests" / "data" / "pickled-providers.json").read_text())


def reachable_urns(resources: list[Registered]) -> set[str]:
    """Every URN the engine would match each resource against: its own, and those its aliases
    and its parent's aliases imply (a child of an aliased parent is aliased too). URNs as the mock
    monitor makes them (`MockMonitor.make_urn`): the parent's own type, `$`, the resource's type."""
    by_urn = {resource.urn: resource for resource in resources}
    head = "::".join(resources[0].urn.split("::")[:2])

    def types(resource: Registered) -> set[str]:
        return {resource.type} | {alias["type"] for alias in resource.aliases if "type" in alias}

    found = set()
    for resource in resources:
        parent = by_urn.get(resource.parent)
        parent_types = types(parent) if parent else {resource.parent.split("::")[2].split("$")[-1]}
        if any(alias.get("noParent") for alias in resource.aliases):
            parent_types.add(ROOT)
        names = {resource.name} | {alias["name"] for alias in resource.aliases if "name" in alias}
        found |= {f"{head}::{p}${t}::{n}" for p in parent_types for t in types(resource) for n in names}
        found |= {alias["urn"] for alias in resource.aliases if "urn" in alias}
    return found


@pytest.mark.parametrize("data", URN_DATA, ids=[path.stem for path in URN_DATA])
def test_every_urn_an_existing_stack_holds_is_reachable_from_the_program_now(stack: Run, data: Path) -> None:
    recorded = json.loads(data.read_text())
    run = stack(recorded["config"])
    missing = set(recorded["urns"]) - reachable_urns(run.resources)
    assert not missing, f"replaced or deleted on upgrade: {sorted(missing)}"


def test_the_served_policy_moved_under_the_component_keeps_its_root_urn_as_an_alias(stack: Run) -> None:
    served = stack({"domain": "example.com"}).named("mta-sts-served")
    assert served.parent.endswith("mta-sts:index:MtaStsDomain::mta-sts")
    assert {"noParent": True} in served.aliases


@pytest.mark.parametrize(
    ("provider", "module"),
    [("PolicyReadinessProvider", "components.readiness"), ("ServedPolicyProvider", "components.served")],
)
def test_a_provider_pickled_in_existing_state_names_its_old_module_path(provider: str, module: str) -> None:
    assert (module, provider) in names_loaded(PICKLED[provider])


@pytest.mark.parametrize("provider", ["PolicyReadinessProvider", "ServedPolicyProvider"])
def test_the_provider_host_loads_a_pickled_provider_from_any_working_directory(
    provider: str, tmp_path: Path
) -> None:
    # The dynamic-provider host is the .venv's Python; nothing guarantees it starts in the project
    # directory, so the shims must be importable through the .venv itself (scripts/venv.sh).
    script = (
        "import base64, sys, dill\n"
        "provider = dill.loads(base64.b64decode(sys.stdin.read()))\n"
        "print(type(provider).__module__, type(provider).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=PICKLED[provider],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == provider
