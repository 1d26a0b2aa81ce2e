"""Is `enforce` safe for a domain? The judgement over a `DomainSummary`, and the advice for a stack.

RFC 8461 §5 and the rollout the README describes: run `testing`, read the TLS reports,
switch to `enforce` once they show senders succeed. Here that means, by default, reports of
senders applying the sts policy, spanning at least 14 days (two `max_age` weeks of senders
refreshing the policy), from at least 2 organizations (one sender's view is not the
Internet's), with no failed session under an `sts` policy: under `enforce` such a sender
would not deliver (RFC 8461 §5.1). Failures under `tlsa` (DANE, RFC 7672) or with no policy
do not depend on the MTA-STS mode, so they are reported but do not block. Nor is a domain
ready while two reports share an id with different content (`summary`): one may be forged.
The command line prints what this decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mtasts.config import Settings
from mtasts.policy import Mode, Policy
from mtasts.reports.model import PolicyType
from mtasts.reports.summary import DomainSummary, PolicySeen, applies_nothing
from mtasts.visible import DEFAULT_LIMIT, visible

if TYPE_CHECKING:
    from mtasts.verify.mx_tls import MxToday

DEFAULT_MIN_DAYS = 14
DEFAULT_MIN_REPORTERS = 2


@dataclass(frozen=True)
class Thresholds:
    min_days: int = DEFAULT_MIN_DAYS
    min_reporters: int = DEFAULT_MIN_REPORTERS


@dataclass(frozen=True)
class Verdict:
    ready: bool
    reasons: tuple[str, ...]  # what stands in the way, or, when ready, why
    # Failed sessions under a policy the senders saw in mode enforce: mail they did not deliver.
    refused: int = 0

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)

    @property
    def state(self) -> str:
        """The verdict in a word, as the text and the page show it: "not safe" once senders
        applying enforce have refused mail, for it is no longer a question of waiting."""
        if self.ready:
            return "safe"
        return "not safe" if self.refused else "not yet"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'s' * (count != 1)}"


def shown_domain(name: str) -> str:
    """A policy domain from a report as it is shown: `visible`, and when it holds characters
    outside ASCII, those written as escapes (`\\u0430`) and the name marked as such.

    RFC 8460 §4.4: policy-domain is the domain the policy is for, which senders write in
    A-labels (RFC 5890 §2.3.2.1). A Cyrillic small a (U+0430) or a Hangul filler (U+3164)
    is printable, so `visible` keeps it, and a forged domain judged safe would read as the
    real one beside it; escaped, it cannot."""
    if name.isascii():
        return visible(name)
    head = name[:DEFAULT_LIMIT]
    escaped = visible(head, len(head)).encode("ascii", "backslashreplace").decode("ascii")
    cut = f"…(+{len(name) - len(head):,} characters)" if len(name) > len(head) else ""
    return f"{escaped}{cut} (not ASCII)"


def top(counts: dict[str, int], limit: int = 3, show: Callable[[str], str] = visible) -> str:
    """The `limit` largest counts, each after its key as `show` writes it."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = ", ".join(f"{show(key)} {value:,}" for key, value in ranked[:limit])
    return shown + (f", and {len(ranked) - limit} more" if len(ranked) > limit else "")


NOT_APPLIED = "only tlsa, no-policy-found or mode none"


def applied_policies(domain: DomainSummary) -> list[PolicySeen]:
    """The sts policies senders reported applying; one in mode none applies nothing (RFC 8461 §5)."""
    return [
        seen
        for seen in domain.policies.values()
        if seen.policy_type is PolicyType.STS and not applies_nothing(seen)
    ]


