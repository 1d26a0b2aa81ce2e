"""Folding reports into the summary when some lie: report-id collisions, another domain's
reports, the same sessions under tlsa and sts, and tables that would grow without end."""

from __future__ import annotations

import dataclasses
import gzip
import json
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mtasts.reports.cli import exit_status
from mtasts.reports.model import PolicyType, parse_report
from mtasts.reports.sources import Found, Rejected, read_paths
from mtasts.reports.summary import (
    MAX_DOMAINS,
    MAX_KEYS,
    MAX_LISTED,
    OTHER,
    OTHER_LINES,
    content_digest,
    summarise,
)
from mtasts.reports.verdict import Thresholds, enforce_verdict, enforced_failures
from tests.twin.reportmail import days_ago, gz, make_report

START = days_ago(10)  # read by the clock: parse_report refuses reports years old
EASY = Thresholds(min_days=1, min_reporters=1)


def found(document: dict[str, Any], origin: str = "x") -> Found:
    return Found(parse_report(gz(document)), origin)


def test_a_forged_report_reusing_a_real_id_hides_nothing_and_blocks_enforce() -> None:
    real = make_report(
        START, failures={"certificate-expired": 40}, report_id=f"{START}T00:00:00Z_example.com"
    )
    forged = make_report(START, successful=5000, report_id=f"{START}T00:00:00Z_example.com")
    for first, second in ((forged, real), (real, forged)):
        summary = summarise([found(first, "one.eml"), found(second, "two.eml")])
        domain = summary.domains["example.com"]
        assert domain.failed == 40 and summary.duplicates == 0 and summary.reports == 2
        [collision] = summary.collisions.values()
        assert collision.origins == ["one.eml", "two.eml"] and collision.domains == {"example.com"}
        verdict = enforce_verdict(domain, EASY)
        assert not verdict.ready and "1 report id came with different content" in verdict.why


def test_a_collision_alone_never_makes_enforce_safe() -> None:
    days = [make_report(START + timedelta(days=n), report_id=f"id-{n}") for n in range(3)]
    clean = summarise(found(day) for day in days)
    assert enforce_verdict(clean.domains["example.com"], EASY).ready
    other = make_report(START, successful=7, report_id="id-0")
    summary = summarise([*(found(day) for day in days), found(other)])
    assert not enforce_verdict(summary.domains["example.com"], EASY).ready


def test_the_same_report_twice_is_a_duplicate_not_a_collision_even_after_one() -> None:
    real, forged = make_report(START, report_id="r"), make_report(START, successful=1, report_id="r")
    summary = summarise([found(real), found(real, "copy"), found(forged), found(forged, "again")])
    assert summary.duplicates == 2 and summary.reports == 2
    assert summary.collisions["r"].origins == ["x", "x"]


def test_with_only_a_domain_the_others_are_ignored_and_counted() -> None:
    items = [
        found(make_report(START, domain="example.com", report_id="a")),
        found(
            make_report(START, domain="victim.example", failures={"certificate-expired": 9}, report_id="b")
        ),
        found(make_report(START, domain="victim.example", report_id="c")),
    ]
    summary = summarise(items, only="example.com")
    assert list(summary.domains) == ["example.com"] and summary.failed == 0
    assert summary.ignored == {"victim.example": 2}


def sts_and_tlsa(successful: int, tlsa_successful: int) -> dict[str, Any]:
    document = make_report(START, successful=successful, failures={"certificate-expired": 2})
    tlsa = json.loads(json.dumps(document["policies"][0]))
    tlsa["policy"]["policy-type"] = "tlsa"
    tlsa["policy"]["policy-string"] = ["3 1 1 AB"]
    tlsa["summary"]["total-successful-session-count"] = tlsa_successful
    document["policies"].append(tlsa)
    return document


def test_the_same_sessions_under_tlsa_and_sts_count_once_and_are_said() -> None:
    summary = summarise([found(sts_and_tlsa(100, 100))])
    domain = summary.domains["example.com"]
    assert (domain.successful, domain.failed, domain.sts_failed) == (100, 2, 2)
    assert domain.overlaps == {"Google Inc.": 1}
    assert {seen.policy_type.value for seen in domain.policies.values()} == {"sts", "tlsa"}


def test_different_sessions_under_tlsa_and_sts_both_count() -> None:
    domain = summarise([found(sts_and_tlsa(100, 30))]).domains["example.com"]
    assert (domain.successful, domain.failed) == (130, 4) and not domain.overlaps


