"""Reading one config value, and showing it back as the user wrote it.

Messages follow Terraform's validation blocks: the key, the value as written (YAML, as in
the stack file: `true`, `null`, `[a, b]`, never Python's `True`, `None`), what is accepted
and how to set it.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import yaml

from mtasts.rules import credentials
from mtasts.visible import clip

NAMESPACE = "mta-sts"


# A value shown back longer than this is cut, with its length: a pasted file or a number of
# thousands of digits would bury the message.
SHOWN_CHARS = 200
# Far deeper than any setting (`proton.dkim.<selector>` is three), far shallower than the
# recursion a YAML composer or a dumper can afford; values from the engine are JSON too.
MAX_NESTING = 32


# More items than any stack sets; a value shared by reference many times over counts each time.
MAX_ITEMS = 10_000


def nesting(value: Any, limit: int = MAX_NESTING) -> int:
    """How deep lists and mappings nest in `value`, counted without recursion up to `limit + 1`
    (also returned for a value of more than `MAX_ITEMS` items, which no setting takes)."""
    deepest, stack, seen = 0, [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > MAX_ITEMS:
            return limit + 1
        if isinstance(item, (list, tuple, dict)):
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


# The shapes of pasted credentials: the prefixes Netlify, GitHub and GitLab give their tokens,
# or 32 and more letters and digits with no dot. No setting's value looks like that (names
# have dots, a zone id is shown only when it is wrong and then hidden too).
_TOKEN_LIKE = re.compile(credentials.PREFIX + r"\S+|(?=[^.]*[0-9])(?=[^.]*[A-Za-z])[A-Za-z0-9_+/=-]{32,}")
HIDDEN = "(a value shaped like a token or key, not shown)"


def may_be_secret(value: Any) -> bool:
    """Whether `value`, or a string inside it, is shaped like a credential (never shown back)."""
    return any(_TOKEN_LIKE.fullmatch(text.strip()) for text in _strings(value))


def _strings(value: Any) -> Iterator[str]:
    """The strings in `value`, keys too, nested in lists, tuples and dicts; at most MAX_ITEMS
    items are looked at, however the value nests."""
    stack, seen = [value], 0
    while stack and seen < MAX_ITEMS:
        item = stack.pop()
        seen += 1
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend([*item.keys(), *item.values()])
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


# A token pasted inside a value (`mailto:nfp_...@example.com`, `https://host/ghp_...`,
# `token=ghp_...`): a prefixed one anywhere (`rules.credentials`), or a run of 32 and more key
# characters that is random: digits with letters of both cases (a Cloudflare token, a base64
# key), or hex (a key written in hex). Runs, not parts between separators: a base64 key holds
# `/`, `+` and `=`, and an escape (`\u00e9`) or a percent-encoding glues itself on. Not one
# case alone: hyphenated words, paths and lower-case DNS labels with digits (a Proton DKIM
# target's base32 label) are what a user must see to fix a value.
_KEY_RUN = re.compile(r"[A-Za-z0-9_+/=-]{32,}")
_HEX_RUN = re.compile(r"[0-9a-f]{32,}|[0-9A-F]{32,}")
HIDDEN_PART = "(a part shaped like a token, not shown)"


def hide_tokens(text: str, known: Iterable[str] = ()) -> str:
    """`text` with each part shaped like a token replaced by `HIDDEN_PART`, the rest as it is:
    a value, or a rule's words that quote one (`'...' is not a valid mailto: URI`, `write it as ...`).

    `known`: the `token_parts` of the input, hidden in any case: a rule may quote a value
    lower-cased (a host name), and a lower-cased token no longer looks random."""
    text = credentials.TOKEN_PART.sub(HIDDEN_PART, text)
    known = tuple(known)

    def hidden(run: str) -> bool:
        return _random(run) or any(part in run.lower() for part in known)

    return _KEY_RUN.sub(lambda run: HIDDEN_PART if hidden(run.group(0)) else run.group(0), text)


def token_parts(value: Any) -> frozenset[str]:
    """The random runs (`_random`) in the strings of a raw config, lower-cased and split where a
    URI or a key glues other characters on (`=`, `/`, `+`), for `hide_tokens`."""
    runs = (run for text in _strings(value) for run in _KEY_RUN.findall(text) if _random(run))
    return frozenset(part for run in runs for part in re.split(r"[=/+]", run.lower()) if len(part) >= 16)


def _random(run: str) -> bool:
    if not (any(char.isdigit() for char in run) and any(char.isalpha() for char in run)):
        return False  # a number, or a word
    mixed = any(char.isupper() for char in run) and any(char.islower() for char in run)
    return mixed or _HEX_RUN.search(run) is not None


def holds_token(value: Any) -> bool:
    """Whether `value` is shaped like a token or has a part that is (see `hide_tokens`)."""
    return may_be_secret(value) or (isinstance(value, str) and hide_tokens(value) != value)


def reason(seen: str, value: Any) -> str:
    """A rule's words about `value` (which quote it), or none when the value may be a secret."""
    return "it is no valid value here" if may_be_secret(value) else seen


def show(value: Any) -> str:
    """A value as YAML writes it; strings single-quoted so a reader sees where they end, and
    control characters escaped (a double-quoted string) rather than folded or hidden. A long
    value is cut to its first `SHOWN_CHARS` characters and its length; one shaped like a token
    is not shown at all, and a part shaped like one (a token pasted into a URI) is hidden before
    the cut, which could leave too little of it to recognise."""
    if nesting(value) > MAX_NESTING:
        return f"(a value nested more than {MAX_NESTING} levels deep, or of more than {MAX_ITEMS} items)"
    if may_be_secret(value):
        return HIDDEN
    return clip(hide_tokens(_show(value)), SHOWN_CHARS)


