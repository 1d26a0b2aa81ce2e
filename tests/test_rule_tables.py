"""One table of cases per rule (tests/data/rules/), run through every consumer of the rule.

Each row says what the rule decides and what postfix-mta-sts-resolver and checkdmarc do with
the same input; both are installed, so those columns are checked against the real code.
A row where any of them sees no policy must fail with us; where we differ, the row says why.
Then the same rows go through the consumers: `verify`'s checks, the policy pack's rules,
adoption's record kinds and the configuration, so that none of them can drift from the rule.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import checkdmarc.mta_sts
import checkdmarc.smtp_tls_reporting
import checkdmarc.spf
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from postfix_mta_sts_resolver import resolver
from postfix_mta_sts_resolver import utils as resolver_utils
from requests.structures import CaseInsensitiveDict

from mtasts.adoption import ExistingRecord, plan_adoption
from mtasts.config import ConfigError, parse_settings
from mtasts.constants import policy_url
from mtasts.desired import NETLIFY_HEADERS, desired_state
from mtasts.policy import POLICY_PATH, Mode, Policy, PolicyError, parse_policy
from mtasts.records import quote_txt, txt_kind
from mtasts.rules import (
    coexistence,
    discovery,
    mail,
    mx_coverage,
    policy_fetch,
    policy_file,
    policy_host,
    tlsrpt,
)
from mtasts.rules.findings import Finding, Severity
from mtasts.verify import PolicyCheck, Status
from mtasts.verify.checks import discovery as verify_discovery
from mtasts.verify.checks import mx_coverage as verify_mx_coverage
from mtasts.verify.checks import policy_file as verify_policy_file
from mtasts.verify.checks import policy_host as verify_policy_host
from mtasts.verify.checks import tlsrpt as verify_tlsrpt
from mtasts.verify.dns import DnsResult
from mtasts.verify.https import FetchResult
from mtasts.verify.policy_served import _served as served_at
from mtasts.verify.policy_served import judge_fetch
from policy.view import REPOSITORY_FILE
from tests.proton_values import DKIM, VERIFICATION
from tests.test_policy_pack import Res, check, core_stack, record

TABLES = Path(__file__).parent / "data" / "rules"
DOMAIN = "example.com"


def table(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((TABLES / f"{name}.yaml").read_text(encoding="utf-8"))


def verdict(findings: tuple[Finding, ...] | list[Finding]) -> str:
    worst = max((finding.severity for finding in findings), default=None)
    return {None: "pass", Severity.INFO: "pass", Severity.WARN: "warn", Severity.FAIL: "fail"}[worst]


def status(findings: list[Any]) -> str:
    statuses = {finding.status for finding in findings}
    return "fail" if Status.FAIL in statuses else "warn" if Status.WARN in statuses else "pass"


def label(row: dict[str, Any]) -> str:
    if row.get("records") == []:
        return "no record"
    if "at" in row:
        return f"{row['at']} {row['type']} {row['value']}"
    return str(row.get("name") or row.get("records") or row.get("text") or row.get("pattern"))[:60]


DISCOVERY = table("discovery")
POLICIES = table("policy_file")
TLSRPT = table("tlsrpt")
MX = table("mx_coverage")
SPF = table("spf")


def rows(cases: list[dict[str, Any]]) -> Any:
    return pytest.mark.parametrize("row", cases, ids=[label(row) for row in cases])


def test_every_row_cites_its_source_and_every_difference_says_why() -> None:
    for row in DISCOVERY + POLICIES + TLSRPT + MX + SPF:
        assert row.get("source"), row
    for row in DISCOVERY + POLICIES:
        senders = [row["postfix"], row["checkdmarc"]]
        if row["ours"] == "fail" and any(not s.startswith("no policy") for s in senders):
            assert row.get("why"), f"we fail what a sender accepts, with no reason: {row}"


# --- The _mta-sts record --------------------------------------------------------------------


def postfix_reads_record(records: list[str]) -> str:
    """postfix-mta-sts-resolver's resolver.py, from the TXT answer on (DNS hands it bytes)."""
    texts = list(resolver_utils.filter_text(text.encode("utf-8") for text in records))
    texts = [text for text in texts if text.startswith("v=STSv1")]
    if len(texts) != 1:
        return "no policy"
    fields = resolver_utils.parse_mta_sts_record(texts[0])
    return fields["id"] if fields.get("v") == "STSv1" and "id" in fields else "no policy"