def test_the_organizations_giving_tlsa_same_as_sts_are_a_bounded_table() -> None:
    # Keyed by organization, which each report names as it likes: a table per domain that grew
    # with the reports, and went whole into --json.
    reports = []
    for number in range(MAX_KEYS + 5):
        document = sts_and_tlsa(100, 100)
        document["organization-name"], document["report-id"] = f"org{number}", f"id{number}"
        reports.append(found(document))
    domain = summarise(reports).domains["example.com"]
    assert len(domain.overlaps) == MAX_KEYS + 1 and domain.overlaps[OTHER] == 5
    assert sum(domain.overlaps.values()) == MAX_KEYS + 5


def test_a_report_repeating_a_policy_counts_as_one_report_that_saw_it() -> None:
    # Each entry counted as a report: one report sending the real policy 1,000 times listed
    # it as seen by 1,001 reports, beside a domain total of 2.
    real = make_report(START, report_id="real")
    repeated = make_report(START, report_id="repeated", organization="Anyone")
    repeated["policies"] *= 1000
    summary = summarise([found(real), found(repeated), found(sts_and_tlsa(100, 100))])
    domain = summary.domains["example.com"]
    assert domain.reports == 3
    reports = {seen.policy_type.value: seen.reports for seen in domain.policies.values()}
    assert reports == {"sts": 3, "tlsa": 1}


def test_distinct_values_past_the_table_bound_go_to_other() -> None:
    document = make_report(START, failures={"certificate-expired": 1})
    details = [
        {"result-type": f"r{n}", "receiving-mx-hostname": f"mx{n}.example", "failed-session-count": 1}
        for n in range(MAX_KEYS + 5)
    ]
    document["policies"][0]["failure-details"] = details
    document["policies"][0]["summary"]["total-failure-session-count"] = len(details)
    domain = summarise([found(document)]).domains["example.com"]
    assert len(domain.failures) == MAX_KEYS + 1 and domain.failures[OTHER] == 5
    assert sum(domain.by_mx.values()) == len(details)


def many_policies(count: int, report_id: str) -> bytes:
    document = make_report(START, report_id=report_id)
    entry = document["policies"][0]
    document["policies"] = [
        {**entry, "policy": {**entry["policy"], "policy-domain": f"d{n}.example"}} for n in range(count)
    ]
    return gzip.compress(json.dumps(document, separators=(",", ":")).encode())


def test_reports_with_a_hundred_thousand_policies_take_little_time_and_memory(tmp_path: Path) -> None:
    data = many_policies(100_000, "big")
    assert len(data) < 2_000_000  # small on the wire
    for number in range(8):
        (tmp_path / f"big{number}.json.gz").write_bytes(data)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        summary = summarise(read_paths([str(tmp_path)]))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 5
    assert peak < 64 * 2**20, peak
    assert len(summary.rejected) == 8 and not summary.domains
    assert "inflates past" in summary.rejected[0].reason or "entries" in summary.rejected[0].reason


def test_the_domains_summarised_are_bounded(tmp_path: Path) -> None:
    items = [Found(parse_report(many_policies(500, f"r{n}")), "x") for n in range(3)]
    for number, item in enumerate(items):
        policies = tuple(
            type(policy)(**{**policy.__dict__, "policy_domain": f"r{number}-{policy.policy_domain}"})
            for policy in item.report.policies
        )
        items[number] = Found(type(item.report)(**{**item.report.__dict__, "policies": policies}), "x")
    summary = summarise(items)
    assert len(summary.domains) == MAX_DOMAINS
    assert sum(summary.ignored.values()) == 1500 - MAX_DOMAINS


