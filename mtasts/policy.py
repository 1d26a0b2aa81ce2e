"""The policy file served at https://mta-sts.<domain>/.well-known/mta-sts.txt.

One rendering, one id: the id published in DNS is a digest of the rendered text, so it
changes exactly when the policy changes (RFC 8461 §3.1) and nobody keeps a counter.
The parser judges by the RFC (RFC 8461 §3.2) and is used both on what we render and on what
`verify` fetches from the network.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mtasts.names import is_hostname

MAX_AGE_LIMIT = 31_557_600  # RFC 8461 §3.2: max_age is at most about one year
MAX_POLICY_BYTES = 64 * 1024  # RFC 8461 §3.2: common senders refuse larger policies
POLICY_PATH = ".well-known/mta-sts.txt"
_ID_LENGTH = 32  # RFC 8461 §3.1: 1–32 letters and digits
_MAX_AGE = re.compile(r"^[0-9]{1,10}$")


class Mode(enum.StrEnum):
    """Policy modes, RFC 8461 §5."""

    ENFORCE = "enforce"
    TESTING = "testing"
    NONE = "none"


class PolicyError(ValueError):
    """A policy text that senders would reject; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Policy:
    """A valid policy. Construct it through `parse_policy` or from validated settings."""

    mode: Mode
    max_age: int
    mx: tuple[str, ...]

    def render(self) -> str:
        """The file text. `version` first (Google's sender expects it), LF line ends."""
        lines = ["version: STSv1", f"mode: {self.mode.value}"]
        lines += [f"mx: {pattern}" for pattern in self.mx]
        lines.append(f"max_age: {self.max_age}")
        return "\n".join(lines) + "\n"

    @property
    def id(self) -> str:
        return policy_id(self.render())

    def covers(self, host: str) -> bool:
        """Whether an MX host is matched by one of the policy's patterns (RFC 8461 §3.2)."""
        return any(mx_pattern_matches(pattern, host) for pattern in self.mx)

    def uncovered(self, hosts: Iterable[str]) -> list[str]:
        return [host for host in hosts if not self.covers(host)]


def policy_id(text: str) -> str:
    """The discovery id for a rendered policy: 32 hex digits of its SHA-256 (RFC 8461 §3.1)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_ID_LENGTH]


def is_mx_pattern(pattern: str) -> bool:
    """A host name, or `*.` followed by a host name (RFC 8461 §3.2)."""
    return is_hostname(pattern[2:] if pattern.startswith("*.") else pattern)


def mx_pattern_matches(pattern: str, host: str) -> bool:
    """RFC 8461 §4.1: `*.` matches exactly one leftmost label; comparison ignores case."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, dot, rest = host.partition(".")
        return bool(first) and bool(dot) and rest == pattern[2:]
    return host == pattern


def parse_policy(text: str) -> Policy:
    """Parse a policy as a strict sender does; raise PolicyError naming every problem.

    Accepts LF and CRLF line ends (erratum 6253) and ignores unknown keys (§3.2).
    """
    problems: list[str] = []
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        problems.append(f"the policy is larger than {MAX_POLICY_BYTES} bytes")
    if not text.isascii():
        problems.append("the policy contains non-ASCII characters")
    fields: dict[str, list[str]] = {}
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon or not key or key != key.strip():
            problems.append(f"line {number} is not 'key: value': {line!r}")
            continue
        fields.setdefault(key, []).append(value.strip())

    for key in ("version", "mode", "max_age"):
        if len(fields.get(key, [])) > 1:
            problems.append(f"'{key}' appears more than once")
    version = fields.get("version", [None])[0]
    if version != "STSv1":
        problems.append(f"'version' must be 'STSv1', found {version!r}")
    raw_mode = fields.get("mode", [None])[0]
    mode = next((m for m in Mode if m.value == raw_mode), None)
    if mode is None:
        problems.append(f"'mode' must be enforce, testing or none, found {raw_mode!r}")
    raw_max_age = fields.get("max_age", [None])[0]
    max_age = int(raw_max_age) if raw_max_age and _MAX_AGE.match(raw_max_age) else None
    if max_age is None or max_age > MAX_AGE_LIMIT:
        problems.append(f"'max_age' must be an integer 0–{MAX_AGE_LIMIT}, found {raw_max_age!r}")
    mx = tuple(fields.get("mx", []))
    problems += [
        f"'mx' {pattern!r} is not a host name or *.host name"
        for pattern in mx
        if not is_mx_pattern(pattern.lower())
    ]
    if mode is not Mode.NONE and not mx:
        problems.append("'mx' is required unless mode is none")
    if problems:
        raise PolicyError(problems)
    assert mode is not None and max_age is not None
    return Policy(mode=mode, max_age=max_age, mx=mx)
