"""`MtaStsDomainArgs` (or a plain dict of the same keys) → the core's validated `Settings`.

The rules are the core's (`mtasts.config.parse_settings`, which calls `mtasts.rules`): the
arguments are handed to it under their config names, and its problems are phrased back in the
caller's terms: the argument's snake_case name, and no `pulumi config set` advice, since a
component's caller does not set stack config. Every problem at once, as a `pulumi.RunError`
(the engine prints its message alone, without a Python traceback), before anything registers.

Leaves alone: reading stack config (the repository's program does that itself), and the
Netlify token, which is only judged here when given as a plain string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi_mta_sts.netlify.credential import TokenError, clean_token

from mtasts.config import ConfigError, Settings, parse_settings, schema
from mtasts.config.values import MAX_NESTING, show, unknown_key

_PROTON_KEYS = {"verification": "verification", "dkim": "dkim", "dmarc": "dmarc"}
_PROTON_KEYS |= {"dmarc_rua": "dmarcRua", "spf_includes": "spfIncludes"}
# The advice the core gives a stack's owner: a component's caller passes arguments instead.
_CONFIG_ADVICE = re.compile(
    r"(?::|;|,)? (?:run|set it with|set them with|\(set them with) `(?:scripts/)?pulumi\sconfig\sset[^`]*`"
    r"(?: \(and '[^']*' for a second entry\)|\))?"
)


def arg_name(key: str) -> str:
    """`maxAge` → `max_age`: a config key's name as a component argument."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def _arg_path(path: str) -> str:
    head, dot, tail = path.partition(".")
    return arg_name(head) + (dot + arg_name(tail) if tail else "")


def _rephrase(problem: str) -> str:
    keys = "|".join(re.escape(name) for name in schema.declared())
    problem = re.sub(rf"'((?:{keys})(?:\.[A-Za-z]+)?)'", lambda m: _arg_path(m.group(1)), problem)
    # proton's fields, also where a message lists them unquoted ("dmarc, dmarcRua, spfIncludes").
    camel = "|".join(name for name in _PROTON_KEYS.values() if arg_name(name) != name)
    problem = re.sub(rf"\b({camel})\b", lambda m: arg_name(m.group(1)), problem)
    return _CONFIG_ADVICE.sub("", problem)


def unknown_argument(key: Any, known: list[str], prefix: str = "") -> str:
    """`'maxage' is not an argument; did you mean 'max_age'?`: the core's unknown-key message
    in an argument's terms, for the component and for the provider's Construct alike."""
    return unknown_key(key, known, prefix).replace("is not a setting", "is not an argument")


def _config_form(args: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    by_arg = {arg_name(name): name for name in schema.declared() if not schema.declared()[name].secret}
    known = [*by_arg, "netlify_token"]
    raw: dict[str, Any] = {}
    for key, value in args.items():
        if key == "netlify_token":
            continue
        if key not in by_arg:
            problems.append(unknown_argument(key, known))
        elif value is not None:
            raw[by_arg[key]] = value
    proton = raw.get("proton")
    if isinstance(proton, Mapping):
        raw["proton"] = {_PROTON_KEYS.get(str(key), str(key)): value for key, value in proton.items()}
    return raw


# Why an argument cannot be an output: its value decides which resources register.
PLAIN_VALUE = (
    "MtaStsDomain needs a plain value: it decides when it is created which records and sites the "
    "domain needs, before any output is known. Pass the value itself, not an Output (from stack "
    "config, read it with `require`, not `require_secret`)"
)


def _is_output(value: Any) -> bool:
    """An Output, or the engine's unknown value (a preview's output of another resource)."""
    return isinstance(value, (pulumi.Output, Unknown))


def _output_at(value: Any, path: str, depth: int = 0) -> str | None:
    """Where an output is in an argument's value: `domain is`, `mx holds`, `proton.verification is`.
    Never shown: an output's str() is Pulumi's warning, and a secret's value is secret."""
    if _is_output(value):
        return f"{path} is"
    if depth > MAX_NESTING:
        return None  # the core refuses a value nested this deep
    if isinstance(value, Mapping):
        return next((w for k, v in value.items() if (w := _output_at(v, f"{path}.{k}", depth + 1))), None)
    if isinstance(value, (list, tuple)) and any(_output_at(item, path, depth + 1) for item in value):
        return f"{path} holds"
    return None


def _config_key(arg: str) -> str:
    """`max_age` → `maxAge`: an argument's name as the core's problems name it."""
    return next((name for name in schema.declared() if arg_name(name) == arg), arg)


def _token_problem(token: Any) -> str | None:
    if token is None or isinstance(token, pulumi.Output):
        return None  # an output is judged by the provider, when it is known
    if not isinstance(token, str):
        return (
            f"netlify_token {show(token)} is not accepted; expected the token as a string or a secret output"
        )
    try:
        clean_token(token)
    except TokenError as error:
        return f"netlify_token: {str(error).split('. ')[0]}"  # the rest is advice on stack config
    return None


def settings_from_args(name: str, args: Mapping[str, Any]) -> Settings:
    """The validated settings of the `MtaStsDomain` called `name`; RunError with every problem."""
    if not isinstance(args, Mapping):
        raise pulumi.RunError(
            f"MtaStsDomain '{name}': the arguments {show(args)} are not accepted; expected "
            "MtaStsDomainArgs(domain=...) or a dict with the same snake_case keys"
        )
    problems: list[str] = []
    outputs = {
        key: where
        for key, value in args.items()
        if key != "netlify_token" and (where := _output_at(value, key))
    }
    problems += [f"{where} an output (or secret); {PLAIN_VALUE}" for where in outputs.values()]
    raw = _config_form({key: value for key, value in args.items() if key not in outputs}, problems)
    token_problem = _token_problem(args.get("netlify_token"))
    try:
        settings = parse_settings(raw)
    except ConfigError as error:
        left_out = tuple(f"'{_config_key(key)}" for key in outputs)
        # A setting left out for being an output is named once, above, not also as missing.
        problems += [
            _rephrase(problem)
            for problem in error.problems
            if not problem.startswith(tuple(f"{key}{end}" for key in left_out for end in ("'", ".")))
        ]
    if token_problem:
        problems.append(token_problem)
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise pulumi.RunError(f"MtaStsDomain '{name}' has invalid arguments:\n{listing}")
    return settings
