"""The pure judgements of `verify`, fed canned DNS answers and HTTP responses (RFC 8461 §3–§8)."""

from __future__ import annotations

import dataclasses

import pytest

from mtasts.config import parse_settings
from mtasts.desired import desired_state
from mtasts.policy import Mode, Policy
from mtasts.verify import Finding, Status
from mtasts.verify.checks import discovery, dnssec, mx_coverage, policy_file, policy_host, stack_drift, tlsrpt
from mtasts.verify.dns import DnsResult
from mtasts.verify.https import FetchResult

DOMAIN = "example.com"
HOST = "mta-sts.example.com"


def txt(name: str, *records: str) -> DnsResult:
    return DnsResult(name, "TXT", records=records)


def statuses(findings: list[Finding]) -> set[Status]:
    return {finding.status for finding in findings}


def test_one_sts_record_passes_and_its_id_is_returned() -> None:
    findings, sts_id = discovery.judge(DOMAIN, txt("_mta-sts.example.com", "v=STSv1; id=20240101T1"))
    assert sts_id == "20240101T1"
    assert statuses(findings) == {Status.PASS}


def test_two_sts_records_fail_because_senders_then_see_no_policy() -> None:
    answer = txt("_mta-sts.example.com", "v=STSv1; id=old1", "v=STSv1; id=new2")
    findings, sts_id = discovery.judge(DOMAIN, answer)
    assert sts_id is None
    assert [f.status for f in findings] == [Status.FAIL]
    assert "senders see no policy" in findings[0].message


def test_records_not_starting_with_stsv1_are_reported_but_do_not_count() -> None:
    answer = txt("_mta-sts.example.com", "google-site-verification=xyz", "v=STSv1; id=abc")
    findings, sts_id = discovery.judge(DOMAIN, answer)
    assert sts_id == "abc"
    assert [f.status for f in findings] == [Status.WARN, Status.PASS]
    assert "google-site-verification" in findings[0].message


def test_an_id_longer_than_32_characters_fails() -> None:
    findings, sts_id = discovery.judge(DOMAIN, txt("_mta-sts.example.com", "v=STSv1; id=" + "a" * 33))
    assert sts_id is None
    assert Status.FAIL in statuses(findings)


def test_a_missing_discovery_record_fails() -> None:
    answer = DnsResult("_mta-sts.example.com", "TXT", rcode="NXDOMAIN")
    findings, _ = discovery.judge(DOMAIN, answer)
    assert findings[0].status is Status.FAIL and "does not exist" in findings[0].message


# A zone holds what its owner (or whoever controls it) puts there: thousands of texts at the
# name, each of up to 64 KiB, with any byte in it.
MANY = 5000
HOSTILE_TXT = "v=STSv1; id=1\x1b[2J\r\n  PASS  discovery-record: fine\u202e"


def assert_bounded(findings: list[Finding], most: int = 5) -> None:
    """Few findings, each on one line with nothing that steers a terminal, none of them long."""
    assert len(findings) <= most, [f.message[:200] for f in findings]
    for finding in findings:
        for text in (finding.message, finding.fix):
            assert text.isprintable() and len(text) < 1500, text[:1500]


@pytest.mark.parametrize(
    "records",
    [
        [f"v=STSv1; id={n}" for n in range(MANY)],
        ["v=STSv1; id=ok", *(f"google-site-verification={n}" for n in range(MANY))],
        ["v=STSv1; id=ok", *(f"v=STSv1 ; id={n}" for n in range(MANY))],
        [f"v=STSv10; id={n}" for n in range(MANY)],
        ["v=STSv1; id=1; x=" + "y" * 100_000],
        [HOSTILE_TXT, "v=STSv1; id=2"],
    ],
    ids=["records", "unrelated", "near-misses", "near-misses-alone", "100-kB-record", "hostile"],
)
def test_junk_at_the_discovery_name_is_listed_in_part_escaped_and_counted(records: list[str]) -> None:
    findings, _ = discovery.judge(DOMAIN, txt("_mta-sts.example.com", *records))
    assert_bounded(findings)
    said = " ".join(f.message for f in findings)
    if len(records) > 3:
        assert "and 4,997 more" in said or "and 4,998 more" in said or "4,997 more texts" in said, said
    if HOSTILE_TXT in records:
        assert "\\x1b[2J\\r\\n  PASS  discovery-record: fine\\u202e" in said, said


