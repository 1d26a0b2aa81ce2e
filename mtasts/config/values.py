"""Reading one config value, and showing it back as the user wrote it.

Messages follow Terraform's validation blocks: the key, the value as written (YAML, as in
the stack file: `true`, `null`, `[a, b]`, never Python's `True`, `None`), what is accepted
and how to set it.
"""

from __future__ import annotations

import difflib
import enum
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

NAMESPACE = "mta-sts"


def show(value: Any) -> str:
    """A value as YAML writes it; strings single-quoted so a reader sees where they end, and
    control characters escaped (a double-quoted string) rather than folded or hidden."""
    if isinstance(value, str) and value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    for allow_unicode in (True, False):
        try:
            text = yaml.dump(
                value, Dumper=_Dumper, default_flow_style=True, width=10_000, allow_unicode=allow_unicode
            )
        except yaml.YAMLError:
            break
        text = text.removesuffix("\n").removesuffix("\n...").strip()
        if "\n" not in text and _reads_back(text, value):
            return text
    return json.dumps(value, default=str)  # JSON is YAML's flow style, with every escape


class _Dumper(yaml.SafeDumper):
    """Safe YAML whose strings with control characters are double-quoted, so they are escaped."""


def _string(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=None if data.isprintable() else '"')


_Dumper.add_representer(str, _string)


def _reads_back(text: str, value: Any) -> bool:
    try:
        return bool(yaml.safe_load(text) == value)
    except yaml.YAMLError:
        return False


def unknown_key(key: str, known: Iterable[str], prefix: str = "") -> str:
    """`'tlsrpt' is not a setting; did you mean 'tlsRpt'?`, or the list of settings."""
    known = list(known)
    by_lower = {name.lower(): name for name in known}
    close = difflib.get_close_matches(str(key).lower(), list(by_lower), n=1, cutoff=0.6)
    if close:
        return f"'{prefix}{key}' is not a setting; did you mean '{prefix}{by_lower[close[0]]}'?"
    return f"'{prefix}{key}' is not a setting; known settings: {', '.join(sorted(known))}"


def namespace_problems(keys: Iterable[str], known: Iterable[str], stack_file: str) -> list[str]:
    """Stack-file keys outside `mta-sts:` that name one of its settings: say to add the namespace."""
    known = set(known)
    problems = []
    for key in keys:
        namespace, colon, name = str(key).rpartition(":")
        if namespace == NAMESPACE:
            continue
        if name in known or (not colon and name.lower() in {k.lower() for k in known}):
            right = name if name in known else next(k for k in known if k.lower() == name.lower())
            where = f"is in the '{namespace}' namespace" if colon else "has no namespace"
            problems.append(
                f"'{key}' in {stack_file} {where}; write it as "
                f"'{NAMESPACE}:{right}' (`pulumi config set {right} ...` adds the namespace)"
            )
    return problems


def choice(
    raw: Mapping[str, Any],
    key: str,
    kind: type[enum.Enum],
    default: Any,
    problems: list[str],
    prefix: str = "",
) -> Any:
    value = raw.get(key, default)
    for member in kind:
        if member.value == value:
            return member
    accepted = ", ".join(str(member.value) for member in kind)
    problems.append(f"'{prefix}{key}' {show(value)} is not accepted; expected one of {accepted}")
    return None


def integer(
    raw: Mapping[str, Any], key: str, default: int, bounds: tuple[int, int], problems: list[str]
) -> int | None:
    value = raw.get(key, default)
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value.strip()):
        value = int(value)  # stack files written by `pulumi config set` hold strings
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(
            f"'{key}' {show(value)} is not accepted; expected a whole number of seconds from {low} to {high}"
        )
        return None
    return value


def boolean(raw: Mapping[str, Any], key: str, default: bool, problems: list[str]) -> bool:
    value = raw.get(key, default)
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"  # stack files written by `pulumi config set`
    if not isinstance(value, bool):
        problems.append(f"'{key}' {show(value)} is not accepted; expected true or false")
        return default
    return value


def string_list(value: Any, key: str, example: str, problems: list[str]) -> list[str] | None:
    """A list of strings. A single string is refused with the command that sets a list:
    `pulumi config set key value` stores a string, and a list needs `--path`."""
    if isinstance(value, str):
        problems.append(
            f"'{key}' must be a list, not the string {show(value)}; set it with "
            f"`pulumi config set --path '{key}[0]' {value.strip() or example}` "
            f"(and '{key}[1]' for a second entry)"
        )
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        problems.append(
            f"'{key}' {show(value)} is not accepted; expected a list of strings such as [{example}]"
        )
        return None
    return [item.strip() for item in value]
