"""The one exception tree: every error this project raises on purpose is an `MtaStsError`.

A caller that wants "anything this package refused" catches `MtaStsError`; each module keeps
its own subclass (`ConfigError`, `PolicyError`, `NetlifyError`, ...) under the name it always
had, so code catching one of those, or `ValueError` where it was one, keeps working.
`ProblemsError` is the base of the errors that report every problem at once: it holds
`problems` and writes the message from them, in one of two shapes (a `heading` and one line
per problem, or the problems joined by "; "), so no subclass formats the list itself.

Leaves alone: what each error says (its module writes the problems) and how a command or the
program shows it (`mtasts.exits`, the components).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class MtaStsError(Exception):
    """Base of every error the project raises deliberately."""


class ProblemsError(MtaStsError, ValueError):
    """Every problem found at once; `problems` lists each, with its fix.

    With a class `heading`, the message is the heading and one `  - problem` line per
    problem; without one, the problems joined by "; ".
    """

    heading: ClassVar[str] = ""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(self.format(self.problems))

    @classmethod
    def format(cls, problems: Sequence[str]) -> str:
        if not cls.heading:
            return "; ".join(problems)
        return cls.heading + "\n" + "\n".join(f"  - {problem}" for problem in problems)
