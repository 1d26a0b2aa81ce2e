"""The component provider: `MtaStsDomain` served to every Pulumi language.

`pulumi package add` runs the plugin folder (`provider/` in the repository), whose entry calls
`serve`. The engine asks this provider for its schema, from which it generates the TypeScript,
Go, C#, Java or YAML SDK, and calls Construct for every `MtaStsDomain` such a program creates.

The Pulumi SDK (`pulumi.provider.experimental`) infers the schema from the annotations of
`MtaStsDomainArgs` and `MtaStsDomain` and the string after each one. What it cannot infer is
added here from the one declaration of the settings (`mtasts.config.schema`): which inputs are
secret, and each input's default, stated in its description. Construct is the SDK's, with two
corrections: integers arrive as floats over the wire and the SDK hands them on as floats, and
refused arguments become a Pulumi error listing each problem against its property, under the
name the caller wrote (`maxAge`, not `max_age`), instead of a Python traceback.

Left alone: what the component does with its arguments (`pulumi_mta_sts.domain`), and the
plugin manifest and dependencies (the plugin folder).
"""

import json
import re
from collections.abc import Mapping
from importlib import metadata
from typing import Any

import pulumi
from pulumi.errors import InputPropertiesError, InputPropertyErrorDetails
from pulumi.provider import main
from pulumi.provider.experimental.analyzer import ComponentDefinition, PropertyType
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case
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


# A listed problem starts with the argument's Python name: `  - max_age -5 is not accepted; ...`.
_PROBLEM = re.compile(r"^\s*- ([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)(.*)$", re.MULTILINE)


def _schema_path(path: str) -> str:
    """`proton.dmarc_rua` → `proton.dmarcRua`: the name a caller in another language wrote."""
    return ".".join(camel_case(part) for part in path.split("."))


def _refusal(error: Exception) -> InputPropertiesError | None:
    """A refusal of the arguments as the engine reports it, or None for anything else (a bug)."""
    problems = getattr(error, "problems", None)
    if not isinstance(error, pulumi.RunError) and not (isinstance(error, ValueError) and problems):
        return None
    text = str(error)
    details: list[InputPropertyErrorDetails] = [
        {"property_path": _schema_path(path), "reason": f"{_schema_path(path)}{rest}"}
        for path, rest in _PROBLEM.findall(text)
    ]
    # The SDK's server can only send this error with at least one property's detail.
    summary = text.splitlines()[0] if details else text
    return InputPropertiesError(summary, details or [{"property_path": "", "reason": text}])


# The whole numbers a double (every number on the wire) holds exactly.
_EXACT_DOUBLE_INTEGERS = 2**53


class MtaStsProvider(ComponentProvider):
    """The SDK's component provider for `MtaStsDomain`, serving the adjusted schema."""

    def __init__(self, version: str | None = None) -> None:
        super().__init__([MtaStsDomain], PACKAGE, None, version or package_version())
        assert self.schema is not None
        self.schema = json.dumps(served_schema(json.loads(self.schema)))

    def map_inputs(self, inputs: pulumi.Inputs, component_def: ComponentDefinition) -> pulumi.Inputs:
        mapped = dict(super().map_inputs(inputs, component_def))
        # The SDK converts an integer input to int and then stores the wire's float over it.
        # Past 2**53 a double no longer holds every whole number, so it stays a float and is
        # refused as the caller wrote it (1.0e+300), not as the 301 digits of int(1e300).
        for schema_name, prop in component_def.inputs.items():
            py_name = component_def.inputs_mapping[schema_name]
            value = mapped.get(py_name)
            if (
                prop.type is PropertyType.INTEGER
                and isinstance(value, float)
                and value.is_integer()
                and abs(value) <= _EXACT_DOUBLE_INTEGERS
            ):
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
            refusal = _refusal(getattr(error, "inner", error))
            if refusal is None:
                raise
            # The engine shows each problem against the property, without the provider's stack.
            raise refusal from None


def serve(args: list[str]) -> None:
    """Run the provider's gRPC server: print its port, then answer the engine until it stops us.

    What `component_provider_host` does, with `MtaStsProvider` in place of the SDK's provider,
    whose schema cannot be adjusted from outside.
    """
    main(MtaStsProvider(), args)