@pytest.mark.parametrize(
    "records",
    [
        [f"v=TLSRPTv1; rua=mailto:r{n}@example.com" for n in range(MANY)],
        ["v=TLSRPTv1; rua=mailto:r@example.com", *(f"v=spf1 include:{n}.example -all" for n in range(MANY))],
        ["v=TLSRPTv1; rua=mailto:r@example.com", *(f"v=TLSRPTv10; rua={n}" for n in range(MANY))],
        [f"v=TLSRPTv1 ; rua=mailto:r{n}@example.com" for n in range(MANY)],
        ["v=TLSRPTv1; rua=" + ",".join(f"mailto:r{n}@example.com" for n in range(2500))],
        # Fixes quote the URI too: in capitals, and with a Unicode host (written as its A-label).
        ["v=TLSRPTv1; rua=MAILTO:r@example.com\x1b[2J\u202e,https://bücher.example/\x1b[2J\u202e"],
    ],
    ids=["records", "unrelated", "near-misses", "near-misses-alone", "2500-uris", "hostile"],
)
def test_junk_at_the_tls_rpt_name_is_listed_in_part_escaped_and_counted(records: list[str]) -> None:
    findings = tlsrpt.judge(DOMAIN, txt("_smtp._tls.example.com", *records))
    assert_bounded(findings)
    said = " ".join(f"{f.message} {f.fix}" for f in findings)
    if len(records) > 3:
        assert "and 4,997 more" in said or "and 4,998 more" in said or "4,997 more texts" in said, said
    if records[0].count(",") == 2499:
        assert "and 2,490 more" in said, said  # names: ten of them
    if "bücher" in records[0]:
        fixes = " ".join(f.fix for f in findings)
        assert "mailto:r@example.com\\x1b[2J\\u202e" in fixes, fixes
        assert "https://xn--bcher-kva.example/\\x1b[2J\\u202e" in fixes, fixes


def fetched(
    status: int = 200, body: bytes = b"x", content_type: str | None = "text/plain", **kw: object
) -> list[FetchResult]:
    return [
        FetchResult(
            f"https://{HOST}/.well-known/mta-sts.txt",
            "192.0.2.1",
            status=status,
            content_type=content_type,
            body=body,
            tls_version="TLSv1.3",
            **kw,  # type: ignore[arg-type]
        )
    ]


ADDRESSES = DnsResult(HOST, "A", records=("192.0.2.1",))


def test_a_redirect_fails_and_names_where_it_points() -> None:
    attempts = fetched(301, b"", location="https://example.com/mta-sts.txt")
    findings, text = policy_file.fetch(HOST, ADDRESSES, attempts)
    assert text is None
    assert findings[0].status is Status.FAIL
    assert "https://example.com/mta-sts.txt" in findings[0].message


def test_media_type_parameters_are_accepted_but_text_html_is_not() -> None:
    ok, _ = policy_file.fetch(HOST, ADDRESSES, fetched(content_type="text/plain; charset=utf-8"))
    html, _ = policy_file.fetch(HOST, ADDRESSES, fetched(content_type="text/html"))
    assert statuses(ok) == {Status.PASS}
    assert statuses(html) == {Status.FAIL}
    assert "text/html" in html[0].message


def test_an_oversized_policy_fails_without_text() -> None:
    findings, text = policy_file.fetch(HOST, ADDRESSES, fetched(body=None, too_large=True))
    assert text is None and "65536" in findings[0].message


# What an HTTP server says in its headers, as a hostile one writes it (h11 lets bytes
# 0x80-0xff through, read as Latin-1: U+009B is the one-byte CSI).
FORGED = "\x1b[2J\x9b31m\r\n  PASS  policy-fetch: HTTP 200\u202e"