def enforce_verdict(domain: DomainSummary, thresholds: Thresholds = Thresholds()) -> Verdict:
    obstacles = []
    sts = applied_policies(domain)
    # Days and organizations count only reports of senders applying the sts policy: days of
    # `no-policy-found` before the policy was published say nothing about enforce.
    applied = domain.sts_coverage
    organizations = sorted(applied.organizations.values())
    if sts and applied.span_days < thresholds.min_days:
        obstacles.append(
            f"the reports under an sts policy span {_plural(applied.span_days, 'day')} "
            f"({applied.first} to {applied.last}); "
            f"wait until they span {thresholds.min_days} (--min-days)"
        )
    if sts and len(organizations) < thresholds.min_reporters:
        obstacles.append(
            f"{_plural(len(organizations), 'organization')} reported applying the sts policy "
            f"({', '.join(visible(name) for name in organizations)}); "
            f"wait for reports from {thresholds.min_reporters} (--min-reporters)"
        )
    if not sts:
        obstacles.append(
            f"no sender reported applying an sts policy ({NOT_APPLIED}), so the reports "
            "say nothing about enforce; check the policy with "
            f"`.venv/bin/python -m mtasts verify {shown_domain(domain.domain)}`"
        )
    refused = enforced_failures(domain)  # of `sts_failed`, which also counts the details past a total
    if domain.sts_failed:
        # Refused mail comes first: it is what to act on today, not a reason to wait.
        obstacles.insert(
            0 if refused else len(obstacles),
            f"{_plural(domain.sts_failed, 'session')} failed under an sts policy "
            f"({top(domain.sts_failures)}): {_failed_means(domain.sts_failed, refused)}; "
            "fix the cause, then count again with --since the day after the fix",
        )
    if domain.collisions:
        ids = sorted(domain.collisions)
        shown = ", ".join(visible(report_id, 80) for report_id in ids[:3]) + (", ..." if len(ids) > 3 else "")
        obstacles.append(
            f"{_plural(len(ids), 'report id')} came with different content ({shown}): anyone can mail "
            "the rua address, so one of them may be forged to hide failures; both are counted, and "
            "enforce is not judged safe until the false one is removed from the inputs"
        )
    if obstacles:
        return Verdict(False, tuple(obstacles), refused)
    sessions = sum(seen.successful for seen in sts)
    return Verdict(
        True,
        (
            f"{_plural(applied.span_days, 'day')} of reports "
            f"from {_plural(len(organizations), 'organization')}, "
            f"{_plural(sessions, 'session')} under an sts policy and none failed",
        ),
    )


def _failed_means(failed: int, refused: int) -> str:
    """What failed sessions mean for the mail (RFC 8461 §5.1): under `testing` a sender delivers
    anyway, under `enforce` it does not. Senders that saw enforce already refused the mail, and
    saying "would not" of them would read as if the domain were not in enforce yet."""
    if not refused:
        return "under enforce those senders would not deliver"
    if refused == failed:
        return "the policy they saw was in mode enforce, so those senders did not deliver that mail"
    return (
        f"{refused:,} of them under mode enforce, whose senders did not deliver that mail, "
        "and under enforce the others' senders would not either"
    )


def is_current(seen: PolicySeen, served: Policy) -> bool:
    """Whether senders saw the policy the stack serves now (same mode, mx set and max_age)."""
    if seen.policy_type is not PolicyType.STS or seen.policy is None:
        return False
    return (
        seen.policy.mode is served.mode
        and seen.policy.max_age == served.max_age
        and {mx.lower() for mx in seen.policy.mx} == {mx.lower() for mx in served.mx}
    )


def enforced_failures(domain: DomainSummary) -> int:
    """Failed sessions under a policy the senders report as `mode: enforce`: refused mail.

    Policies past the table's bound share its "other" entry, which keeps their enforce
    failures apart: a report of a thousand made-up policies read first cannot push the real
    one out of this count and `--fail-on enforce` to success."""
    return sum(
        seen.enforce_failed if seen.other else seen.failed
        for seen in domain.policies.values()
        if seen.other or (seen.policy is not None and seen.policy.mode is Mode.ENFORCE)
    )


@dataclass(frozen=True)
class StackAdvice:
    stack: str
    domain: str
    mode: Mode
    lines: tuple[str, ...]  # what to do, or what stands in the way
    command: str | None  # the exact command to run when enforce is safe


