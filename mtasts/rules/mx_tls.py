"""Whether the live MX hosts' TLS lets the policy's mode take effect (RFC 8461 §4.2, §5).

Under `enforce` a sender delivers only to an MX host that offers STARTTLS with a certificate
valid for its name; one that would fail (named by its RFC 8460 §4.3 result type) has its mail
refused, so the program stops before anything changes. Under `testing` the same host is a
warning: mail still arrives, and the reports will show the failure. What could not be
checked (port 25 blocked from where the program runs, as on many CI runners, or MX hosts
that do not answer: one domain's probes cannot tell these apart) is a warning, never a
stop. Taking the TLS verdicts is `mtasts.verify.mx_check`'s; this rule only weighs them,
for the program and the policy pack alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mtasts.rules.findings import Finding, Severity
from mtasts.visible import listing, printable

FAILS = "mx-host-tls-fails"
UNCHECKED = "mx-host-tls-unchecked"
RFC = "RFC 8461 §4.2"
# The MX check's fix for an address that took no connection (`MxTls.fix`); any other fix an
# unchecked address comes with (a TLSA lookup that failed) is its own and is passed on.
CONNECT_FIX = "check that the host accepts connections on port 25"


@dataclass(frozen=True)
class MxTls:
    """One MX host and address as the MX check saw it: outcome passed, failed or could-not-check."""

    host: str
    address: str
    outcome: str
    result_type: str | None = None
    message: str = ""
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MxTls | None:
        """From a resource property as the policy pack sees it; None when it is not one."""
        host, address, outcome = data.get("host"), data.get("address"), data.get("outcome")
        if not all(isinstance(value, str) for value in (host, address, outcome)):
            return None
        result_type = data.get("result_type")
        return cls(
            str(host), str(address), str(outcome),
            result_type if isinstance(result_type, str) else None,
            str(data.get("message") or ""), str(data.get("fix") or ""),
        )  # fmt: skip


def _connected(entry: MxTls) -> bool:
    """An unchecked address that took a connection: it comes with a fix of its own (its TLSA
    lookup found no answer), not CONNECT_FIX or none."""
    return entry.fix not in ("", CONNECT_FIX)


def judge(mode: str, seen: Iterable[MxTls], *, domain: str = "the domain") -> list[Finding]:
    """One finding per failing MX address (FAIL under enforce, WARN under testing), one WARN
    per address that could not be checked, nothing under `none`."""
    if mode not in ("enforce", "testing"):
        return []
    seen = list(seen)
    if seen and all(entry.outcome == "could-not-check" and not _connected(entry) for entry in seen):
        # Port 25 blocked where the program runs, or every MX host down: the domain's probes
        # alone cannot tell which. One warning, not one per address, with the first few distinct
        # reasons: the zone chooses how many MX hosts there are, each with a reason of its own.
        reasons = listing(list(dict.fromkeys(entry.message for entry in seen)), show=str, separator="; ")
        text = (
            f"the TLS of {domain}'s MX hosts could not be checked from this machine ({reasons}): either "
            "port 25 is blocked on its network (most CI runners and home networks block it), or the MX "
            "hosts themselves are down, refuse connections or do not resolve"
        )
        fix = (
            "check it from a machine that may connect to port 25: "
            f"`.venv/bin/python -m mtasts verify {domain}`; if it cannot check them either, fix the MX "
            "hosts before enforce"
        )
        return [Finding(UNCHECKED, Severity.WARN, text, fix, RFC)]
    findings = []
    for entry in seen:
        where = (
            # The name is the zone's: an API answer in the program, a DNS text in `verify`.
            f"MX host {printable(entry.host)} ({printable(entry.address)}) of {domain}"
            if entry.address
            else f"an MX host of {domain}"
        )
        if entry.outcome == "failed":
            if mode == "enforce":
                severity, effect = Severity.FAIL, "under enforce, senders would refuse to deliver to it"
            else:
                severity, effect = (
                    Severity.WARN,
                    "under testing mail still arrives but senders report it; enforce would refuse it",
                )
            seen_text = (
                f"{where} fails TLS as a sender checks it ({entry.result_type}: {entry.message}): {effect}"
            )
            findings.append(Finding(FAILS, severity, seen_text, entry.fix, RFC, subject=entry.host))
        elif entry.outcome == "could-not-check":
            seen_text = f"{where} could not be checked ({entry.message}); its TLS is unknown"
            # Another address of the domain took a connection from here: port 25 is open.
            fix = entry.fix
            if not _connected(entry):
                fix = (
                    f"{CONNECT_FIX} (another MX address of {domain} did, from this machine), or, for an "
                    "address this machine has no route to, check from one that has: "
                    f"`.venv/bin/python -m mtasts verify {domain}`"
                )
            findings.append(Finding(UNCHECKED, Severity.WARN, seen_text, fix, RFC, subject=entry.host))
    return findings
