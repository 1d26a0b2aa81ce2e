"""The distribution others install: its dependencies are the program's (same ranges), and its
public surface is the one `pulumi_mta_sts.__all__` names."""

from __future__ import annotations

import re
import tomllib

import pulumi_mta_sts

from tests.pulumi_mocks import PROJECT_DIR

PYPROJECT = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())


def requirement_lines() -> dict[str, str]:
    lines = (PROJECT_DIR / "requirements.txt").read_text().splitlines()
    found = {}
    for line in lines:
        if line.strip() and not line.startswith(("#", "-")):
            name = re.match(r"[A-Za-z0-9_.-]+", line).group(0)  # type: ignore[union-attr]
            found[name.lower().replace("_", "-")] = line.strip()
    return found


def test_the_package_depends_on_exactly_the_ranges_requirements_txt_gives() -> None:
    ranges = requirement_lines()
    for dependency in PYPROJECT["project"]["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", dependency).group(0).lower()  # type: ignore[union-attr]
        assert ranges.get(name) == dependency, dependency
    # The pack's own SDK is the repository's, not a dependency of the component.
    assert set(ranges) - {d.split(">")[0].lower() for d in PYPROJECT["project"]["dependencies"]} == {
        "pulumi-policy"
    }


def test_the_distribution_is_pulumi_mta_sts() -> None:
    assert PYPROJECT["project"]["name"] == "pulumi-mta-sts"


def test_the_public_names_are_the_component_and_its_arguments() -> None:
    assert sorted(pulumi_mta_sts.__all__) == ["MtaStsDomain", "MtaStsDomainArgs", "ProtonArgs"]
    assert all(hasattr(pulumi_mta_sts, name) for name in pulumi_mta_sts.__all__)