def checkdmarc_reads_record(records: list[str]) -> str:
    try:
        with patch("checkdmarc.mta_sts.query_dns", return_value=records):
            found = checkdmarc.mta_sts.query_mta_sts_record(DOMAIN)
        parsed = checkdmarc.mta_sts.parse_mta_sts_record(found["record"])
    except checkdmarc.mta_sts.MTASTSError:
        return "no policy"
    warned = found["warnings"] or parsed["warnings"]
    return parsed["tags"]["id"] + (" (warns)" if warned else "")


@rows(DISCOVERY)
def test_the_discovery_rule_decides_each_case(row: dict[str, Any]) -> None:
    judged = discovery.judge(row["records"], f"_mta-sts.{DOMAIN}")
    assert verdict(judged.findings) == row["ours"]
    # `id`: what a sender following RFC 8461 §3.1 uses; a failing row may have one (a near miss beside it).
    assert "id" in row or row["ours"] == "fail"
    assert judged.id == (str(row["id"]) if "id" in row else None)
    if "code" in row:
        assert row["code"] in [finding.code for finding in judged.findings]


@rows(DISCOVERY)
def test_postfix_mta_sts_resolver_reads_each_record_as_the_table_says(row: dict[str, Any]) -> None:
    assert postfix_reads_record(row["records"]) == str(row["postfix"])


@rows(DISCOVERY)
def test_checkdmarc_reads_each_record_as_the_table_says(row: dict[str, Any]) -> None:
    assert checkdmarc_reads_record(row["records"]) == str(row["checkdmarc"])


@rows(DISCOVERY)
def test_no_record_passes_where_a_sender_sees_no_policy(row: dict[str, Any]) -> None:
    if "no policy" in (str(row["postfix"]), str(row["checkdmarc"])):
        assert row["ours"] == "fail"


@rows(DISCOVERY)
def test_verify_judges_each_discovery_case_as_the_rule_does(row: dict[str, Any]) -> None:
    answer = DnsResult(f"_mta-sts.{DOMAIN}", "TXT", tuple(row["records"]))
    findings, found_id = verify_discovery.judge(DOMAIN, answer)
    assert status(findings) == row["ours"]
    assert found_id == (str(row["id"]) if "id" in row else None)


@rows(DISCOVERY)
def test_the_policy_pack_refuses_each_discovery_case_the_rule_finds_fault_with(row: dict[str, Any]) -> None:
    resources = [record(f"_mta-sts.{DOMAIN}", "TXT", quote_txt(text)) for text in row["records"]]
    if not resources:  # the pack knows the domain from the policy the stack publishes
        resources = [r for r in core_stack() if r.props.get("name") != f"_mta-sts.{DOMAIN}"]
    violations = check("discovery-id-matches-policy", resources) + check(
        "one-discovery-record-per-domain", resources
    )
    # The pack judges what the stack publishes: any finding about the record itself is a violation.
    faults = [f for f in discovery.judge(row["records"]).findings if f.code != discovery.UNRELATED]
    assert bool(violations) == bool(faults), [v.message for v in violations]


@rows([row for row in DISCOVERY if not any(discovery.counts(text) for text in row["records"])])
def test_the_policy_pack_words_a_missing_discovery_record_as_the_rule_does(row: dict[str, Any]) -> None:
    name = f"_mta-sts.{DOMAIN}"
    stack = [r for r in core_stack() if r.props.get("name") != name]
    stack += [record(name, "TXT", quote_txt(text)) for text in row["records"]]
    [missing] = [f for f in discovery.judge(row["records"], name).findings if f.code == discovery.MISSING]
    messages = [v.message for v in check("one-discovery-record-per-domain", stack)]
    assert any(missing.text() in message for message in messages), messages


@rows(DISCOVERY)
def test_adoption_counts_discovery_records_as_senders_do(row: dict[str, Any]) -> None:
    state = desired_state(parse_settings({"domain": DOMAIN}))
    zone = [
        ExistingRecord(f"r{index}", f"_mta-sts.{DOMAIN}", "TXT", quote_txt(text))
        for index, text in enumerate(row["records"])
    ]
    plan = plan_adoption(state.records, zone)
    counted = [text for text in row["records"] if discovery.counts(text)]
    assert [txt_kind(text) == "sts" for text in row["records"]] == [
        discovery.counts(t) for t in row["records"]
    ]
    assert len(plan.conflicts) == max(0, len(counted) - 1)


