"""The component provider: `MtaStsDomain` served to every Pulumi language.

`pulumi package add` runs the plugin folder (`provider/` in the repository), whose entry calls
`serve`. The engine asks this provider for its schema, from which it generates the TypeScript,
Go, C#, Java or YAML SDK, and calls Construct for every `MtaStsDomain` such a program creates.

The Pulumi SDK (`pulumi.provider.experimental`) infers the schema from the annotations of
`MtaStsDomainArgs` and `MtaStsDomain` and the string after each one. What it cannot infer is
added here from the one declaration of the settings (`mtasts.config.schema`): which inputs are
secret, and each input's default, stated in its description. Construct is the SDK's, with three
corrections: integers arrive as floats over the wire and the SDK hands them on as floats; the
core judges the raw inputs before the SDK maps them (the SDK stops at the first missing field
and fails on an infinite number with a traceback), so every problem is listed at once; and
refused arguments become a Pulumi error listing each problem against its property, under the
name the caller wrote (`maxAge`, not `max_age`), instead of a Python traceback.

Left alone: what the component does with its arguments (`pulumi_mta_sts.domain`), and the
plugin manifest and dependencies (the plugin folder).
"""

import json
import re
from collections.abc import Iterable, Mapping, Sequence
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
from pulumi_mta_sts.validation import settings_from_args, unknown_argument

from mtasts.config import schema as settings_schema
from mtasts.config.values import key_name

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


def _refusal(
    error: Exception, unknown: Sequence[InputPropertyErrorDetails] = ()
) -> InputPropertiesError | None:
    """A refusal of the arguments as the engine reports it, or None for anything else (a bug).
    `unknown`: the inputs the schema does not name, listed first."""
    problems = getattr(error, "problems", None)
    if not isinstance(error, pulumi.RunError) and not (isinstance(error, ValueError) and problems):
        return None
    text = str(error)
    details: list[InputPropertyErrorDetails] = [*unknown]
    details += [
        {"property_path": _schema_path(path), "reason": f"{_schema_path(path)}{rest}"}
        for path, rest in _PROBLEM.findall(text)
    ]
    # The SDK's server can only send this error with at least one property's detail.
    summary = text.splitlines()[0] if details else text
    return InputPropertiesError(summary, details or [{"property_path": "", "reason": text}])


# The whole numbers a double (every number on the wire) holds exactly.
_EXACT_DOUBLE_INTEGERS = 2**53


def _whole(value: Any) -> Any:
    """An integer input as the core judges it: the wire's float as an int when it is one
    exactly; anything else (1e300, 5.5, infinity, NaN, a string) as sent, for the core to refuse
    under the caller's number (`1.0e+300`, `.inf`), not as the SDK's int() would fail on it."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT_DOUBLE_INTEGERS:
        return int(value)
    return value


def _unknown_input(key: Any, known: Iterable[str], prefix: str = "") -> InputPropertyErrorDetails:
    """An input the schema does not name, against its property (shown as keys are shown)."""
    return {"property_path": prefix + key_name(key), "reason": unknown_argument(key, list(known), prefix)}


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
            if prop.type is PropertyType.INTEGER and py_name in mapped:
                mapped[py_name] = _whole(mapped[py_name])
        return mapped

    def _plain_args(
        self, inputs: pulumi.Inputs, component_def: ComponentDefinition
    ) -> tuple[dict[str, Any], list[InputPropertyErrorDetails]]:
        """The inputs as the component's arguments (snake_case, whole numbers as int), without
        the SDK's mapping, which stops at the first missing field or non-finite number; and a
        problem for each input the schema does not name (`maxage`, `proton.dkimm`), which the
        SDK would drop without a word, in the Python component's words."""
        args: dict[str, Any] = {}
        unknown: list[InputPropertyErrorDetails] = []
        for key, value in inputs.items():
            prop = component_def.inputs.get(key)
            if prop is None:
                unknown.append(_unknown_input(key, component_def.inputs))
                continue
            if prop.type is PropertyType.INTEGER:
                value = _whole(value)
            type_def = self.get_type_definition(prop) if prop.ref else None
            if type_def is not None and type_def.properties and isinstance(value, Mapping):
                nested = {}
                for field, item in value.items():
                    if field in type_def.properties:
                        nested[type_def.properties_mapping[field]] = item
                    else:
                        unknown.append(_unknown_input(field, type_def.properties, f"{key}."))
                value = nested
            args[component_def.inputs_mapping[key]] = value
        return args, unknown

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: pulumi.Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        component_def = self._component_defs.get(resource_type.rsplit(":", maxsplit=1)[-1])
        if component_def is not None:
            # The core judges the inputs first, so every problem is listed at once, before the
            # SDK's mapping refuses the first it meets in its own words (or with a traceback).
            args, unknown = self._plain_args(inputs, component_def)
            try:
                settings_from_args(name, args)
            except pulumi.RunError as error:
                raise (_refusal(error, unknown) or error) from None
            if unknown:
                raise InputPropertiesError(f"MtaStsDomain '{name}' has invalid arguments:", unknown)
            if inputs.get("proton") == {}:
                # Off, as in the Python component and the stack config; the SDK would ask for its fields.
                inputs = {key: value for key, value in inputs.items() if key != "proton"}
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