@pytest.mark.parametrize(
    "attempt",
    [
        {"status": 301, "body": b"", "location": f"https://example.com/{FORGED}"},
        {"status": 302, "body": b"", "location": "https://example.com/" + "x" * 100_000},
        {"content_type": f"text/html{FORGED}"},
        {"content_type": f"text/plain; charset=utf-8{FORGED}"},
    ],
    ids=["location", "100-kB-location", "content-type", "content-type-passing"],
)
def test_what_a_policy_host_says_in_its_headers_is_shown_escaped_and_bounded(
    attempt: dict[str, object],
) -> None:
    from mtasts.verify.policy_served import _served

    [result] = fetched(**attempt)  # type: ignore[arg-type]
    findings, _ = policy_file.fetch(HOST, ADDRESSES, [result])
    served = _served(result, None).served
    for text in [*(f.message for f in findings), served]:
        assert text.isprintable() and len(text) < 1000, text[:1000]
    said = " ".join(f.message for f in findings)
    if "x" * 1000 in str(attempt.get("location")):
        assert "…(+99,820 characters)" in said and "…(+99,820 characters)" in served
    else:
        assert "\\x1b[2J\\x9b31m\\r\\n  PASS  policy-fetch: HTTP 200\\u202e" in said, said


def test_a_policy_host_without_address_fails_saying_so() -> None:
    findings, _ = policy_file.fetch(HOST, DnsResult(HOST, "A", rcode="NXDOMAIN"), [])
    assert findings[0].status is Status.FAIL
    assert "has no address" in findings[0].message


def test_a_rejected_certificate_is_named_in_the_failure() -> None:
    attempt = FetchResult("u", "192.0.2.1", error="certificate has expired", error_kind="certificate")
    findings, _ = policy_file.fetch(HOST, ADDRESSES, [attempt])
    assert "certificate was rejected" in findings[0].message and "expired" in findings[0].message


def test_syntax_errors_are_each_reported() -> None:
    findings, policy = policy_file.syntax("version: STSv1\nmode: enforce\nmax_age: 99999999999\n")
    assert policy is None
    assert {f.status for f in findings} == {Status.FAIL}
    assert any("max_age" in f.message for f in findings) and any(
        "'mx' is required" in f.message for f in findings
    )


@pytest.mark.parametrize(
    ("mode", "max_age", "warned"),
    [
        ("enforce", 0, "max_age is 0 with mode enforce"),
        ("enforce", 3600, "mode is enforce with max_age 3,600 s, under a day"),
        ("enforce", 86399, "under a day"),
        ("enforce", 86400, None),
        ("testing", 3600, None),  # nothing is refused under testing: a short cache costs nothing
        ("testing", 0, "some (chasquid) take it as invalid"),
        ("none", 0, None),  # retiring: nothing left to keep
    ],
)
def test_a_valid_but_weak_max_age_is_a_warning(mode: str, max_age: int, warned: str | None) -> None:
    mx = "" if mode == "none" else "mx: mail.example.com\n"
    findings, policy = policy_file.syntax(f"version: STSv1\nmode: {mode}\n{mx}max_age: {max_age}\n")
    assert policy is not None and findings[0].status is Status.PASS
    warnings = [f for f in findings if f.status is Status.WARN]
    if warned is None:
        assert warnings == []
    else:
        [warning] = warnings
        assert warning.message.startswith("the served policy: ") and warned in warning.message
        assert "(RFC 8461 §3.2, §10.2)" in warning.message and "604800 (a week)" in warning.fix


ENFORCE = Policy(Mode.ENFORCE, 86400, ("mail.example.com", "*.mx.example.com"))


def test_an_uncovered_mx_host_under_enforce_fails_saying_mail_will_be_refused() -> None:
    findings = mx_coverage.judge(DOMAIN, ["mail.example.com", "backup.example.net"], ENFORCE)
    assert [f.status for f in findings] == [Status.FAIL]
    assert "backup.example.net" in findings[0].message and "refuse" in findings[0].message