@given(st.from_regex(r"[A-Za-z0-9]{1,32}", fullmatch=True))
def test_what_we_publish_at_mta_sts_reads_the_same_to_every_reader(policy_id: str) -> None:
    text = discovery.text(policy_id)
    assert discovery.parse(text).findings == ()
    assert postfix_reads_record([text]) == policy_id == checkdmarc_reads_record([text])


# --- The policy file ------------------------------------------------------------------------


SERVED_CHARSET = "utf-8"  # mtasts.desired serves text/plain; charset=utf-8 from both hosts


def postfix_reads_policy(text: str) -> str:
    """postfix-mta-sts-resolver's resolver.py, from the body it fetched: decoded by the charset of
    the Content-Type (ASCII without one), which is the one we serve."""
    assert f"charset={SERVED_CHARSET}" in NETLIFY_HEADERS
    try:
        text = text.encode("utf-8").decode(SERVED_CHARSET)
    except UnicodeDecodeError:
        return "no policy"
    policy = resolver_utils.parse_mta_sts_policy(text)
    try:
        max_age = int(policy.get("max_age", "-1"))
    except ValueError:
        return "no policy"
    mode = policy.get("mode")
    if policy.get("version") != "STSv1" or not 0 <= max_age <= 31557600 or mode is None:
        return "no policy"
    if mode == "none":
        return "none"
    if mode not in ("testing", "enforce") or not policy["mx"]:
        return "no policy"
    return f"{mode}: {', '.join(policy['mx'])}"


def checkdmarc_reads_policy(text: str) -> str:
    try:
        parsed = checkdmarc.mta_sts.parse_mta_sts_policy(text)
    except checkdmarc.mta_sts.MTASTSError:
        return "no policy"
    policy = parsed["policy"]
    read = f"{policy['mode']}: {', '.join(policy['mx'])}" if policy["mx"] else policy["mode"]
    return read + (" (warns)" if parsed["warnings"] else "")


def applied(row: dict[str, Any]) -> bool:
    """Whether a sender following the RFC applies the policy: every passing or warning row, and a
    failing one whose `applies` says what such a sender reads (a field repeated: the first)."""
    return row["ours"] != "fail" or "applies" in row


@rows(POLICIES)
def test_the_policy_rule_decides_each_case(row: dict[str, Any]) -> None:
    parsed = policy_file.parse(row["text"])
    assert verdict(parsed.findings) == row["ours"]
    if "code" in row:
        assert row["code"] in [finding.code for finding in parsed.findings]
    assert parsed.valid is applied(row)
    if "applies" in row:
        assert parsed.mode is not None
        assert f"{parsed.mode.value}: {', '.join(parsed.mx)}" == row["applies"]
        assert row["applies"] == re.sub(r" \(warns\)$", "", row["checkdmarc"]), "checkdmarc follows the RFC"


@rows(POLICIES)
def test_postfix_mta_sts_resolver_reads_each_policy_as_the_table_says(row: dict[str, Any]) -> None:
    assert postfix_reads_policy(row["text"]) == row["postfix"]


@rows(POLICIES)
def test_checkdmarc_reads_each_policy_as_the_table_says(row: dict[str, Any]) -> None:
    assert checkdmarc_reads_policy(row["text"]) == row["checkdmarc"]


@rows(POLICIES)
def test_no_policy_passes_where_a_sender_sees_none_and_a_passing_one_reads_the_same(
    row: dict[str, Any],
) -> None:
    readings = {row["postfix"], re.sub(r" \(warns\)$", "", row["checkdmarc"])}
    if "no policy" in readings:
        assert row["ours"] == "fail"
    if row["ours"] != "fail":
        parsed = policy_file.parse(row["text"])
        assert parsed.mode is not None
        ours = f"{parsed.mode.value}: {', '.join(parsed.mx)}" if parsed.mode is not Mode.NONE else "none"
        if parsed.mode is Mode.NONE and parsed.mx:
            ours = f"none: {', '.join(parsed.mx)}"
        assert readings <= {ours, "none"}, readings


@rows(POLICIES)
def test_verify_judges_each_policy_as_the_rule_does(row: dict[str, Any]) -> None:
    findings, policy = verify_policy_file.syntax(row["text"])
    assert status(findings) == row["ours"]
    assert (policy is not None) is applied(row)
    if "applies" in row:
        assert any("senders following RFC 8461 §3.2 apply the first" in f.message for f in findings), findings


