"""The schema the component provider serves, asked over gRPC from the process the engine would start.

This is what `pulumi package add` reads to generate `MtaStsDomain` for TypeScript, Go, C#,
Java and YAML: the component's token, every input with its type and a description that
states its default, `netlifyToken` secret, and every output.
"""

from __future__ import annotations

from typing import Any

import pytest

from mtasts.config import schema as settings_schema
from tests.provider_host import served_schema

TOKEN = "mta-sts:index:MtaStsDomain"
INPUT_TYPES = {
    "domain": "string",
    "mode": "string",
    "mx": "array",
    "maxAge": "integer",
    "tlsRpt": "array",
    "hosting": "string",
    "repository": "string",
    "zoneId": "string",
    "netlifyToken": "string",
    "readinessTimeout": "integer",
    "proton": "object",
    "dnssec": "boolean",
    "adopt": "boolean",
    "retire": "boolean",
}
OUTPUTS = {
    "policyUrl",
    "policyId",
    "policyText",
    "repositoryUrl",
    "dnsRecords",
    "dnssecDs",
    "retireSafeToDestroyAfter",
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return served_schema()


@pytest.fixture(scope="module")
def component(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["resources"][TOKEN]


def kind(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    """A property's type, following a `$ref` to one of the package's own types."""
    if "$ref" in spec:
        return schema["types"][spec["$ref"].removeprefix("#/types/")]["type"]
    return spec["type"]


def test_the_package_is_named_mta_sts_and_serves_one_component_mta_sts_index_mta_sts_domain(
    schema: dict[str, Any],
) -> None:
    assert schema["name"] == "mta-sts"
    assert list(schema["resources"]) == [TOKEN]
    assert schema["resources"][TOKEN]["isComponent"] is True


def test_the_provider_reports_the_version_its_schema_carries(schema: dict[str, Any]) -> None:
    assert schema["x-plugin-version"] == schema["version"]
    assert schema["version"]


def test_every_input_is_there_with_its_type(schema: dict[str, Any], component: dict[str, Any]) -> None:
    inputs = component["inputProperties"]
    assert {name: kind(spec, schema) for name, spec in inputs.items()} == INPUT_TYPES
    assert inputs["mx"]["items"]["type"] == "string"
    assert inputs["tlsRpt"]["items"]["type"] == "string"
    assert component["requiredInputs"] == ["domain"]


def test_the_inputs_are_the_declared_settings_so_other_languages_and_the_stack_config_agree(
    component: dict[str, Any],
) -> None:
    assert set(component["inputProperties"]) == set(settings_schema.declared())


def test_every_optional_input_states_its_default_in_its_description(component: dict[str, Any]) -> None:
    inputs = component["inputProperties"]
    missing = [
        name
        for name, spec in inputs.items()
        if name not in component["requiredInputs"] and "Default:" not in spec.get("description", "")
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("mode", "testing"),
        ("maxAge", "604800"),
        ("hosting", "netlify"),
        ("adopt", "true"),
        ("retire", "false"),
    ],
)
def test_a_description_states_the_default_the_settings_declare(
    component: dict[str, Any], name: str, default: str
) -> None:
    description = component["inputProperties"][name]["description"]
    assert f"Default: {default}" in description, description


def test_the_netlify_token_is_secret_and_nothing_else_is(component: dict[str, Any]) -> None:
    secret = {name for name, spec in component["inputProperties"].items() if spec.get("secret")}
    assert secret == {"netlifyToken"}


def test_the_proton_type_lists_its_fields_in_camel_case(
    schema: dict[str, Any], component: dict[str, Any]
) -> None:
    ref = component["inputProperties"]["proton"]["$ref"].removeprefix("#/types/")
    proton = schema["types"][ref]
    assert set(proton["properties"]) == {"verification", "dkim", "dmarc", "dmarcRua", "spfIncludes"}
    assert sorted(proton["required"]) == ["dkim", "verification"]


def test_every_output_is_there_and_only_the_always_known_ones_are_required(component: dict[str, Any]) -> None:
    assert set(component["properties"]) == OUTPUTS
    # A DS record exists only with dnssec, a retirement time only with retire.
    assert "dnssecDs" not in component.get("required", [])
    assert "retireSafeToDestroyAfter" not in component.get("required", [])


def test_every_input_and_output_has_a_description(component: dict[str, Any]) -> None:
    undescribed = [
        name
        for section in ("inputProperties", "properties")
        for name, spec in component[section].items()
        if not spec.get("description")
    ]
    assert undescribed == []
