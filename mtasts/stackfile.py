"""Read a stack's settings from `Pulumi.<stack>.yaml` without the Pulumi CLI.

Used by `render` and `verify --stack` so users can see the desired state with no
credentials, and by the program for the names of the keys a stack file sets (the Pulumi SDK
answers for a key it is asked about, but cannot list them), so that a misspelt key or one
without the `mta-sts:` namespace gets the same message from both. Secure (encrypted) values
are never decrypted here: only their presence is noted.

The file is outside input: it is read within bounds (a regular file, its size, nesting, digits
of a number, no aliases, which let a few lines stand for billions of values), and an error
names the line and column but never echoes a line of the file, which may hold a plaintext
token. A stack name is only ever a plain Pulumi stack name, so `--stack` can name no
file outside the project folder.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mtasts.config import ConfigError, Settings, parse_settings, schema
from mtasts.config.advice import config_warnings
from mtasts.config.values import MAX_NESTING, NAMESPACE, for_stack, namespace_problems, show
from mtasts.errors import MtaStsError

# Pulumi's own rule for a stack name (letters, digits, '-', '_', '.', at most 100); a name
# with '/' (an organisation or project part) has no stack file of its own here.
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
MAX_STACK_FILE_BYTES = 1024 * 1024
# A number with more digits than this is read as text, which the setting's own check names;
# Python refuses to convert integers of over 4,300 digits at all.
MAX_INTEGER_DIGITS = 30


class StackFileError(MtaStsError, ValueError):
    """A stack file that cannot be read as one; the message says which and why."""


class StackFileMissing(StackFileError):
    """No stack file by that name: the stack's config may live elsewhere (the program reads on)."""


def stack_name(stack: str) -> str:
    """`stack` if it is a plain stack name; otherwise StackFileError saying what is accepted."""
    if not isinstance(stack, str) or not STACK_NAME.fullmatch(stack) or stack in (".", ".."):
        raise StackFileError(
            f"--stack {show(str(stack))} is not a stack name; expected a plain Pulumi stack name "
            "(letters, digits, '-', '_' and '.', at most 100), such as dev: it names the file "
            "Pulumi.<stack>.yaml in the project folder"
        )
    return stack


def stack_file(stack: str, project_dir: Path = Path(".")) -> Path:
    return project_dir / f"Pulumi.{stack_name(stack)}.yaml"


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        self.mark = mark


class _Alias(_TooDeep):
    pass