def test_an_uncovered_mx_host_under_testing_is_a_warning_and_under_none_information() -> None:
    testing = dataclasses.replace(ENFORCE, mode=Mode.TESTING)
    none = dataclasses.replace(ENFORCE, mode=Mode.NONE)
    assert mx_coverage.judge(DOMAIN, ["backup.example.net"], testing)[0].status is Status.WARN
    assert mx_coverage.judge(DOMAIN, ["backup.example.net"], none)[0].status is Status.INFO


def test_a_wildcard_pattern_covers_exactly_one_label() -> None:
    assert mx_coverage.judge(DOMAIN, ["a.mx.example.com"], ENFORCE)[0].status is Status.PASS
    assert mx_coverage.judge(DOMAIN, ["a.b.mx.example.com"], ENFORCE)[0].status is Status.FAIL


def test_a_domain_without_mx_is_judged_by_its_implicit_mx() -> None:
    hosts, findings = mx_coverage.hosts(DOMAIN, DnsResult(DOMAIN, "MX"))
    assert hosts == [DOMAIN]
    assert "implicit MX" in findings[0].message


def test_mx_hosts_come_in_preference_order_and_a_null_mx_has_none() -> None:
    hosts, _ = mx_coverage.hosts(
        DOMAIN, DnsResult(DOMAIN, "MX", records=("20 b.example.com", "10 a.example.com"))
    )
    null_hosts, null_findings = mx_coverage.hosts(DOMAIN, DnsResult(DOMAIN, "MX", records=("0 .",)))
    assert hosts == ["a.example.com", "b.example.com"]
    assert null_hosts == [] and "accepts no mail" in null_findings[0].message


def test_policy_host_checks_want_null_mx_spf_and_no_cname() -> None:
    assert policy_host.null_mx(HOST, DnsResult(HOST, "MX", records=("0 .",)))[0].status is Status.PASS
    assert policy_host.null_mx(HOST, DnsResult(HOST, "MX"))[0].status is Status.WARN
    assert policy_host.spf(HOST, txt(HOST, "v=spf1 -all"))[0].status is Status.PASS
    assert policy_host.spf(HOST, txt(HOST, "v=spf1 ~all"))[0].status is Status.WARN
    cname = DnsResult(HOST, "CNAME", records=("site.netlify.app",))
    assert policy_host.cname(HOST, cname)[0].status is Status.WARN
    assert policy_host.cname(HOST, DnsResult(HOST, "CNAME"))[0].status is Status.PASS


def test_tls_rpt_none_warns_bad_scheme_and_duplicates_fail() -> None:
    name = "_smtp._tls.example.com"
    assert tlsrpt.judge(DOMAIN, txt(name))[0].status is Status.WARN
    bad = tlsrpt.judge(DOMAIN, txt(name, "v=TLSRPTv1; rua=ftp://example.com/r"))
    assert bad[0].status is Status.FAIL and "ftp://" in bad[0].message
    two = tlsrpt.judge(DOMAIN, txt(name, "v=TLSRPTv1; rua=mailto:a@x.com", "v=TLSRPTv1; rua=mailto:b@x.com"))
    assert two[0].status is Status.FAIL
    good = tlsrpt.judge(DOMAIN, txt(name, "v=TLSRPTv1; rua=mailto:a@x.com,https://r.example.com/v1"))
    assert good[0].status is Status.PASS


def test_dnssec_is_information_that_follows_the_ad_bit() -> None:
    signed = dnssec.validation(DOMAIN, [DnsResult(DOMAIN, "MX", authenticated=True)])
    unsigned = dnssec.validation(DOMAIN, [DnsResult(DOMAIN, "MX", authenticated=False)])
    assert signed[0].status is unsigned[0].status is Status.INFO
    assert "not" not in signed[0].message and "not" in unsigned[0].message


def test_dnssec_is_not_judged_when_no_answer_came_back() -> None:
    silent = dnssec.validation(DOMAIN, [DnsResult(DOMAIN, "MX", error="the resolver did not answer")])
    assert silent[0].status is Status.INFO
    assert silent[0].message.startswith("not judged") and "DANE" not in silent[0].message


