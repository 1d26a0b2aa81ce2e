"""The shapes of credentials a user may paste where a value belongs.

Netlify, GitHub and GitLab give their tokens a fixed prefix; a prefix followed by at least 16
of a token's characters (GitLab's, the shortest, has 20) is one, wherever it stands. Names such
as `ghp.example.com` or `nfp-mail` have no such run. The config layer hides these parts when it
shows a value back, and the rules refuse to publish a value holding one.
"""

from __future__ import annotations

import re

PREFIX = r"(?:nf[pc]_|gh[pousr]_|github_pat_|glpat-)"  # Netlify's, GitHub's and GitLab's
TOKEN_PART = re.compile(PREFIX + r"[A-Za-z0-9_-]{16,}")


def holds_token(text: str) -> bool:
    """Whether `text` has a part shaped like a Netlify, GitHub or GitLab token."""
    return TOKEN_PART.search(text) is not None