class _Duplicate(Exception):
    def __init__(self, key: str, first: yaml.Mark, again: yaml.Mark) -> None:
        self.key, self.first, self.again = key, first, again


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases, deep nesting (the composer recurses once per level) and a
    key set twice in one mapping, and keeps very long numbers as text."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            # An alias repeats a value by reference: a few lines can stand for billions of
            # items, and no stack file Pulumi writes has one.
            raise _Alias(self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> Any:
        # YAML wants each key of a mapping unique; PyYAML keeps the last, so a second
        # `mta-sts:domain` pasted below the first would deploy a policy for another domain
        # than the one read first.
        node = super().compose_mapping_node(anchor)
        seen: dict[str, yaml.Mark] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise _Duplicate(key.value, seen[key.value], key.start_mark)
                seen[key.value] = key.start_mark
        return node

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        if len(str(node.value)) > MAX_INTEGER_DIGITS:
            return str(node.value)
        return super().construct_yaml_int(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


_NULL = {"", "~", "null", "Null", "NULL"}


def _settings_as_written(document: yaml.Node) -> None:
    """Read each plain value set directly under `config:` as its text, as Pulumi passes it on.

    The CLI first reads a config value into a string (`unmarshalValue` in the Pulumi SDK's
    sdk/go/common/resource/config/value.go), which keeps a scalar's text as written: the
    program is given `yes`, `on`, `1:30` and `017` as those words, where PyYAML's YAML 1.1
    rules would read `True`, `True`, `5400` and `15`, and `render` would accept what the
    program refuses. A null is the empty string there. Lists and objects are left to YAML.
    """
    if not isinstance(document, yaml.MappingNode):
        return
    for key, config in document.value:
        if key.value != "config" or not isinstance(config, yaml.MappingNode):
            continue
        for _, value in config.value:
            if isinstance(value, yaml.ScalarNode):
                if value.style is None and value.value in _NULL:
                    value.value = ""
                value.tag = "tag:yaml.org,2002:str"


def _where(mark: yaml.Mark | None) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _load(path: Path, data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise StackFileError(
            f"{path} is not UTF-8 text: byte 0x{data[error.start]:02x} at line {line}, column {column} "
            f"(byte offset {error.start}) is not part of a UTF-8 character; save the file as UTF-8"
        ) from None
    try:
        loader = _BoundedLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _settings_as_written(node)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except _Alias as error:
        raise StackFileError(
            f"{path} uses a YAML alias (*name){_where(error.mark)}; stack files hold plain values: "
            "write the value out where the alias stands"
        ) from None
    except _Duplicate as error:
        raise StackFileError(
            f"{path} sets {show(error.key)} twice, at line {error.first.line + 1} and at line "
            f"{error.again.line + 1}; a key may appear once in a mapping: delete the one you do not mean"
        ) from None
    except _TooDeep as error:
        raise StackFileError(
            f"{path} nests values more than {MAX_NESTING} levels deep{_where(error.mark)}; "
            "no setting is nested that deep: check the brackets and indentation there"
        ) from None
    except yaml.MarkedYAMLError as error:
        # The message only, never the snippet: the line it quotes may hold a plaintext token.
        said = "; ".join(filter(None, (error.context, error.problem)))[:200]
        raise StackFileError(
            f"{path} is not valid YAML{_where(error.problem_mark or error.context_mark)}: {said}"
        ) from None
    except (yaml.YAMLError, ValueError, RecursionError):
        raise StackFileError(f"{path} is not valid YAML; check it with `scripts/pulumi config`") from None


def read_stack_file(stack: str, project_dir: Path = Path(".")) -> dict[str, Any]:
    """The `config:` mapping of a stack file, every key as written."""
    path = stack_file(stack, project_dir)
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or a device would block or never end
            raise StackFileError(f"{path} is not a regular file; a stack file is a YAML file")
        with path.open("rb") as file:
            data = file.read(MAX_STACK_FILE_BYTES + 1)
    except FileNotFoundError:
        stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise StackFileMissing(f"no stack file {path}; stacks here: {', '.join(stacks) or 'none'}") from None
    except OSError as error:
        raise StackFileError(f"{path} could not be read: {error.strerror or error}") from None
    if len(data) > MAX_STACK_FILE_BYTES:
        raise StackFileError(
            f"{path} is larger than {MAX_STACK_FILE_BYTES // 1024} KiB; a stack file holds a few settings"
        )
    document = _load(path, data) or {}
    config = document.get("config") if isinstance(document, Mapping) else None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: 'config' must be a mapping")
    return config


def settings_keys(config: Mapping[Any, Any]) -> dict[str, Any]:
    """The `mta-sts:*` keys, namespace removed, secure values left out. A secure key that is no
    setting is kept, with no value, so that it is named as a misspelling like any other."""
    prefix = NAMESPACE + ":"
    declared = schema.declared()
    return {
        key[len(prefix) :]: None if _secure(value) else value
        for key, value in config.items()
        if isinstance(key, str)
        and key.startswith(prefix)
        and not (_secure(value) and key[len(prefix) :] in declared)
    }


def _secure(value: Any) -> bool:
    return isinstance(value, dict) and "secure" in value


# Settings render can do without: the zone id only picks the Cloudflare zone, and no record
# or policy line depends on it.
UNREAD_IS_HARMLESS = ("zoneId",)


def secret_settings(config: Mapping[Any, Any]) -> list[str]:
    """Settings the stack file holds encrypted that are not secrets by design (`netlifyToken`
    is): render decrypts nothing, so it cannot read them."""
    declared = schema.declared()
    prefix = NAMESPACE + ":"
    return [
        key[len(prefix) :]
        for key, value in config.items()
        if isinstance(key, str)
        and key.startswith(prefix)
        and _secure(value)
        and key[len(prefix) :] in declared
        and not declared[key[len(prefix) :]].secret
    ]


def _unreadable(name: str, where: str, stack: str) -> str:
    """Why render stops at a secret setting, and the two ways on."""
    return (
        f"'{name}' is a secret in {where}; render cannot read it (it decrypts nothing), so it cannot "
        f"show or check what the stack publishes. It is no credential: store it in plain text "
        f"(`scripts/pulumi config rm {name} --stack {stack}`, then set it again without --secret), "
        "or see the stack with `scripts/pulumi preview`, which decrypts it"
    )


def _unchecked(name: str, where: str) -> str:
    return (
        f"'{name}' is a secret in {where}; render cannot read it (it decrypts nothing), so it is not "
        "checked here; `scripts/pulumi preview` checks it"
    )


def foreign_keys(config: Mapping[Any, Any], stack: str) -> list[str]:
    """Problems for keys written without the `mta-sts:` namespace that name one of its settings."""
    return namespace_problems(config, schema.declared(), f"Pulumi.{stack}.yaml")


def load_settings(stack: str, project_dir: Path = Path(".")) -> Settings:
    """Validated Settings of a stack file; raises StackFileError or ConfigError."""
    return load_settings_and_warnings(stack, project_dir)[0]


def load_settings_and_warnings(stack: str, project_dir: Path = Path(".")) -> tuple[Settings, list[str]]:
    """Validated Settings of a stack file and the warnings the program would give about them.

    A secret setting that shapes what is published is refused (render would show other
    records than the stack's), with every other problem; a core problem about it
    (`'domain' is required`) is left out, since it is set."""
    config = read_stack_file(stack, project_dir)
    where = f"Pulumi.{stack}.yaml"
    foreign = foreign_keys(config, stack)
    secrets = secret_settings(config)
    unread = [name for name in secrets if name not in UNREAD_IS_HARMLESS]
    settings, problems = None, []
    try:
        settings = parse_settings(settings_keys(config), prior_problems=foreign)
    except ConfigError as error:
        problems = error.problems
    about_unread = tuple(f"'{name}{end}" for name in unread for end in ("'", "."))
    problems = [
        *problems[: len(foreign)],
        *(_unreadable(name, where, stack) for name in unread),
        *(problem for problem in problems[len(foreign) :] if not problem.startswith(about_unread)),
    ]
    if problems or settings is None:
        raise ConfigError(
            [for_stack(problem if where in problem else f"{where}: {problem}", stack) for problem in problems]
        ) from None
    unchecked = [_unchecked(name, where) for name in secrets if name in UNREAD_IS_HARMLESS]
    return settings, [*config_warnings(settings, config, stack), *unchecked]