def test_dane_does_not_call_a_tlsa_lookup_that_failed_no_tlsa_records() -> None:
    # A resolver that answered SERVFAIL (a validating resolver's answer for bogus signatures)
    # or nothing at all has said nothing about the TLSA records: "no TLSA records" would be a
    # claim the answer does not make, and would contradict the MX check's verdict on the host.
    hosts = ["mx1.example.com", "mx2.example.com", "mx3.example.com"]
    answers = {
        hosts[0]: DnsResult(hosts[0], "TLSA", records=("3 1 1 ab",)),
        hosts[1]: DnsResult(hosts[1], "TLSA", rcode="SERVFAIL", error="the resolver answered SERVFAIL"),
        hosts[2]: DnsResult(hosts[2], "TLSA"),
    }
    [finding] = dnssec.dane(hosts, answers)
    assert finding.status is Status.INFO
    assert "TLSA records at _25._tcp of mx1.example.com" in finding.message
    assert "no TLSA records at _25._tcp of mx3.example.com;" in finding.message + ";"
    assert "could not look up the TLSA records at _25._tcp of mx2.example.com" in finding.message
    assert "the resolver answered SERVFAIL" in finding.message


STATE = desired_state(
    parse_settings({"domain": DOMAIN, "mode": "enforce", "tlsRpt": ["mailto:tls@example.com"]})
)
OLD_TEXT = STATE.policy_text.replace("enforce", "testing")


def live_records(state: object = STATE) -> dict[tuple[str, str], DnsResult]:
    answers: dict[tuple[str, str], list[str]] = {}
    for record in STATE.records:
        live = f"{record.priority} {record.value}" if record.type == "MX" else record.value
        answers.setdefault((record.name, record.type), []).append(live)
    return {key: DnsResult(key[0], key[1], records=tuple(values)) for key, values in answers.items()}


def test_live_state_equal_to_the_stack_shows_no_drift() -> None:
    findings = stack_drift.judge(STATE, STATE.policy_id, STATE.policy_text, live_records())
    assert statuses(findings) == {Status.PASS}


def test_a_new_id_with_the_old_file_served_is_named_a_half_finished_rollout() -> None:
    findings = stack_drift.judge(STATE, STATE.policy_id, OLD_TEXT, live_records())
    assert findings[0].status is Status.FAIL
    assert "senders would cache the old policy under the new id" in findings[0].message


def test_the_new_file_served_under_the_old_id_says_to_finish_the_rollout() -> None:
    findings = stack_drift.judge(STATE, "oldid1", STATE.policy_text, live_records())
    assert findings[0].status is Status.FAIL and "finish the rollout" in findings[0].fix


def test_a_missing_declared_record_is_named() -> None:
    records = live_records()
    records[(HOST, "MX")] = DnsResult(HOST, "MX")
    findings = stack_drift.judge(STATE, STATE.policy_id, STATE.policy_text, records)
    assert [f.status for f in findings] == [Status.FAIL]
    assert f"{HOST} MX 0 ." in findings[0].message


def test_a_domain_with_no_network_is_said_once_not_once_per_check_and_lookup() -> None:
    from mtasts.verify.model import DomainReport
    from mtasts.verify.report import text_report

    down = "the resolver 192.0.2.53 did not answer {} within 1 s"
    questions = [
        "_mta-sts.example.com TXT",
        "mta-sts.example.com A",
        "example.com MX",
        "_smtp._tls.example.com TXT",
    ]
    findings = [
        Finding(check, Status.UNCHECKED, "could not check: " + down.format(question))
        for check in ("discovery-record", "policy-fetch", "mx-coverage", "tls-rpt", "stack-drift")
        for question in questions
    ]
    findings.insert(2, Finding("policy-syntax", Status.INFO, "not judged: no policy text was fetched"))
    findings.append(
        Finding("policy-fetch", Status.UNCHECKED, "could not check 192.0.2.1: connection refused")
    )
    text = text_report([DomainReport("example.com", findings)])
    unchecked = [line for line in text.splitlines() if "NOT CHECKED" in line]
    assert len(unchecked) == 2, text
    assert "the same for 19 more lookups (policy-fetch, mx-coverage, tls-rpt, stack-drift)" in unchecked[0]
    assert "not judged" not in text


