"""The component provider: `MtaStsDomain` served to every Pulumi language.

`pulumi package add` runs the plugin folder (`provider/` in the repository), whose entry calls
`serve`. The engine asks this provider for its schema, from which it generates the TypeScript,
Go, C#, Java or YAML SDK, and calls Construct for every `MtaStsDomain` such a program creates.

The Pulumi SDK (`pulumi.provider.experimental`) infers the schema from the annotations of
`MtaStsDomainArgs` and `MtaStsDomain` and the string after each one. What it cannot infer is
added here from the one declaration of the settings (`mtasts.config.schema`): which inputs are
secret, and each input's default, stated in its description. Construct is the SDK's, with two
corrections: integers arrive as floats over the wire and the SDK hands them on as floats, and
refused arguments become a Pulumi error naming each problem instead of a Python traceback.

Left alone: what the component does with its arguments (`pulumi_mta_sts.domain`), and the
plugin manifest and dependencies (the plugin folder).
"""

import json
from collections.abc import Mapping
from importlib import metadata
from typing import Any

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.provider import main
from pulumi.provider.experimental.analyzer import ComponentDefinition, PropertyType
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi_mta_sts.domain import MtaStsDomain

from mtasts.config import schema as settings_schema

PACKAGE = "mta-sts"
DISTRIBUTION = "pulumi-mta-sts"
COMPONENT = f"{PACKAGE}:index:{MtaStsDomain.__name__}"


def package_version() -> str:
    """The installed distribution's version; codegen needs one, so a source tree says 0.0.0."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _stated(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def served_schema(inferred: Mapping[str, Any]) -> dict[str, Any]:
    """The inferred schema with what inference misses: secrets, and defaults in the descriptions.

    Inputs are matched to the settings declaration by name: the schema's camelCase input names
    are the config keys. A description that already states its default is kept as written.
    """
    schema = json.loads(json.dumps(inferred))
    declared = settings_schema.declared()
    inputs = schema["resources"][COMPONENT]["inputProperties"]
    for name, spec in inputs.items():
        # The SDK copies a list's or a map's description onto its items; generated docs would say it twice.
        for nested in ("items", "additionalProperties"):
            if isinstance(spec.get(nested), dict):
                spec[nested].pop("description", None)
        key = declared.get(name)
        if key is None:
            continue
        if key.secret:
            spec["secret"] = True
        description = spec.get("description") or ""
        if key.default is not None and "Default" not in description:
            spec["description"] = f"{description} Default: {_stated(key.default)}.".strip()
    return schema


def _problems(error: Exception) -> str | None:
    """The caller-facing text of a refusal of the arguments, or None for anything else (a bug)."""
    if isinstance(error, pulumi.RunError):
        return str(error)
    problems = getattr(error, "problems", None)
    if isinstance(error, ValueError) and isinstance(problems, list) and problems:
        return str(error)
    return None


class MtaStsProvider(ComponentProvider):
    """The SDK's component provider for `MtaStsDomain`, serving the adjusted schema."""

    def __init__(self, version: str | None = None) -> None:
        super().__init__([MtaStsDomain], PACKAGE, None, version or package_version())
        assert self.schema is not None
        self.schema = json.dumps(served_schema(json.loads(self.schema)))

    def map_inputs(self, inputs: pulumi.Inputs, component_def: ComponentDefinition) -> pulumi.Inputs:
        mapped = dict(super().map_inputs(inputs, component_def))
        # The SDK converts an integer input to int and then stores the wire's float over it.
        for schema_name, prop in component_def.inputs.items():
            py_name = component_def.inputs_mapping[schema_name]
            value = mapped.get(py_name)
            if prop.type is PropertyType.INTEGER and isinstance(value, float) and value.is_integer():
                mapped[py_name] = int(value)
        return mapped

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: pulumi.Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        try:
            return super().construct(name, resource_type, inputs, options)
        except Exception as error:
            inner = getattr(error, "inner", error)
            message = _problems(inner)
            if message is None:
                raise
            # The engine shows this as the resource's error, without the provider's stack.
            raise InputPropertiesError(message) from None


def serve(args: list[str]) -> None:
    """Run the provider's gRPC server: print its port, then answer the engine until it stops us.

    What `component_provider_host` does, with `MtaStsProvider` in place of the SDK's provider,
    whose schema cannot be adjusted from outside.
    """
    main(MtaStsProvider(), args)