reports_strategy = st.lists(
    st.builds(
        lambda day, successful, failed, report_id, domain: make_report(
            START + timedelta(days=day),
            successful=successful,
            failures={"certificate-expired": failed} if failed else None,
            report_id=report_id,
            domain=domain,
        ),
        st.integers(0, 3),
        st.integers(0, 50),
        st.integers(0, 5),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from(["example.com", "example.org"]),
    ),
    max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(documents=reports_strategy, order=st.randoms(use_true_random=False))
def test_the_order_reports_arrive_in_never_changes_what_is_counted(
    documents: list[dict[str, Any]], order: Any
) -> None:
    items = [found(document) for document in documents]
    shuffled = list(items)
    order.shuffle(shuffled)
    first, second = summarise(items), summarise(shuffled)
    assert first.reports == second.reports and first.duplicates == second.duplicates
    assert set(first.collisions) == set(second.collisions)
    for name, domain in first.domains.items():
        other = second.domains[name]
        assert (domain.successful, domain.failed, domain.collisions) == (
            other.successful,
            other.failed,
            other.collisions,
        )


@settings(max_examples=100, deadline=None)
@given(documents=reports_strategy)
def test_a_domain_with_a_collision_is_never_ready(documents: list[dict[str, Any]]) -> None:
    summary = summarise(found(document) for document in documents)
    for domain in summary.domains.values():
        if domain.collisions:
            assert not enforce_verdict(domain, EASY).ready
    distinct = {json.dumps(document, sort_keys=True) for document in documents}
    assert summary.reports == len(distinct) and summary.duplicates == len(documents) - len(distinct)


def test_rejected_inputs_past_the_listed_ones_are_counted_not_kept() -> None:
    items = [Rejected(f"junk{n}.eml", "not a TLS report " + "x" * 10_000) for n in range(MAX_LISTED + 50)]
    items.append(Rejected("/missing", "no such file or directory", whole_source=True))
    summary = summarise(items)
    assert len(summary.rejected) == MAX_LISTED + 1 and summary.rejected_unlisted == 50
    assert summary.rejected[-1].origin == "/missing"  # a whole source is always named
    assert all(len(item.reason) < 5_000 for item in summary.rejected)


def changed(value: Any) -> Any:
    if isinstance(value, PolicyType):
        return PolicyType.TLSA if value is not PolicyType.TLSA else PolicyType.STS
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    if isinstance(value, tuple):
        return (*value, value[0]) if value else ("x",)
    raise AssertionError(f"no change for {value!r}")


def test_the_content_digest_changes_with_every_field_of_a_report() -> None:
    document = make_report(START, failures={"certificate-expired": 2})
    report = parse_report(gz(document))
    assert content_digest(report) == content_digest(parse_report(json.dumps(document, indent=2).encode()))

    def variants(value: Any) -> list[Any]:
        return [
            dataclasses.replace(value, **{item.name: changed(getattr(value, item.name))})
            for item in dataclasses.fields(value)
        ]

    policy = report.policies[0]
    detail = policy.failure_details[0]
    reports = [
        *variants(report),
        *(dataclasses.replace(report, policies=(other,)) for other in variants(policy)),
        *(
            dataclasses.replace(report, policies=(dataclasses.replace(policy, failure_details=(other,)),))
            for other in variants(detail)
        ),
    ]
    assert len({content_digest(report), *map(content_digest, reports)}) == 1 + len(reports)


def test_what_is_kept_per_report_id_is_its_digest_and_origin_the_rest_is_shared() -> None:
    """De-duplication keeps a row per report id (RFC 8460 §4.4); the organization and domains in
    it are one copy for every report that names them, so memory grows by little more than the
    id, where it was read and the digest."""
    count = 3_000

    def reports() -> Any:
        for number in range(count):
            report = make_report(days_ago(1 + number % 300), report_id=f"bench-{number:06d}")
            yield found(report, f"reports/{number:06d}.json")

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        summary = summarise(reports())
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert summary.reports == count
    rows = list(summary._seen.values())
    assert all(row[2] is rows[0][2] and row[3] is rows[0][3] for row in rows)
    # About 370 bytes here, where a copy of the organization and the domains per report made
    # it 450: the id, its origin, the digest and the row, with the per-day counters around them.
    assert kept / count < 420, f"{kept / count:.0f} bytes per report id"


def test_a_sender_naming_a_new_organization_in_each_report_fills_no_table_past_its_bound(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr("mtasts.reports.summary.MAX_SHARED", 5)
    day = days_ago(1)
    reports = [
        dataclasses.replace(parse_report(gz(make_report(day, report_id=f"id-{n}"))), organization=f"Org {n}")
        for n in range(12)
    ]
    summary = summarise(Found(report, f"{n}.json") for n, report in enumerate(reports))
    assert summary.reports == 12 and len(summary._shared) == 5
    assert [row[2] for row in summary._seen.values()] == [f"Org {n}" for n in range(12)]


def test_a_flood_of_other_domains_that_crowds_out_a_failing_one_fails_the_run() -> None:
    # Without --stack, 1,000 clean made-up domains read first leave the real one, with its
    # failures, past MAX_DOMAINS: it is listed as ignored, so the run must not say all is well.
    flood = found(json.loads(gzip.decompress(many_policies(MAX_DOMAINS, "flood"))))
    real = found(make_report(START, failures={"certificate-expired": 40}, report_id="real"))
    summary = summarise([flood, real])
    assert "example.com" not in summary.domains and summary.ignored == {"example.com": 1}
    for fail_on in ("any", "enforce"):
        assert exit_status(summary, fail_on, None) == 1, fail_on


def test_a_copy_of_a_colliding_report_past_the_listed_collisions_is_still_a_duplicate() -> None:
    # Past MAX_LISTED collisions, the versions of an unlisted id were forgotten, so a copy of
    # one (the same mail in a Maildir and on the server) was counted a second time.
    items = []
    for number in range(MAX_LISTED + 1):
        items.append(found(make_report(START, report_id=f"id{number}"), "a"))
        items.append(found(make_report(START, successful=7, report_id=f"id{number}"), "b"))
    items.append(found(make_report(START, successful=7, report_id=f"id{MAX_LISTED}"), "copy"))
    summary = summarise(items)
    assert len(summary.collisions) == MAX_LISTED
    assert summary.reports == 2 * (MAX_LISTED + 1) and summary.duplicates == 1


def test_days_and_senders_without_the_sts_policy_do_not_make_enforce_safe() -> None:
    # Two weeks of `no-policy-found` from one sender (the policy was not published yet), then
    # one day of another sender applying it: the reports span 14 days from two organizations,
    # yet only one sender's one day says anything about enforce (RFC 8460 §4.3).
    first = days_ago(20)
    before = [
        make_report(
            first + timedelta(days=n), policy_type="no-policy-found", style="microsoft", report_id=f"b{n}"
        )
        for n in range(14)
    ]
    after = make_report(first + timedelta(days=14), report_id="a")
    domain = summarise(found(report) for report in [*before, after]).domains["example.com"]
    assert domain.span_days >= 14 and len(domain.organizations) == 2
    verdict = enforce_verdict(domain)
    assert not verdict.ready
    assert "the reports under an sts policy span 1 day" in verdict.why
    assert "1 organization reported applying the sts policy (Google Inc.)" in verdict.why

    # The same sender applying the policy for two weeks beside the other makes it safe.
    applied = [make_report(first + timedelta(days=n), report_id=f"s{n}") for n in range(14)]
    other = make_report(first + timedelta(days=13), style="microsoft", report_id="m")
    ready = summarise(found(report) for report in [*before, *applied, other]).domains["example.com"]
    assert enforce_verdict(ready).ready, enforce_verdict(ready).why


ENFORCE = ("version: STSv1", "mode: enforce", "mx: mail.protonmail.ch", "max_age: 604800")


def test_failures_under_testing_say_what_enforce_would_do() -> None:
    report = make_report(START, failures={"certificate-expired": 3})
    verdict = enforce_verdict(summarise([found(report)]).domains["example.com"], EASY)
    assert (verdict.ready, verdict.refused, verdict.state) == (False, 0, "not yet")
    assert verdict.reasons == (
        "3 sessions failed under an sts policy (certificate-expired 3): under enforce those senders "
        "would not deliver; fix the cause, then count again with --since the day after the fix",
    )


def test_failures_under_enforce_are_refused_mail_and_said_first() -> None:
    # A domain already in enforce: its senders did not deliver that mail (RFC 8461 §5.1), which is
    # not something to wait out, and "would not deliver" read as if it were not in enforce yet.
    report = make_report(START, failures={"certificate-expired": 4}, policy=ENFORCE)
    verdict = enforce_verdict(summarise([found(report)]).domains["example.com"])
    assert (verdict.ready, verdict.refused, verdict.state) == (False, 4, "not safe")
    assert verdict.reasons[0] == (
        "4 sessions failed under an sts policy (certificate-expired 4): the policy they saw was in mode "
        "enforce, so those senders did not deliver that mail; fix the cause, then count again with "
        "--since the day after the fix"
    )
    assert "--min-days" in verdict.reasons[1] and "would not" not in verdict.why


def test_failures_under_both_modes_are_told_apart() -> None:
    reports = [
        make_report(START, failures={"certificate-expired": 2}, report_id="testing"),
        make_report(START + timedelta(days=1), failures={"starttls-not-supported": 5}, policy=ENFORCE),
    ]
    verdict = enforce_verdict(summarise(found(report) for report in reports).domains["example.com"], EASY)
    assert (verdict.refused, verdict.state) == (5, "not safe")
    assert verdict.reasons == (
        "7 sessions failed under an sts policy (starttls-not-supported 5, certificate-expired 2): 5 of them "
        "under mode enforce, whose senders did not deliver that mail, and under enforce the others' "
        "senders would not either; fix the cause, then count again with --since the day after the fix",
    )


def test_reports_under_mode_none_add_no_days_and_no_senders_toward_enforce() -> None:
    # Mode none: senders treat the domain as having no policy (RFC 8461 §5) and validate
    # nothing, so two weeks of their clean sessions say nothing about enforce.
    none = ("version: STSv1", "mode: none", "max_age: 86400")
    first = days_ago(20)
    before = [
        make_report(first + timedelta(days=n), style=style, policy=none, report_id=f"{style}{n}")
        for n in range(14)
        for style in ("google", "microsoft")
    ]
    after = make_report(first + timedelta(days=14), report_id="testing")
    domain = summarise(found(report) for report in [*before, after]).domains["example.com"]
    verdict = enforce_verdict(domain)
    assert not verdict.ready
    assert "the reports under an sts policy span 1 day" in verdict.why
    assert "1 organization reported applying the sts policy (Google Inc.)" in verdict.why
    only_none = enforce_verdict(summarise(found(report) for report in before).domains["example.com"])
    assert not only_none.ready
    assert only_none.reasons == (
        "no sender reported applying an sts policy (only tlsa, no-policy-found or mode none), so the "
        "reports say nothing about enforce; check the policy with `.venv/bin/python -m mtasts verify "
        "example.com`",
    )


def test_a_flood_of_made_up_policies_never_hides_refused_mail_from_fail_on_enforce() -> None:
    # 1,000 distinct sts policies in one report fill the policy table; the real enforce
    # policy, read after, lands in "(other)" with no parsed policy, yet its failures count.
    flood = make_report(START, report_id="flood", organization="Anyone")
    entry = flood["policies"][0]
    flood["policies"] = [
        {
            **entry,
            "policy": {**entry["policy"], "policy-string": ["version: STSv1", "mode: testing", f"mx: mx{n}"]},
        }
        for n in range(MAX_KEYS)
    ]
    enforce = ("version: STSv1", "mode: enforce", "mx: mail.example.com", "max_age: 604800")
    real = make_report(START, failures={"certificate-expired": 5}, policy=enforce, report_id="real")
    testing = make_report(START, failures={"certificate-expired": 7}, report_id="testing")
    summary = summarise([found(flood), found(real), found(testing)])
    domain = summary.domains["example.com"]
    assert len(domain.policies) == MAX_KEYS + 1 and (PolicyType.STS, OTHER_LINES) in domain.policies
    assert enforced_failures(domain) == 5  # the testing policy's 7 are not refused mail
    other = domain.policies[PolicyType.STS, OTHER_LINES]
    assert (
        other.describe() == f"sts (other policies, past the first {MAX_KEYS:,}; 5 failed under mode enforce)"
    )
    assert exit_status(summary, "enforce", None) == 1


def test_a_policy_string_spelling_the_other_entry_cannot_take_its_place() -> None:
    # A report whose policy-string is the line "(other)" made an entry under the key the
    # table's overflow entry uses; read first, it stood in for that entry, which then kept no
    # enforce failures: the real policy's refused mail, past a flood, vanished from the count.
    decoy = make_report(START, report_id="decoy", organization="Anyone", policy=(OTHER,))
    flood = make_report(START, report_id="flood", organization="Anyone")
    entry = flood["policies"][0]
    flood["policies"] = [
        {**entry, "policy": {**entry["policy"], "policy-string": [f"made-up {n}"]}} for n in range(MAX_KEYS)
    ]
    enforce = ("version: STSv1", "mode: enforce", "mx: mail.example.com", "max_age: 604800")
    real = make_report(START, failures={"certificate-expired": 5}, policy=enforce, report_id="real")
    summary = summarise([found(decoy), found(flood), found(real)])
    domain = summary.domains["example.com"]
    assert enforced_failures(domain) == 5
    assert exit_status(summary, "enforce", None) == 1
    [other] = [seen for seen in domain.policies.values() if seen.other]
    assert other.failed == 5 and other.reports == 2  # the flood's last policy and the real one
