"""The summary as text for people and as one JSON document for programs.

Both show the same decisions (`verdict`); nothing is judged here. The JSON shape:
`domains` keyed by policy domain (`reports`, `successful`, `failed`, `failures`,
`organizations`, `first`, `last`, `enforce_ready`, `why`, `enforce_refused` (failed sessions
under a policy the senders saw in mode enforce: mail they did not deliver), and the breakdowns
`failures_by_mx`, `failures_by_sending_ip`, `policies`, `collisions`: report ids sent with
different content, `tlsa_same_as_sts`: organization → reports that gave the same sessions
under both), `rejected` (`path`, `message_id`, `reason`), `skipped` (`path`, `reason`: a
policies entry left out of a report that counts), `collisions` (`report_id`, `paths`,
`organizations`, `domains`), `ignored` (domain → reports not summarised: not the stack's
domain), `unlisted` (rejected inputs and skipped entries past the listed ones),
`duplicates`, `left_out`, and `stack` when a stack was compared.

Text from reports is shown through `mtasts.visible` (escaped, bounded) on the terminal; the
JSON is plain JSON, whose encoder escapes every control and non-ASCII character.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TextIO

from mtasts.policy import Policy
from mtasts.reports.summary import DomainSummary, PolicySeen, Summary
from mtasts.reports.verdict import StackAdvice, Verdict, is_current, shown_domain, top
from mtasts.visible import visible


def _ranked(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _current(seen: PolicySeen, served: Policy | None) -> bool | None:
    return None if served is None else is_current(seen, served)


def json_document(
    summary: Summary,
    verdicts: Mapping[str, Verdict],
    advice: StackAdvice | None = None,
    served: Policy | None = None,
) -> dict[str, Any]:
    domains = {}
    for name, domain in sorted(summary.domains.items()):
        verdict = verdicts[name]
        stack_served = served if advice is not None and advice.domain == name else None
        domains[name] = {
            "reports": domain.reports,
            "successful": domain.successful,
            "failed": domain.failed,
            "failures": _ranked(domain.failures),
            "organizations": sorted(domain.organizations.values()),
            "first": domain.first.isoformat() if domain.first else None,
            "last": domain.last.isoformat() if domain.last else None,
            "enforce_ready": verdict.ready,
            "why": verdict.why,
            "enforce_reasons": list(verdict.reasons),  # `why`, one entry per reason
            "enforce_refused": verdict.refused,
            "failures_by_mx": _ranked(domain.by_mx),
            "failures_by_sending_ip": _ranked(domain.by_ip),
            "policies": [
                {
                    "type": seen.policy_type.value,
                    "policy": seen.describe(),
                    "reports": seen.reports,
                    "successful": seen.successful,
                    "failed": seen.failed,
                    "current": _current(seen, stack_served),
                }
                for seen in domain.policies.values()
            ],
            "collisions": sorted(domain.collisions),
            "tlsa_same_as_sts": dict(domain.overlaps),
        }
    document: dict[str, Any] = {
        "domains": domains,
        "rejected": [
            {"path": item.origin, "message_id": item.message_id, "reason": item.reason}
            for item in summary.rejected
        ],
        "skipped": [{"path": item.origin, "reason": item.reason} for item in summary.skipped],
        "collisions": [
            {
                "report_id": collision.report_id,
                "paths": collision.origins,
                "organizations": collision.organizations,
                "domains": sorted(collision.domains),
            }
            for collision in summary.collisions.values()
        ],
        "ignored": _ranked(summary.ignored),
        "unlisted": {"rejected": summary.rejected_unlisted, "skipped": summary.skipped_unlisted},
        "duplicates": summary.duplicates,
        "left_out": summary.left_out,
    }
    if advice is not None:
        document["stack"] = {
            "name": advice.stack,
            "domain": advice.domain,
            "mode": advice.mode.value,
            "advice": list(advice.lines),
            "command": advice.command,
        }
    return document


def write_json(out: TextIO, document: dict[str, Any]) -> None:
    json.dump(document, out, indent=2)
    out.write("\n")


def write_text(
    out: TextIO,
    summary: Summary,
    verdicts: Mapping[str, Verdict],
    advice: StackAdvice | None = None,
    served: Policy | None = None,
) -> None:
    extra = []
    if summary.duplicates:
        extra.append(f"{summary.duplicates:,} duplicate(s) counted once")
    if summary.left_out:
        extra.append(f"{summary.left_out:,} ending before {summary.since} left out")
    out.write(
        f"{summary.reports:,} report(s) about {len(summary.domains)} domain(s)"
        + (f" ({'; '.join(extra)})" if extra else "")
        + "\n"
    )
    for name, domain in sorted(summary.domains.items()):
        stack_served = served if advice is not None and advice.domain == name else None
        _write_domain(out, domain, verdicts[name], stack_served)
    if advice is not None:
        out.write(f"\nstack {advice.stack} ({advice.domain}, mode {advice.mode.value}):\n")
        out.writelines(f"  {line}\n" for line in advice.lines)
        if advice.command:
            out.write(f"\n    {advice.command}\n\n")
    _write_lists(out, summary)


def _write_lists(out: TextIO, summary: Summary) -> None:
    """What was not counted, or counted with a warning: ignored domains, collisions, rejections."""
    if summary.ignored:
        why = (
            f"not {summary.only}, the stack's domain"
            if summary.only
            else "past the first domains summarised; name yours with --stack NAME to count it"
        )
        out.write(f"\nignored ({why}), not counted: {top(summary.ignored, 10, shown_domain)} report(s)\n")
    if summary.collisions:
        out.write(
            f"\nreport ids sent with different content ({len(summary.collisions)}; each version counted, "
            "and enforce not judged safe for their domains):\n"
        )
        for collision in summary.collisions.values():
            domains = ", ".join(shown_domain(name) for name in sorted(collision.domains))
            places = "; ".join(map(_where, collision.origins, collision.organizations))
            out.write(f"  {visible(collision.report_id)} about {domains}: {places}\n")
    if summary.skipped:
        more = f", {summary.skipped_unlisted:,} more not listed" if summary.skipped_unlisted else ""
        out.write(
            f"\npolicies entries skipped ({len(summary.skipped)}{more}), the rest of each report counted:\n"
        )
        for skipped in summary.skipped:
            out.write(f"  {visible(skipped.origin)}: {visible(skipped.reason, 1000)}\n")
    if summary.rejected:
        more = f", {summary.rejected_unlisted:,} more not listed" if summary.rejected_unlisted else ""
        out.write(f"\nrejected ({len(summary.rejected)}{more}), not counted:\n")
        for item in summary.rejected:
            identity = f" (Message-ID {visible(item.message_id)})" if item.message_id else ""
            out.write(f"  {visible(item.origin)}{identity}: {visible(item.reason, 1000)}\n")


def _where(origin: str, organization: str) -> str:
    return f"{visible(origin)} (from {visible(organization)})"


def _write_domain(out: TextIO, domain: DomainSummary, verdict: Verdict, served: Policy | None) -> None:
    organizations = sorted(domain.organizations.values())
    out.write(
        f"\n{shown_domain(domain.domain)}: {domain.reports:,} report(s) "
        f"from {len(organizations)} organization(s) "
        f"({', '.join(visible(name) for name in organizations)}), {domain.first} to {domain.last}\n"
    )
    out.write(f"  sessions: {domain.successful:,} successful, {domain.failed:,} failed\n")
    if domain.failed:
        out.write(f"  failures by result type: {top(domain.failures, 10)}\n")
        out.write(f"  failures by receiving MX host: {top(domain.by_mx, 10)}\n")
        out.write(f"  failures by sending IP: {top(domain.by_ip, 10)}\n")
    if domain.overlaps:
        out.write(
            f"  same sessions under tlsa and sts in one report: {top(domain.overlaps, 10)} report(s); "
            "counted once, under sts (the policy whose mode is judged)\n"
        )
    out.write("  policies senders saw:\n")
    for seen in domain.policies.values():
        flag = ""
        if served is not None and not is_current(seen, served):
            flag = "  <- not the policy the stack serves now"
        out.write(
            f"    {visible(seen.describe(), 1000)}: {seen.reports:,} report(s), "
            f"{seen.successful:,} successful, "
            f"{seen.failed:,} failed{flag}\n"
        )
    # The first reason on the verdict's line, each other on its own: joined, three reasons with
    # their own semicolons read as one sentence.
    first, *others = verdict.reasons
    out.write(f"  enforce: {verdict.state}: {first}\n")
    for reason in others:
        out.write(f"    also: {reason}\n")
