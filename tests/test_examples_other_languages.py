"""examples/yaml and examples/typescript use only names the provider's schema has.

Neither runs here (no Pulumi CLI, Node.js or cloud accounts), so the property names they
write, a generated SDK's contract, are checked against the schema the started provider
serves: every input they set, every output they read, and the package they name.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.provider_host import PLUGIN_DIR, served_schema
from tests.pulumi_mocks import PROJECT_DIR

EXAMPLES = PROJECT_DIR / "examples"
TOKENS = {"mta-sts:MtaStsDomain", "mta-sts:index:MtaStsDomain"}
COMPONENT = "mta-sts:index:MtaStsDomain"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return served_schema()


def unknown_names(used: dict[str, set[str]], schema: dict[str, Any]) -> list[str]:
    """`kind:name` for every name in `used` ("inputs", "outputs", "proton") the schema lacks."""
    component = schema["resources"][COMPONENT]
    proton_ref = component["inputProperties"]["proton"]["$ref"].removeprefix("#/types/")
    known = {
        "inputs": set(component["inputProperties"]),
        "outputs": set(component["properties"]) | {"urn"},
        "proton": set(schema["types"][proton_ref]["properties"]),
    }
    return sorted(f"{kind}:{name}" for kind, names in used.items() for name in names - known[kind])


# --- YAML ----------------------------------------------------------------------------------


def yaml_names(program: dict[str, Any]) -> dict[str, set[str]]:
    resources = program.get("resources") or {}
    components = {name for name, spec in resources.items() if spec.get("type") in TOKENS}
    used: dict[str, set[str]] = {"inputs": set(), "outputs": set(), "proton": set()}
    for name in components:
        properties = resources[name].get("properties") or {}
        used["inputs"] |= set(properties)
        used["proton"] |= set(properties.get("proton") or {})
    text = json.dumps({key: value for key, value in program.items() if key != "resources"})
    text += json.dumps(resources)
    for resource, output in re.findall(r"\$\{([\w-]+)\.(\w+)", text):
        if resource in components:
            used["outputs"].add(output)
    assert components, "the program creates no MtaStsDomain"
    return used


def load_yaml_example() -> dict[str, Any]:
    program: dict[str, Any] = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text(encoding="utf-8"))
    return program


def test_the_yaml_example_uses_only_inputs_and_outputs_the_schema_has(schema: dict[str, Any]) -> None:
    used = yaml_names(load_yaml_example())
    assert unknown_names(used, schema) == []
    assert len(used["outputs"]) >= 3


def test_a_misspelled_yaml_property_would_be_caught(schema: dict[str, Any]) -> None:
    program = load_yaml_example()
    first = next(spec for spec in program["resources"].values() if spec["type"] in TOKENS)
    first["properties"]["tls_rpt"] = first["properties"].pop("tlsRpt")
    program["outputs"]["typo"] = "${first.policyURL}"
    assert unknown_names(yaml_names(program), schema) == ["inputs:tls_rpt", "outputs:policyURL"]


def test_the_yaml_example_names_the_package_at_the_plugin_folder() -> None:
    program = load_yaml_example()
    assert program["runtime"] == "yaml"
    source = program["packages"]["mta-sts"]
    assert ((EXAMPLES / "yaml" / source).resolve() / "PulumiPlugin.yaml").is_file()
    assert (EXAMPLES / "yaml" / source).resolve() == PLUGIN_DIR


# --- TypeScript ----------------------------------------------------------------------------

_NEW = re.compile(r"const\s+(\w+)\s*=\s*new\s+\w+\.MtaStsDomain\(\s*\"\"\s*,\s*\{")
# A string literal (kept, emptied: its braces and quotes are not code) or a comment (dropped).
_STRING_OR_COMMENT = re.compile(
    r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)|//[^\n]*|/\*.*?\*/", re.S
)


def _code(source: str) -> str:
    return _STRING_OR_COMMENT.sub(lambda m: '""' if m.group(1) else "", source)


def _object_literal(code: str, start: int) -> str:
    """The text inside the braces that open at `code[start]`."""
    depth = 0
    for index in range(start, len(code)):
        if code[index] in "{[(":
            depth += 1
        elif code[index] in "}])":
            depth -= 1
            if depth == 0:
                return code[start + 1 : index]
    raise AssertionError(f"unclosed object literal at {start}")


def _entries(body: str) -> dict[str, str]:
    """An object literal's keys at its own level, each with the text of its value."""
    parts, depth, current = [], 0, ""
    for char in body:
        depth += (char in "{[(") - (char in "}])")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    entries = {}
    for part in parts:
        match = re.fullmatch(r"\s*(\w+)\s*(?::(.*))?", part, re.S)
        if match:
            entries[match.group(1)] = (match.group(2) or "").strip()
    return entries


def typescript_names(source: str) -> dict[str, set[str]]:
    code = _code(source)
    used: dict[str, set[str]] = {"inputs": set(), "outputs": set(), "proton": set()}
    found = list(_NEW.finditer(code))
    assert found, "the program creates no MtaStsDomain"
    for match in found:
        variable = match.group(1)
        entries = _entries(_object_literal(code, match.end() - 1))
        used["inputs"] |= set(entries)
        if entries.get("proton", "").startswith("{"):
            used["proton"] |= set(_entries(_object_literal(entries["proton"], 0)))
        used["outputs"] |= set(re.findall(rf"\b{variable}\.(\w+)", code))
    return used


def typescript_source() -> str:
    return (EXAMPLES / "typescript" / "index.ts").read_text(encoding="utf-8")


def test_the_typescript_example_uses_only_inputs_and_outputs_the_schema_has(schema: dict[str, Any]) -> None:
    used = typescript_names(typescript_source())
    assert unknown_names(used, schema) == []
    assert {"domain", "mode", "tlsRpt", "hosting", "netlifyToken", "maxAge", "mx"} <= used["inputs"]
    assert len(used["outputs"]) >= 3


def test_a_misspelled_typescript_property_would_be_caught(schema: dict[str, Any]) -> None:
    source = typescript_source().replace("maxAge:", "max_age:").replace(".policyText", ".policyTxt")
    source = source.replace(
        'hosting: "github-pages",', 'hosting: "github-pages",\n    proton: { dkim: {}, spf: [] },'
    )
    assert unknown_names(typescript_names(source), schema) == [
        "inputs:max_age",
        "outputs:policyTxt",
        "proton:spf",
    ]


def test_the_typescript_example_imports_the_generated_sdk_of_the_package_it_names() -> None:
    example = EXAMPLES / "typescript"
    project = yaml.safe_load((example / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert project["runtime"] == "nodejs"
    assert (example / project["packages"]["mta-sts"]).resolve() == PLUGIN_DIR
    package = json.loads((example / "package.json").read_text(encoding="utf-8"))
    # `pulumi install` generates the SDK there and links it by this name.
    assert package["dependencies"]["@pulumi/mta-sts"] == "file:sdks/mta-sts"
    assert 'from "@pulumi/mta-sts"' in typescript_source()