@rows(POLICIES)
def test_parse_policy_refuses_exactly_the_failing_policies(row: dict[str, Any]) -> None:
    if not applied(row):
        with pytest.raises(PolicyError):
            parse_policy(row["text"])
    else:
        assert isinstance(parse_policy(row["text"]), Policy)


@rows(POLICIES)
def test_the_policy_pack_refuses_every_policy_the_rule_finds_anything_in(row: dict[str, Any]) -> None:
    file = Res(REPOSITORY_FILE, "policy", {"repository": "r", "file": POLICY_PATH, "content": row["text"]})
    violations = check("policy-file-is-valid", [file])
    assert bool(violations) == (row["ours"] != "pass")


@given(
    mode=st.sampled_from(list(Mode)),
    max_age=st.integers(0, 31_557_600),
    mx=st.lists(
        st.from_regex(r"(\*\.)?[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\.[a-z]{2,6}", fullmatch=True), min_size=1
    ),
)
def test_every_policy_the_configuration_accepts_renders_with_no_finding(
    mode: Mode, max_age: int, mx: list[str]
) -> None:
    try:
        settings = parse_settings({"domain": DOMAIN, "mode": mode.value, "maxAge": max_age, "mx": mx})
    except ConfigError:
        return
    text = settings.policy.render()
    assert policy_file.parse(text).findings == ()
    assert postfix_reads_policy(text) != "no policy" and checkdmarc_reads_policy(text) != "no policy"


# --- The _smtp._tls record ------------------------------------------------------------------


def checkdmarc_reads_tlsrpt(records: list[str]) -> str:
    module = checkdmarc.smtp_tls_reporting
    try:
        with patch("checkdmarc.smtp_tls_reporting.query_dns", return_value=records):
            found = module.query_smtp_tls_reporting_record(DOMAIN)
        parsed = module.parse_smtp_tls_reporting_record(found["record"])
    except module.SMTPTLSReportingError:
        return "no reports"
    uris = parsed["tags"]["rua"]["value"]
    return ", ".join(uris) + (" (warns)" if found["warnings"] or parsed["warnings"] else "")


@rows(TLSRPT)
def test_the_tlsrpt_rule_decides_each_case(row: dict[str, Any]) -> None:
    judged = tlsrpt.judge(row["records"], f"_smtp._tls.{DOMAIN}", DOMAIN)
    assert verdict(judged.findings) == row["ours"]
    assert list(judged.uris) == row.get("uris", [])
    if "code" in row:
        assert row["code"] in [finding.code for finding in judged.findings]


@rows(TLSRPT)
def test_checkdmarc_reads_each_tlsrpt_record_as_the_table_says(row: dict[str, Any]) -> None:
    assert checkdmarc_reads_tlsrpt(row["records"]) == row["checkdmarc"]


@rows(TLSRPT)
def test_no_tlsrpt_record_passes_where_checkdmarc_sends_no_reports_without_saying_why(
    row: dict[str, Any],
) -> None:
    # checkdmarc is a checker, not a sender: where it is stricter than RFC 8460 (header fields in
    # a mailto: URI, RFC 6068), the row says why we follow the RFC.
    if bool(row.get("uris")) != (row["checkdmarc"] != "no reports"):
        assert row.get("why"), row


@rows(TLSRPT)
def test_verify_judges_each_tlsrpt_case_as_the_rule_does(row: dict[str, Any]) -> None:
    findings = verify_tlsrpt.judge(DOMAIN, DnsResult(f"_smtp._tls.{DOMAIN}", "TXT", tuple(row["records"])))
    assert status(findings) == row["ours"]


@rows(TLSRPT)
def test_the_policy_pack_refuses_each_tlsrpt_record_the_rule_finds_fault_with(row: dict[str, Any]) -> None:
    resources = [record(f"_smtp._tls.{DOMAIN}", "TXT", quote_txt(text)) for text in row["records"]]
    resources.append(record(f"_mta-sts.{DOMAIN}", "TXT", quote_txt("v=STSv1; id=abc")))
    violations = check("tls-rpt-record-present", resources) + check(
        "one-discovery-record-per-domain", resources
    )
    faults = [f for f in tlsrpt.judge(row["records"]).findings if f.code != tlsrpt.UNRELATED]
    assert bool(violations) == bool(faults), [v.message for v in violations]
    judged = tlsrpt.judge(row["records"], f"_smtp._tls.{DOMAIN}", DOMAIN)
    for finding in [f for f in judged.findings if f.code == tlsrpt.MISSING]:
        assert any(finding.text() in violation.message for violation in violations)