def test_a_resolver_that_gave_no_answer_is_said_so_not_that_it_answered_no_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from mtasts.verify import dns as verify_dns

    async def refused(*_: object) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(verify_dns, "_exchange", refused)
    resolver = verify_dns.Resolver(("192.0.2.53",), 53, timeout=0.5, lifetime=1.0)
    result = asyncio.run(verify_dns.lookup(resolver, "_mta-sts.example.com", "TXT"))
    assert result.error == (
        "the resolver 192.0.2.53 gave no answer for _mta-sts.example.com TXT "
        "(ConnectionRefusedError: [Errno 111] Connection refused)"
    )


# What a report prints comes from the network: nothing in it may steer the terminal.


def test_an_unprintable_character_a_message_let_through_is_escaped_and_nothing_else_is() -> None:
    from mtasts.verify.model import DomainReport
    from mtasts.verify.report import text_report

    forged = "554 go away\x1b[2J\r\n  PASS  mx-tls: STARTTLS with a valid certificate\u202e"
    findings = [
        Finding("mx-tls", Status.FAIL, f"mail.example.com: the server greeted with {forged}", "x\x07"),
        # Escaped where it was built (`visible`): shown as it is, its backslash not doubled.
        Finding("tls-rpt", Status.WARN, "'v=TLSRPTv1; \\x1b[31m' and a bell\x07", "remove it"),
    ]
    text = text_report([DomainReport(DOMAIN, findings)])
    assert all(line.isprintable() for line in text.split("\n")), text
    assert not any(line.lstrip().startswith("PASS") for line in text.splitlines()), text
    assert "greeted with 554 go away\\x1b[2J\\r\\n  PASS  mx-tls" in text and "\\u202e" in text
    assert "fix: x\\x07" in text
    assert "'v=TLSRPTv1; \\x1b[31m' and a bell\\x07" in text, text


def test_an_ordinary_report_is_printed_as_it_was() -> None:
    from mtasts.verify.model import DomainReport
    from mtasts.verify.report import text_report

    findings = [Finding("discovery-record", Status.PASS, "_mta-sts.example.com publishes 'v=STSv1; id=1'")]
    assert text_report([DomainReport(DOMAIN, findings)]) == (
        "example.com: ok\n  PASS  discovery-record: _mta-sts.example.com publishes 'v=STSv1; id=1'\n\n"
        "1 domain(s) checked: 1 passed, 0 passed with warnings, 0 failed\n"
    )


# Lists whose length the network chose: MX hosts, addresses, mx patterns, records.

HOSTS = [f"h{n}.example.com" for n in range(MANY)]


def fetched_from(addresses: list[str], bodies: list[str]) -> list[FetchResult]:
    return [
        FetchResult(
            f"https://{HOST}/.well-known/mta-sts.txt", address, status=200, content_type="text/plain",
            body=body.encode(), tls_version="TLSv1.3",
        )
        for address, body in zip(addresses, bodies, strict=True)
    ]  # fmt: skip


def test_many_mx_hosts_addresses_and_patterns_are_listed_three_at_a_time() -> None:
    wide = Policy(Mode.ENFORCE, 86400, ("*.example.com",))
    many_patterns = Policy(Mode.ENFORCE, 86400, tuple(HOSTS[:3000]))
    addresses = [f"10.0.{n // 256}.{n % 256}" for n in range(MANY)]
    policy = "version: STSv1\nmode: enforce\nmax_age: 86400\n" + "".join(f"mx: {h}\n" for h in HOSTS[:3000])
    same = fetched_from(addresses, [GOOD_POLICY_TEXT] * MANY)
    different = fetched_from(addresses, [GOOD_POLICY_TEXT + f"x{n}: y\n" for n in range(MANY)])
    cases = {
        "covered": mx_coverage.judge(DOMAIN, HOSTS, wide),
        "uncovered": mx_coverage.judge(DOMAIN, ["other.example.net"], many_patterns),
        "summary": policy_file.syntax(policy)[0],
        "same-everywhere": policy_file.fetch(HOST, ADDRESSES, same)[0],
        "different-policies": policy_file.fetch(HOST, ADDRESSES, different)[0],
        "dane": dnssec.dane(HOSTS, {HOSTS[0]: DnsResult(HOSTS[0], "TLSA", records=("3 1 1 ab",))}),
        "no-null-mx": policy_host.null_mx(
            HOST, DnsResult(HOST, "MX", records=tuple(f"10 {h}" for h in HOSTS))
        ),
        "spf": policy_host.spf(HOST, txt(HOST, "v=spf1 " + "a " * 50_000 + "-all")),
    }
    for case, findings in cases.items():
        assert_bounded(findings, most=2)
        said = " ".join(f.message for f in findings)
        assert " more" in said or case == "spf", f"{case}: {said[:300]}"


