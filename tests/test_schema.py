"""One source for the configuration schema: Pulumi.yaml's `config:` section, read by the core."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mtasts.config import parse_settings, schema
from tests.pulumi_mocks import PROJECT_DIR

DECLARED = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]


def test_the_core_knows_exactly_the_keys_and_defaults_pulumi_yaml_declares() -> None:
    keys = schema.declared()
    assert list(keys) == list(DECLARED)
    assert {name: key.default for name, key in keys.items()} == {
        k: v.get("default") for k, v in DECLARED.items()
    }


def test_a_default_changed_in_pulumi_yaml_is_the_default_the_core_applies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    document["config"]["maxAge"]["default"] = 86_400
    document["template"] = {"config": {"mta-sts:domain": {"description": "The mail domain"}}}
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(document))
    monkeypatch.setattr(schema, "PROJECT_FILE", tmp_path / "Pulumi.yaml")
    schema.declared.cache_clear()
    try:
        assert parse_settings({"domain": "example.com"}).max_age == 86_400
    finally:
        schema.declared.cache_clear()


def test_the_core_finds_pulumi_yaml_beside_the_package_not_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    schema.declared.cache_clear()
    assert schema.PROJECT_FILE == PROJECT_DIR / "Pulumi.yaml" and "domain" in schema.declared()