@rows(TLSRPT)
def test_the_configuration_accepts_report_uris_exactly_when_the_rule_finds_nothing(
    row: dict[str, Any],
) -> None:
    judged = tlsrpt.judge(row["records"])
    uris = list(judged.uris) or [
        u for text in row["records"][:1] for u in re.split(r"[ \t]*,[ \t]*", text.partition("rua=")[2])
    ]
    clean = all(not tlsrpt.uri_findings(uri) for uri in uris)
    try:
        parse_settings({"domain": DOMAIN, "tlsRpt": uris})
        accepted = True
    except ConfigError:
        accepted = False
    assert accepted == clean


# --- MX coverage ----------------------------------------------------------------------------


@rows(MX)
def test_the_coverage_rule_matches_each_case(row: dict[str, Any]) -> None:
    assert mx_coverage.matches(row["pattern"], row["host"]) is row["matches"]


@rows(MX)
def test_checkdmarc_matches_each_case_as_the_table_says(row: dict[str, Any]) -> None:
    assert checkdmarc.mta_sts.mx_in_mta_sts_patterns(row["host"], [row["pattern"]]) is row["checkdmarc"]
    if row["checkdmarc"] != row["matches"]:
        assert row.get("why"), row


@rows(MX)
def test_verify_and_the_policy_agree_with_the_coverage_rule(row: dict[str, Any]) -> None:
    policy = Policy(mode=Mode.ENFORCE, max_age=86_400, mx=(row["pattern"],))
    assert policy.covers(row["host"]) is row["matches"]
    [finding] = verify_mx_coverage.judge(DOMAIN, [row["host"]], policy)
    assert finding.status is (Status.PASS if row["matches"] else Status.FAIL)


@rows(MX)
def test_the_policy_pack_agrees_with_the_coverage_rule(row: dict[str, Any]) -> None:
    text = Policy(mode=Mode.ENFORCE, max_age=86_400, mx=(row["pattern"].lower(),)).render()
    resources = [
        Res(REPOSITORY_FILE, "policy", {"repository": "r", "file": POLICY_PATH, "content": text}),
        record(f"_mta-sts.{DOMAIN}", "TXT", quote_txt("v=STSv1; id=abc")),
        record(DOMAIN, "MX", row["host"], 10),
    ]
    assert bool(check("mx-hosts-covered-by-policy", resources)) is not row["matches"]


@rows([row for row in MX if row["host"] in ("mail.protonmail.ch", "mailsec.protonmail.ch")])
def test_the_configuration_agrees_with_the_coverage_rule_for_proton(row: dict[str, Any]) -> None:
    proton = {"verification": VERIFICATION, "dkim": DKIM}
    try:
        parse_settings({"domain": DOMAIN, "mode": "enforce", "mx": [row["pattern"]], "proton": proton})
        problems: list[str] = []
    except ConfigError as error:
        problems = error.problems
    covered = not any(f"MX host {row['host']} " in problem for problem in problems)
    assert covered is row["matches"]


# --- Which TXT texts are SPF ----------------------------------------------------------------


@rows(SPF)
def test_spf_records_are_told_apart_by_the_rule_and_checkdmarc_alike(row: dict[str, Any]) -> None:
    assert mail.is_spf(row["text"]) is row["spf"]
    assert checkdmarc.spf._is_spf_record(row["text"]) is row["checkdmarc"]


@rows(SPF)
def test_adoption_verify_and_the_pack_count_spf_records_by_the_rule(row: dict[str, Any]) -> None:
    assert (txt_kind(row["text"]) == "spf") is row["spf"]
    host = f"mta-sts.{DOMAIN}"
    findings = verify_policy_host.spf(host, DnsResult(host, "TXT", ("v=spf1 -all", row["text"])))
    # A second SPF record beside `v=spf1 -all` is a finding; any other text is not SPF at all.
    assert (status(findings) == "warn") is row["spf"]
    resources = [
        record(f"_mta-sts.{DOMAIN}", "TXT", quote_txt("v=STSv1; id=abc")),
        record(host, "MX", ".", 0),
        record(host, "TXT", quote_txt("v=spf1 -all")),
        record(host, "TXT", quote_txt(row["text"])),
    ]
    assert bool(check("policy-host-refuses-mail", resources)) is row["spf"]