def _show(value: Any) -> str:
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
        # YAML counts bidi overrides (U+202E) as printable; a reader must see them escaped.
        if "\n" not in text and text.isprintable() and _reads_back(text, value):
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


def listed_twice(key: str, uri: str, earlier: str) -> str:
    """A report URI naming the address of an earlier entry (`tlsrpt.repeats`: `mailto:a@EXAMPLE.ORG`
    is `mailto:a@example.org`), shown without an https: URL's password."""
    from mtasts.rules.tlsrpt import without_userinfo  # here: the rules import nothing of config

    same = "" if uri == earlier else f" (it is the address of {show(without_userinfo(earlier))})"
    return f"'{key}' entry {show(without_userinfo(uri))} is listed twice{same}; list each URI once"


def expected(fix: str) -> str:
    """A rule's fix after a refusal: an instruction (`write it as ...`, `take ... out`) as it is,
    anything else as what is expected."""
    return fix if fix.startswith(("write ", "take ")) else f"expected {fix}"


# Where a key's name ends and what may be its value begins: `key=value` and `key value` are
# `pulumi config set` typos, `key:value` a YAML one (no space after the colon makes one key).
_NAME_END = re.compile(r"[:=\s]")
HIDDEN_KEY = "(a key shaped like a token, not shown)"


def key_parts(key: Any) -> tuple[str, str]:
    """A key's name and what follows it (`netlifyToken=nfp_...` gives `netlifyToken`, `=nfp_...`)."""
    text = str(key)
    end = _NAME_END.search(text)
    return (text, "") if end is None else (text[: end.start()], text[end.start() :])


def key_name(key: Any, namespaced: bool = False) -> str:
    """A key as it may be shown, the one way every message shows one: the name up to a `:`,
    `=` or space, then that character and `…` (what follows may be the value, a token);
    a name shaped like a token is not shown; the rest is escaped and cut. `namespaced` keeps
    the namespace before the first colon (`github:token`), itself hidden if token-shaped."""
    text, namespace = str(key), ""
    if namespaced and ":" in text:
        head, _, text = text.partition(":")
        namespace = key_name(head) + ":"
    name, rest = key_parts(text)
    if _holds_token(name):
        return namespace + HIDDEN_KEY
    if not name.isprintable() or len(name) > 64:
        name = (name.encode("unicode_escape").decode("ascii"))[:64] + ("…" if len(name) > 64 else "")
    return namespace + name + (visible_char(rest[0]) + "…" if rest else "")


def visible_char(char: str) -> str:
    return char if char.isprintable() else char.encode("unicode_escape").decode("ascii")


def _holds_token(name: str) -> bool:
    """Whether `name`, or a dotted part of it, is shaped like a credential."""
    return may_be_secret(name) or any(may_be_secret(part) for part in name.split("."))


_CONFIG_COMMAND = re.compile(r"`(scripts/pulumi config set [^`]*?)`")


def for_stack(message: str, stack: str) -> str:
    """`message` with `--stack <stack>` added to each `scripts/pulumi config set` it prints, so the
    command works as printed in a shell where no stack is selected."""
    return _CONFIG_COMMAND.sub(
        lambda match: (
            match.group(0) if "--stack" in match.group(1) else f"`{match.group(1)} --stack {stack}`"
        ),
        message,
    )


def unknown_key(key: str, known: Iterable[str], prefix: str = "") -> str:
    """`'tlsrpt' is not a setting; did you mean 'tlsRpt'?`, or the list of settings. Only the
    key is named, never its value: a token written under a misspelt key is still a token."""
    known = list(known)
    shown, (name, rest) = key_name(key), key_parts(key)
    by_lower = {known_name.lower(): known_name for known_name in known}
    import difflib  # here, not at the top: only a misspelt key needs it, and a valid config skips its import

    close = [] if shown.endswith(HIDDEN_KEY) else difflib.get_close_matches(name.lower(), list(by_lower), n=1)
    # A key is its name alone: `netlifyToken=<token>` set a key of that name, not the setting.
    alone = ""
    if rest:
        alone = f" (a key is the name alone: what follows its '{visible_char(rest[0])}' may be a value)"
    if close:
        return f"'{prefix}{shown}' is not a setting; did you mean '{prefix}{by_lower[close[0]]}'?{alone}"
    return f"'{prefix}{shown}' is not a setting; known settings: {', '.join(sorted(known))}{alone}"


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
                f"'{NAMESPACE}:{right}' (`scripts/pulumi config set {right} ...` adds the namespace)"
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


def _example(value: str, example: str, entry: Callable[[str], str]) -> str:
    """The value as the list entry to set, when it could be one; else the example."""
    value = value.strip()
    shown = value and len(value) <= SHOWN_CHARS and value.isprintable() and not holds_token(value)
    return entry(value) if shown else example


def string_list(
    value: Any, key: str, example: str, problems: list[str], entry: Callable[[str], str] = str
) -> list[str] | None:
    """A list of strings. A single string is refused with the command that sets a list:
    `pulumi config set key value` stores a string, and a list needs `--path`."""
    if isinstance(value, str):
        problems.append(
            f"'{key}' must be a list, not the string {show(value)}; set it with "
            f"`scripts/pulumi config set --path '{key}[0]' {_example(value, example, entry)}` "
            f"(and '{key}[1]' for a second entry)"
        )
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        problems.append(
            f"'{key}' {show(value)} is not accepted; expected a list of strings such as [{example}]"
        )
        return None
    return [item.strip() for item in value]
