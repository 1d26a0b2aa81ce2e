"""Where mail goes: every MX host covered by the policy, and a policy host that takes no mail."""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from mtasts import constants
from mtasts.constants import POLICY_HOST_LABEL
from mtasts.names import normalize
from mtasts.rules import mx_coverage, mx_tls, policy_host
from mtasts.rules.findings import Severity
from policy.validators.discovery import txt_of_kind
from policy.validators.policy_file import MX_INPUT, parsed
from policy.view import DNS_RECORD, UNKNOWN, StackView, known, record_of, stack_view


def validate_mx_covered(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for domain in sorted(view.domains):
        mx_records = [r for r in view.records_at(domain) if r.type == "MX" and isinstance(r.content, str)]
        for published in view.policies_for(domain):
            policy = parsed(published.text)
            if policy is None or policy.mode is None:
                continue
            for record in mx_records:
                host = normalize(record.content)
                for finding in mx_coverage.judge(policy.mode.value, policy.mx, [host], domain=domain):
                    if finding.severity is Severity.INFO:
                        continue
                    report(
                        f"{finding.seen}; the patterns are those of {published.source} ({mx_coverage.RFC}). "
                        f"Add the host to {MX_INPUT} first, deploy, wait for senders to refetch "
                        "(max_age), and only then add the MX record (RFC 8461 §8).",
                        record.urn,
                    )


def _live_gaps(view: StackView, domain: str, severity: Severity) -> list[tuple[str, str]]:
    """(urn, message) per live apex MX host the published policy leaves uncovered, at `severity`."""
    urn, hosts = view.live_mx.get(domain, ("", []))
    gaps = []
    for published in view.policies_for(domain):
        policy = parsed(published.text)
        if policy is None or policy.mode is None:
            continue
        for finding in mx_coverage.judge(policy.mode.value, policy.mx, hosts, domain=domain):
            if finding.severity is severity:
                gaps.append(
                    (
                        urn,
                        f"the zone's {finding.seen} ({mx_coverage.RFC}); the patterns are those of "
                        f"{published.source}. Add the host to {MX_INPUT}, or remove the MX record.",
                    )
                )
    return gaps


LiveFindings = Callable[[StackView, str, Severity], list[tuple[str, str]]]


def _per_domain(findings: LiveFindings, severity: Severity, doc: str) -> Callable[..., None]:
    """A stack validator reporting, for every domain in the stack, `findings` that weigh `severity`."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        view = stack_view(args.resources)
        for domain in sorted(view.domains):
            for urn, message in findings(view, domain, severity):
                report(message, urn or None)

    validate.__doc__ = doc
    return validate


validate_live_mx_covered = _per_domain(
    _live_gaps,
    Severity.FAIL,
    "Under enforce, a live MX host outside the policy has its mail refused (mandatory).",
)
validate_live_mx_covered_in_testing = _per_domain(
    _live_gaps, Severity.WARN, "Under testing, the same gap is reported by senders, not enforced (advisory)."
)


def _live_tls(view: StackView, domain: str, severity: Severity) -> list[tuple[str, str]]:
    """(urn, message) per live MX address whose TLS, as the program probed it, weighs `severity`."""
    urn, seen = view.live_mx_tls.get(domain, ("", []))
    found = []
    for published in view.policies_for(domain):
        policy = parsed(published.text)
        if policy is None or policy.mode is None:
            continue
        covered = [entry for entry in seen if not entry.host or mx_coverage.covers(policy.mx, entry.host)]
        for finding in mx_tls.judge(policy.mode.value, covered, domain=domain):
            if finding.severity is severity:
                found.append(
                    (urn, f"{finding.text()}; the mode is that of {published.source}. {finding.fix}")
                )
    return list(dict.fromkeys(found))


validate_live_mx_tls = _per_domain(
    _live_tls,
    Severity.FAIL,
    "Under enforce, a live MX host failing STARTTLS or its certificate has its mail refused (mandatory).",
)
validate_live_mx_tls_in_testing = _per_domain(
    _live_tls,
    Severity.WARN,
    "Under testing the same failure is reported by senders; what could not be checked is said (advisory).",
)


def validate_policy_host_refuses_mail(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for domain in sorted(view.domains):
        host = constants.policy_host(domain)
        records = view.records_at(host)
        if view.unknown_names() or any(not known(r.type, r.content) for r in records):
            continue
        mx = [r for r in records if r.type == "MX"]
        pairs = [(None if r.priority is UNKNOWN else r.priority, r.content) for r in mx]
        for finding in policy_host.null_mx(host, pairs):
            urn = next((r.urn for r in mx if finding.subject and r.content == finding.subject), None)
            keep = " Keep the stack's PolicyHostRecords component." if urn is None else " Remove this record."
            report(f"{finding.text()}; {finding.fix}.{keep}", urn)
        spf = txt_of_kind(records, "spf")
        for finding in policy_host.spf(host, [r.text for r in spf]):
            urn = next((r.urn for r in spf if finding.subject and r.text == finding.subject), None)
            keep = " Keep the stack's PolicyHostRecords component." if urn is None else " Remove this record."
            report(f"{finding.text()}; {finding.fix}.{keep}", urn)


def validate_policy_host_dns_only(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DNS_RECORD:
        return
    record = record_of(args.urn, args.props)
    name = record.name
    if not isinstance(name, str) or name.split(".")[0] != POLICY_HOST_LABEL:
        return
    if record.proxied is True:
        report(
            f"{record.type} record {name} is proxied through Cloudflare. Netlify and GitHub Pages can only "
            "obtain the policy host's certificate for DNS-only records. Set "
            "`proxied=False` on it.",
            None,
        )
    if record.type == "CNAME":
        for finding in policy_host.cname(name, [str(record.content)]):
            report(
                f"{finding.text()}. Use A records to the host's addresses, as the stack's "
                "PolicyHostRecords do.",
                None,
            )