# --- The policy host's null MX --------------------------------------------------------------

HOST_MX = table("policy_host")
HOST = f"mta-sts.{DOMAIN}"


@rows(HOST_MX)
def test_the_null_mx_rule_decides_each_case(row: dict[str, Any]) -> None:
    findings = policy_host.null_mx(HOST, [tuple(pair) for pair in row["mx"]])
    assert verdict(findings) == row["ours"]
    if "code" in row:
        assert row["code"] in [finding.code for finding in findings]


@rows(HOST_MX)
def test_verify_and_the_pack_judge_the_policy_hosts_mx_as_the_rule_does(row: dict[str, Any]) -> None:
    answer = DnsResult(HOST, "MX", tuple(f"{preference} {exchange}" for preference, exchange in row["mx"]))
    assert status(verify_policy_host.null_mx(HOST, answer)) == row["ours"]
    resources = [
        record(f"_mta-sts.{DOMAIN}", "TXT", quote_txt("v=STSv1; id=abc")),
        record(HOST, "TXT", quote_txt("v=spf1 -all")),
        *(record(HOST, "MX", exchange, preference) for preference, exchange in row["mx"]),
    ]
    assert bool(check("policy-host-refuses-mail", resources)) == (row["ours"] != "pass")


@rows(HOST_MX)
def test_adoption_keeps_a_null_mx_and_refuses_any_other_mx_at_the_policy_host(row: dict[str, Any]) -> None:
    state = desired_state(parse_settings({"domain": DOMAIN}))
    zone = [
        ExistingRecord(f"mx{index}", HOST, "MX", exchange, preference)
        for index, (preference, exchange) in enumerate(row["mx"])
    ]
    plan = plan_adoption(state.records, zone)
    assert {c.record.content for c in plan.conflicts} == {x for _, x in row["mx"] if x != "."}


# --- One HTTPS answer for the policy --------------------------------------------------------

FETCHES = table("policy_fetch")


def answer_of(row: dict[str, Any]) -> policy_fetch.Response:
    body = None if row["body"] is None else row["body"].encode("utf-8")
    return policy_fetch.Response(
        row["status"], row.get("location"), row.get("content_type"), body, bool(row.get("too_large"))
    )


def postfix_takes(row: dict[str, Any]) -> str:
    """postfix-mta-sts-resolver's resolver.py from the response on: 200, text/plain, the size
    limit, then the body decoded by the response's charset, ASCII when none is given."""
    answer = answer_of(row)
    body = b"x" * (resolver.HARD_RESP_LIMIT + 1) if answer.body is None else answer.body
    if answer.status != 200 or not resolver_utils.is_plaintext(answer.content_type or ""):
        return "no policy"
    if len(body) > resolver.HARD_RESP_LIMIT:
        return "no policy"
    charset = answer.content_type.partition("charset=")[2].strip() if answer.content_type else ""
    try:
        body.decode(charset or "ascii")
    except UnicodeDecodeError:
        return "no policy"
    return "policy"


def checkdmarc_takes(row: dict[str, Any]) -> str:
    answer = answer_of(row)
    headers = CaseInsensitiveDict({"Content-Type": answer.content_type} if answer.content_type else {})
    body = (answer.body or b"").decode("utf-8")
    response = SimpleNamespace(status_code=answer.status, headers=headers, text=body)
    try:
        with patch("requests.Session.get", return_value=response):
            downloaded = checkdmarc.mta_sts.download_mta_sts_policy(DOMAIN)
    except checkdmarc.mta_sts.MTASTSPolicyDownloadError:
        return "invalid"
    return "warns" if downloaded["warnings"] else "valid"


def test_every_fetch_row_cites_its_source_and_every_difference_says_why() -> None:
    for row in FETCHES:
        assert row.get("source"), row
        senders = [row["postfix"], row["checkdmarc"]]
        if row["ours"] == "fail" and any(s not in ("no policy", "invalid") for s in senders):
            assert row.get("why"), f"we fail what a sender accepts, with no reason: {row}"


@rows(FETCHES)
def test_the_fetch_rule_decides_each_case_and_the_senders_agree(row: dict[str, Any]) -> None:
    findings = policy_fetch.response(HOST, answer_of(row))
    assert verdict(findings) == row["ours"]
    assert [finding.code for finding in findings] == ([row["code"]] if "code" in row else [])
    assert postfix_takes(row) == row["postfix"]
    assert checkdmarc_takes(row) == row["checkdmarc"]


