"""Realistic Proton Mail values for tests: the shape of what Proton's dashboard shows, none of
the placeholders the program refuses (the example stack file holds those)."""

from __future__ import annotations

from typing import Any

VERIFICATION = "9f2c41d07be35a8613c0e4f7a2b95d6e1c8f30a4"
DKIM_DOMAIN = "d4kq2v7xwz5tbn3c8rjy6m9hs0pf1ua.domains.proton.ch"
SELECTORS = ("protonmail", "protonmail2", "protonmail3")
DKIM = {selector: f"{selector}.domainkey.{DKIM_DOMAIN}" for selector in SELECTORS}


def realistic(proton: dict[str, Any]) -> dict[str, Any]:
    """An example stack's `proton` object with its placeholders replaced by realistic values."""
    return {**proton, "verification": VERIFICATION, "dkim": dict(DKIM)}
