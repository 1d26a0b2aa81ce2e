"""The `_mta-sts` and `_smtp._tls` records: the id of the published policy, one of each, reports on."""

from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import ReportViolation, StackValidationArgs

from mtasts.constants import discovery_name, tls_rpt_name
from mtasts.policy import policy_id
from mtasts.records import txt_kind
from mtasts.rules import discovery, tlsrpt
from policy.view import Record, StackView, known, stack_view


def txt_of_kind(records: Iterable[Record], kind: str) -> list[Record]:
    """TXT records of a kind (`mtasts.records.txt_kind`), or that might be (unknown during preview)."""
    return [
        r
        for r in records
        if r.type == "TXT" and (not known(r.text) or (isinstance(r.text, str) and txt_kind(r.text) == kind))
    ]


def _sts_records(view: StackView, domain: str) -> list[Record]:
    """TXT records at `_mta-sts.<domain>` a sender counts (`mtasts.rules.discovery.counts`)."""
    return txt_of_kind(view.records_at(discovery_name(domain)), "sts")


def _tls_rpt_records(view: StackView, domain: str) -> list[Record]:
    """TXT records at `_smtp._tls.<domain>` a sender counts (`mtasts.rules.tlsrpt.counts`)."""
    return txt_of_kind(view.records_at(tls_rpt_name(domain)), "tls-rpt")


def validate_discovery_id(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for domain in sorted(view.domains):
        name = discovery_name(domain)
        for record in _sts_records(view, domain):
            if not isinstance(record.text, str):
                continue
            parsed = discovery.parse(record.text, name)
            # What the stack publishes must read the same to every sender: a warning is a violation.
            problems = list(parsed.findings)
            if parsed.id is None or problems:
                report(
                    f"{name} holds {record.text!r}, which senders cannot read: "
                    f"{'; '.join(f.seen for f in problems)} ({discovery.RFC}). Let the stack write it: its "
                    "content is `v=STSv1; id=<id of the policy file>`.",
                    record.urn,
                )
                continue
            for published in view.policies_for(domain):
                expected = policy_id(published.text)
                if parsed.id != expected:
                    report(
                        f"{name} announces id {parsed.id}, but {published.source} has id "
                        f"{expected}. Senders that cached the old policy under this id never fetch the new "
                        "one (RFC 8461 §3.1). Publish the id the stack computes from the policy text "
                        "(`python -m mtasts render` shows it); never set the id by hand.",
                        record.urn,
                    )


def validate_one_record_each(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for domain in sorted(view.domains):
        sts = _sts_records(view, domain)
        sts_known = [record for record in sts if known(record.text)]
        if len(sts_known) > 1:
            finding = discovery.multiple_records(discovery_name(domain), len(sts_known))
            for record in sts_known[1:]:
                report(
                    f"{finding.text()}. Remove every one but the record the stack manages "
                    "(mta-sts-discovery-sts).",
                    record.urn,
                )
        elif not sts and not view.unknown_names():
            finding = discovery.missing(discovery_name(domain))
            report(
                f"the stack publishes a policy for {domain} but {finding.text()}. Keep the stack's "
                "DiscoveryRecords component.",
                None,
            )
        tls = [record for record in _tls_rpt_records(view, domain) if known(record.text)]
        if len(tls) > 1:
            finding = tlsrpt.multiple_records(tls_rpt_name(domain), len(tls))
            for record in tls[1:]:
                report(
                    f"{finding.text()}. Keep one record and list every address in the stack's `tlsRpt`.",
                    record.urn,
                )


def validate_tls_rpt_present(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for domain in sorted(view.domains):
        name = tls_rpt_name(domain)
        tls = _tls_rpt_records(view, domain)
        if view.unknown_names() or any(not known(r.text) for r in tls):
            continue
        for record in tls:
            problems = list(tlsrpt.parse(record.text, name).findings)
            if problems:
                report(
                    f"{name} holds {record.text!r}, which senders ignore: "
                    f"{'; '.join(f.seen for f in problems)} ({tlsrpt.RFC}). Set the report addresses in the "
                    "stack's `tlsRpt` and let the stack write the record.",
                    record.urn,
                )
        if not tls:
            finding = tlsrpt.missing(name, domain)
            report(
                f"{finding.text()}, and you cannot know whether enforce would refuse mail. Run "
                f"`scripts/pulumi config set --path 'tlsRpt[0]' mailto:tls-reports@{domain}`.",
                None,
            )
