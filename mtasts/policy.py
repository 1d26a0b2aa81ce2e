"""The policy file served at https://mta-sts.<domain>/.well-known/mta-sts.txt.

One rendering, one id: the id published in DNS is a digest of the rendered text, so it
changes exactly when the policy changes (RFC 8461 §3.1) and nobody keeps a counter.
The grammar and its readings live in `mtasts.rules.policy_file`; `parse_policy` turns its
findings into a `Policy` or a `PolicyError` for the callers that need one or the other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from mtasts.constants import POLICY_PATH
from mtasts.errors import ProblemsError
from mtasts.rules import mx_coverage, policy_file
from mtasts.rules.policy_file import MAX_AGE_LIMIT, MAX_POLICY_BYTES, Mode, is_mx_pattern

__all__ = [
    "MAX_AGE_LIMIT",
    "MAX_POLICY_BYTES",
    "POLICY_PATH",
    "Mode",
    "Policy",
    "PolicyError",
    "is_mx_pattern",
    "parse_policy",
    "policy_id",
]

_ID_LENGTH = 32  # RFC 8461 §3.1: 1–32 letters and digits


class PolicyError(ProblemsError):
    """A policy text that senders would reject; `problems` lists every reason."""


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
        """Whether an MX host is matched by one of the policy's patterns (RFC 8461 §4.1)."""
        return mx_coverage.covers(self.mx, host)

    def uncovered(self, hosts: Iterable[str]) -> list[str]:
        return mx_coverage.uncovered(self.mx, list(hosts))


def policy_id(text: str) -> str:
    """The discovery id for a rendered policy: 32 hex digits of its SHA-256 (RFC 8461 §3.1)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_ID_LENGTH]


def parse_policy(text: str) -> Policy:
    """Parse a policy as a strict sender does; raise PolicyError naming every failure."""
    parsed = policy_file.parse(text)
    if not parsed.valid or parsed.mode is None or parsed.max_age is None:
        raise PolicyError([finding.seen for finding in parsed.findings if finding.failed])
    return Policy(mode=parsed.mode, max_age=parsed.max_age, mx=parsed.mx)
