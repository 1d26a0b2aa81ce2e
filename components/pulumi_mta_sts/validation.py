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
from pulumi_mta_sts.netlify.credential import TokenError, clean_token

from mtasts.config import ConfigError, Settings, parse_settings, schema
from mtasts.config.values import show, unknown_key

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
    raw = _config_form(args, problems)
    token_problem = _token_problem(args.get("netlify_token"))
    try:
        settings = parse_settings(raw)
    except ConfigError as error:
        problems += [_rephrase(problem) for problem in error.problems]
    if token_problem:
        problems.append(token_problem)
    if problems:
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise pulumi.RunError(f"MtaStsDomain '{name}' has invalid arguments:\n{listing}")
    return settings