def stack_advice(
    stack: str,
    settings: Settings,
    domain: DomainSummary | None,
    verdict: Verdict | None,
    mx_today: MxToday | None = None,
) -> StackAdvice:
    """What the reports mean for the stack's mode: the command to run, or what stands in the way.

    `mx_today`: the live MX hosts probed now; clean reports about a certificate that fails
    today (or expires within days) do not make enforce safe."""
    mode, name = settings.policy.mode, settings.domain

    def advice(*lines: str, command: str | None = None) -> StackAdvice:
        return StackAdvice(stack, name, mode, lines, command)

    today = _mx_today_lines(mx_today)

    if settings.retire:
        return advice(
            f"stack {stack} is retiring its policy (retire: true, RFC 8461 §8.3); enforce does not apply"
        )
    if domain is None or verdict is None:
        if not settings.tls_rpt:
            return advice(
                f"no reports for {name}: stack {stack} sets no tlsRpt, so senders send none; set one with "
                f"`scripts/pulumi config set --path 'tlsRpt[0]' mailto:tls-reports@{name} --stack {stack}`"
            )
        return advice(
            f"no reports for {name} in these inputs; senders mail them to {', '.join(settings.tls_rpt)} "
            "about a day after each day's sessions (RFC 8460 §3): read that mailbox",
            *today,
        )
    if mode is Mode.ENFORCE:
        if verdict.refused:
            also = domain.sts_failed - verdict.refused
            return advice(
                f"stack {stack} is in enforce and {_plural(verdict.refused, 'session')} failed under it "
                f"({top(domain.sts_failures)}): senders applying it did not deliver that mail"
                + (f" ({also:,} more failed under a policy not in enforce)" if also > 0 else ""),
                f"fix the cause (the failures above; `.venv/bin/python -m mtasts verify --stack {stack}`), "
                "or go back to testing:",
                command=f"scripts/pulumi config set mode testing --stack {stack}",
            )
        if domain.sts_failed:
            # Failures only under policies not in enforce: testing, from before the switch or from
            # senders still holding it (or a text the reports left out). These reports show no
            # refused mail, and the reports from the switch on say whether any will be.
            return advice(
                f"stack {stack} is in enforce; {_plural(domain.sts_failed, 'session')} failed under an sts "
                f"policy ({top(domain.sts_failures)}), none under one its senders reported in mode enforce, "
                "so these reports show no refused mail",
                *today,
                "if they came before the switch to enforce, count again from the day after it with --since; "
                f"if they go on, fix the cause (`.venv/bin/python -m mtasts verify --stack {stack}`) before "
                "those senders refresh the policy",
            )
        if domain.collisions:
            return advice(
                f"stack {stack} is in enforce; no session failed under an sts policy in these reports, but "
                f"{_plural(len(domain.collisions), 'report id')} came with different content (listed below): "
                "one may be forged, so find the false one before trusting this",
                *today,
            )
        if not applied_policies(domain):
            # No failure under sts because no sender applied it: the policy is not being seen.
            return advice(
                f"stack {stack} is in enforce, but no sender reported applying an sts policy "
                f"({NOT_APPLIED}), so nothing in these reports is protected by it; check what senders "
                f"see with `.venv/bin/python -m mtasts verify --stack {stack}`",
                *today,
            )
        return advice(
            f"stack {stack} is already in enforce, and no session failed under an sts policy", *today
        )
    if verdict.ready and mx_today is not None and (mx_today.failures or mx_today.warnings):
        return advice(
            f"enforce is not safe for {name} yet: the reports are clean ({verdict.why}), but today:",
            *today,
            f"fix the MX hosts first (`.venv/bin/python -m mtasts verify {name}`), then run this again",
        )
    if verdict.ready:
        return advice(
            f"enforce is safe for {name}: {verdict.why}",
            *today,
            f"switch stack {stack} from {mode.value} to enforce, then deploy it (scripts/deploy {stack}):",
            command=f"scripts/pulumi config set mode enforce --stack {stack}",
        )
    lines = [
        f"stack {stack} stays in {mode.value}; in the way of enforce:",
        *(f"- {r}" for r in verdict.reasons),
        *today,
    ]
    stale = sum(
        seen.failed
        for seen in domain.policies.values()
        if seen.policy_type is PolicyType.STS and not is_current(seen, settings.policy)
    )
    if stale:
        lines.append(
            f"  ({_plural(stale, 'failed session')} under a policy the stack no longer serves: if the change "
            "fixed them, count from the day after it with --since)"
        )
    return advice(*lines)


def _mx_today_lines(mx_today: MxToday | None) -> list[str]:
    """What the live MX hosts show today, as advice lines (none when not probed)."""
    if mx_today is None:
        return []
    if mx_today.unchecked:
        return [f"- the live MX hosts were not checked today: {mx_today.unchecked}"]
    if not (mx_today.failures or mx_today.warnings or mx_today.not_checked):
        if not mx_today.passed:  # nothing was probed: no host is not a host that passes
            return ["- the live MX hosts were not checked today: no MX address was found to check"]
        return ["- the live MX hosts pass today (STARTTLS with a valid certificate on every address)"]
    lines = [
        f"- a live MX host fails today as a sender checks it: {failure}" for failure in mx_today.failures
    ]
    lines += [f"- {warning}" for warning in mx_today.warnings]
    lines += [f"- a live MX host could not be checked today: {host}" for host in mx_today.not_checked]
    if mx_today.passed:
        # Said only for what was seen: an address not reached today is not one that passes.
        addresses = "address passes" if mx_today.passed == 1 else "addresses pass"
        lines.append(f"- {mx_today.passed:,} other MX {addresses} today (STARTTLS with a valid certificate)")
    return lines