@pytest.mark.parametrize(("status", "hinted"), [(404, True), (204, False), (500, False)])
def test_a_404_points_at_the_missing_nojekyll_file(status: int, hinted: bool) -> None:
    # GitHub Pages' Jekyll build leaves .well-known/ out of a repository without .nojekyll,
    # which is how a hand-made Pages site most often ends up serving 404 for the policy.
    [finding] = policy_fetch.response(HOST, policy_fetch.Response(status, content_type="text/html"))
    assert finding.code == policy_fetch.STATUS
    assert ("missing .nojekyll file" in finding.fix) is hinted


def fetch_result(row: dict[str, Any]) -> FetchResult:
    answer = answer_of(row)
    return FetchResult(
        policy_url(DOMAIN),
        "192.0.2.1",
        status=answer.status,
        content_type=answer.content_type,
        location=answer.location,
        body=answer.body,
        too_large=answer.too_large,
        tls_version="TLSv1.3",
    )


@rows(FETCHES)
def test_verify_judges_each_answer_as_the_rule_does(row: dict[str, Any]) -> None:
    findings, _ = verify_policy_file.fetch(HOST, DnsResult(HOST, "A", ("192.0.2.1",)), [fetch_result(row)])
    assert status(findings) == row["ours"]
    rule = policy_fetch.response(HOST, answer_of(row), f"{policy_url(DOMAIN)} (from 192.0.2.1, TLSv1.3)")
    assert [finding.message for finding in findings if finding.status is Status.FAIL] == [
        finding.text() for finding in rule
    ]


@rows(FETCHES)
def test_the_readiness_gate_waits_while_an_address_gives_an_answer_the_rule_fails(
    row: dict[str, Any],
) -> None:
    attempt = fetch_result(row)
    findings, text = judge_fetch(HOST, [DnsResult(HOST, "A", ("192.0.2.1",))], [attempt])
    served = PolicyCheck(findings, text, (served_at(attempt, row["body"]),))
    assert served.served_everywhere is (row["ours"] != "fail")


# --- Records beside what the stack publishes ------------------------------------------------

BESIDE = table("coexistence")
PROTON_STATE = desired_state(
    parse_settings({"domain": DOMAIN, "proton": {"verification": VERIFICATION, "dkim": DKIM}})
)


def name_at(row: dict[str, Any]) -> str:
    return {"policy-host": HOST, "apex": DOMAIN, "dkim": f"protonmail._domainkey.{DOMAIN}"}[row["at"]]


def judged_beside(row: dict[str, Any]) -> list[Finding]:
    """The rule applied as adoption applies it: to what the stack publishes at the row's name."""
    name = name_at(row)
    published = [record for record in PROTON_STATE.records if record.name == name]
    if row["type"] == "A":
        addresses = {record.value for record in published if record.type == "A"}
        return [] if row["value"] in addresses else [coexistence.other_address(row["value"])]
    value = row["value"].lower().rstrip(".") or "." if row["type"] in ("MX", "CNAME") else row["value"]
    mx_hosts = {record.value for record in published if record.type == "MX"}
    return coexistence.beside({record.type for record in published}, row["type"], value, mx_hosts)


@rows(BESIDE)
def test_the_coexistence_rule_decides_each_case(row: dict[str, Any]) -> None:
    findings = judged_beside(row)
    assert verdict(findings) == row["ours"]
    assert [finding.code for finding in findings] == ([row["code"]] if "code" in row else [])


@rows(BESIDE)
def test_adoption_refuses_exactly_the_records_the_coexistence_rule_fails(row: dict[str, Any]) -> None:
    zone = [ExistingRecord("found", name_at(row), row["type"], row["value"], row.get("priority"))]
    if row["type"] == "A" and row["ours"] == "fail":
        # Alone, it would be adopted and updated in place: the rule is about one more address.
        own = [record for record in PROTON_STATE.records if record.type == "A"]
        zone += [ExistingRecord(f"own-{record.key}", record.name, "A", record.value) for record in own]
    plan = plan_adoption(PROTON_STATE.records, zone)
    assert [conflict.reason for conflict in plan.conflicts] == [
        f"{finding.text()}; delete it" for finding in judged_beside(row)
    ]
