"""The domain's mail records: SPF, DKIM, DMARC and Proton Mail's verification record.

Which TXT texts count as which record, and how many of each a name may hold:
- SPF (RFC 7208 §4.5): a text whose version section is exactly `v=spf1`, ended by a space or
  the end of the text, case-insensitively (ABNF strings are, RFC 5234 §2.3). `v=spf10 foo`
  is not SPF. Two SPF records at a name are a permanent error: receivers then treat mail
  from the name as unauthenticated.
- DMARC (RFC 7489 §6.6.3): a text starting with `v=DMARC1` followed by `;`, spaces or the
  end. More than one record: receivers apply no DMARC policy.
- Proton verification: `protonmail-verification=<code>` at the apex; several may coexist.
- DKIM (RFC 6376 §3.6.2.1): Proton publishes three selectors, each a CNAME to a key Proton
  rotates; the stack must carry all three and nothing else.

Placeholders: the example stack's values, and obvious stand-ins, must never be published.
With `adopt: true` a placeholder DKIM target would replace the user's real DKIM records and
send their mail to spam.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from mtasts.rules.findings import Finding, Severity

PROTON_DKIM_SELECTORS = ("protonmail", "protonmail2", "protonmail3")
PROTON_VERIFICATION_PREFIX = "protonmail-verification="
PROTON_DASHBOARD = "Proton Mail → Settings → Domain names → your domain"

SPF_MULTIPLE = "spf-record-multiple"
DMARC_MULTIPLE = "dmarc-record-multiple"
DKIM_SELECTORS = "dkim-selectors"
PLACEHOLDER = "proton-placeholder"

_DMARC = re.compile(r"v=DMARC1(?:[ \t]*;|[ \t]*$)")
# Stand-ins people write for "fill this in": words, brackets, runs and counting sequences.
_PLACEHOLDER = re.compile(
    r"replace|placeholder|example|changeme|change-me|your|xxxx|todo|fixme|dummy|sample|[<>{}]"
    r"|0123456789|123456789|abcdef|(.)\1{5,}",
    re.IGNORECASE,
)
# Values an earlier example stack file carried: a copy of it must not deploy them either.
EXAMPLE_VALUES = frozenset({"3c1b8e0f5d2a4c6e8a0b2d4f6a8c0e2b4d6f8a0c"})


def is_spf(text: str) -> bool:
    lowered = text.strip().lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def spf_records(texts: Sequence[str]) -> list[str]:
    return [text for text in texts if is_spf(text)]


def is_dmarc(text: str) -> bool:
    return bool(_DMARC.match(text.strip()))


def is_proton_verification(text: str) -> bool:
    return text.strip().startswith(PROTON_VERIFICATION_PREFIX)


def one_spf(name: str, count: int) -> Finding | None:
    if count <= 1:
        return None
    return Finding(
        SPF_MULTIPLE,
        Severity.FAIL,
        f"{name} would hold {count} SPF records: receivers treat two v=spf1 records as a permanent error",
        "keep one SPF record; list extra senders in proton.spfIncludes instead",
        "RFC 7208 §4.5",
    )


def one_dmarc(name: str, count: int) -> Finding | None:
    if count <= 1:
        return None
    return Finding(
        DMARC_MULTIPLE,
        Severity.FAIL,
        f"{name} would hold {count} v=DMARC1 records: receivers apply no DMARC policy when there is "
        "more than one",
        f"keep one record at {name}",
        "RFC 7489 §6.6.3",
    )


def dkim_selectors(given: Mapping[str, object], shown: Callable[[object], str] = str) -> list[Finding]:
    """Proton's three selectors, each named once: say which is missing or extra. `shown` writes
    an extra one as the caller shows keys (a stack file's key may hold a token or an escape)."""
    missing = [selector for selector in PROTON_DKIM_SELECTORS if selector not in given]
    extra = [shown(selector) for selector in given if selector not in PROTON_DKIM_SELECTORS]
    findings = []
    if missing:
        findings.append(
            Finding(
                DKIM_SELECTORS,
                Severity.FAIL,
                f"the selector{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"{'are' if len(missing) > 1 else 'is'} missing",
                f"add {', '.join(missing)} with the CNAME target{'s' if len(missing) > 1 else ''} shown in "
                f"{PROTON_DASHBOARD} → DKIM",
                "RFC 6376 §3.6.2.1",
            )
        )
    if extra:
        findings.append(
            Finding(
                DKIM_SELECTORS,
                Severity.FAIL,
                f"{', '.join(extra)} {'are not selectors' if len(extra) > 1 else 'is not a selector'} "
                "Proton uses "
                f"(it uses {', '.join(PROTON_DKIM_SELECTORS)})",
                f"remove {', '.join(extra)}",
                "RFC 6376 §3.6.2.1",
            )
        )
    return findings


def placeholder(value: str, what: str, where: str) -> Finding | None:
    """A stand-in instead of the value Proton's dashboard shows (`where`: the dashboard step)."""
    stand_in = value.lower() in EXAMPLE_VALUES or _PLACEHOLDER.search(value) or re.fullmatch(r"0*", value)
    if not stand_in:
        return None
    return Finding(
        PLACEHOLDER,
        Severity.FAIL,
        f"{what} {value} is a placeholder, not the value Proton gave your domain",
        f"copy the real one from {PROTON_DASHBOARD} → {where}",
        subject=value,
    )
