"""One declaration of the settings (`mtasts.config.schema`), followed by Pulumi.yaml's `config:`,
by `parse_settings` and by the component's `MtaStsDomainArgs`."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import typing

import pulumi
import pytest
import yaml
from pulumi_mta_sts import MtaStsDomainArgs, ProtonArgs
from pulumi_mta_sts.validation import arg_name

from mtasts.config import parse_settings, schema
from tests.pulumi_mocks import PROJECT_DIR

DECLARED = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
PYTHON_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list[str], "object": ProtonArgs}


def test_pulumi_yaml_declares_exactly_the_keys_types_defaults_and_descriptions_of_the_schema() -> None:
    assert list(DECLARED) == list(schema.declared())
    assert schema.project_file_config() == DECLARED


def test_a_default_changed_in_the_declaration_is_the_default_the_core_applies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = tuple(dataclasses.replace(k, default=86_400) if k.name == "maxAge" else k for k in schema.KEYS)
    monkeypatch.setattr(schema, "KEYS", keys)
    schema.declared.cache_clear()
    try:
        assert parse_settings({"domain": "example.com"}).max_age == 86_400
    finally:
        schema.declared.cache_clear()


def test_the_component_takes_every_setting_by_its_snake_case_name_and_type() -> None:
    hints = {
        name: typing.get_args(hint)[0] if typing.get_origin(hint) is typing.NotRequired else hint
        for name, hint in MtaStsDomainArgs.__annotations__.items()
    }
    assert list(hints) == [arg_name(name) for name in schema.declared()]
    for key in schema.KEYS:
        hint = hints[arg_name(key.name)]
        if key.secret:
            assert hint == pulumi.Input[str], key.name  # a secret output from the caller's config too
        else:
            assert hint == PYTHON_TYPES[key.type], key.name


def test_only_the_domain_is_a_required_argument() -> None:
    assert MtaStsDomainArgs.__required_keys__ == {"domain"}


@pytest.mark.parametrize("key", [key for key in schema.KEYS if key.default is not None], ids=lambda k: k.name)
def test_each_argument_with_a_default_states_the_schema_default_in_its_description(key: schema.Key) -> None:
    from pulumi_mta_sts.args import descriptions

    value = key.default
    shown = ", ".join(value) if isinstance(value, tuple) else str(value).lower()
    assert descriptions()[arg_name(key.name)].endswith(f"Default: {shown}.")


def test_the_schema_is_read_from_no_file_so_an_installed_package_needs_none(tmp_path) -> None:
    script = (
        "import builtins, io\n"
        "opened = []\n"
        "real = io.open\n"
        "def watch(file, *a, **k):\n"
        "    opened.append(str(file)); return real(file, *a, **k)\n"
        "from mtasts.config import schema\n"
        "builtins.open = io.open = watch\n"
        "schema.declared.cache_clear(); schema.declared()\n"
        "print([f for f in opened if f.endswith('.yaml')])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