GOOD_POLICY_TEXT = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 86400\n"


def test_records_beside_the_stacks_are_listed_three_at_a_time() -> None:
    name = "_mta-sts.example.com"
    records = live_records()
    declared = records[(name, "TXT")].records
    records[(name, "TXT")] = DnsResult(name, "TXT", records=(*declared, *(f"junk {n}" for n in range(MANY))))
    records[(HOST, "MX")] = DnsResult(HOST, "MX", records=tuple(f"10 {h}" for h in HOSTS))
    findings = stack_drift.judge(STATE, STATE.policy_id, STATE.policy_text, records)
    assert_bounded(findings)
    said = " ".join(f.message for f in findings)
    assert "'junk 0', 'junk 1', 'junk 2' and 4,997 more" in said, said[:1000]
    assert "'10 h0.example.com', '10 h1.example.com', '10 h2.example.com' and 4,997 more" in said, said[:1000]


# A served policy may hold 64 KiB of anything: one long line, or thousands of short ones.
HEAD = "version: STSv1\nmode: enforce\nmax_age: 86400\nmx: mail.example.com\n"


@pytest.mark.parametrize(
    "policy",
    [
        HEAD + "\x1b[2J\r\n  PASS  policy-syntax: the policy is valid\u202e" + "z" * 60_000 + "\n",
        HEAD + "not a field\n" * 5000,
        HEAD + "mx: -bad-\n" * 5000,
        "version: STSv1\n" + "\n" * 30_000 + "mode: enforce\nmax_age: 86400\nmx: mail.example.com\n",
        HEAD + "".join(f"mx: h{n}\n" for n in range(5000)),
        "version: STSv1\nmode: " + "\x1b[2J" * 10_000 + "\nmax_age: 86400\nmx: mail.example.com\n",
    ],
    ids=[
        "60-kB-line",
        "5000-bad-lines",
        "5000-bad-mx",
        "30000-blank-lines",
        "5000-single-labels",
        "long-mode",
    ],
)
def test_a_hostile_policy_is_judged_in_few_findings_each_escaped_and_bounded(policy: str) -> None:
    findings, _ = policy_file.syntax(policy)
    assert_bounded(findings, most=8)
    said = " ".join(f.message for f in findings)
    assert "\x1b" not in said and ("\\x1b[2J" in said or "more" in said), said[:1000]


def test_an_ordinary_deployments_lists_are_shown_whole() -> None:
    # Google Workspace names five MX hosts; GitHub Pages serves from four A and four AAAA addresses.
    google = ["aspmx.l.google.com", *(f"alt{n}.aspmx.l.google.com" for n in range(1, 5))]
    covered = mx_coverage.judge(
        DOMAIN, google, Policy(Mode.ENFORCE, 86400, ("*.l.google.com", "*.aspmx.l.google.com"))
    )
    pages = [f"185.199.{n}.153" for n in range(108, 112)] + [f"2606:50c0:800{n}::153" for n in range(4)]
    served, _ = policy_file.fetch(HOST, ADDRESSES, fetched_from(pages, [GOOD_POLICY_TEXT] * len(pages)))
    assert covered[0].message.endswith(", ".join(google))
    assert served[0].message.endswith(f"the same from every address ({', '.join(pages)})")
