"""The CrossGuard pack (policy/): each rule alone, then the whole pack over the real program.

Validators are called the way the SDK's analyzer calls them (`ResourceValidationArgs` and
`StackValidationArgs` around props wrapped in `unknown_checking_proxy`, camelCase wire
names), so unknown values behave as in `pulumi preview`. The second half runs the pack over
what __main__.py registers under mocks for every `Pulumi.*.yaml` and both hostings: it must
pass, and each broken invariant must make its own rule fire.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_mta_sts.args import MtaStsDomainArgs
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    _PolicyAnalyzerServicer,
)
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from mtasts.config import PROTON_MX, parse_settings
from mtasts.config import schema as settings_schema
from mtasts.desired import desired_state
from mtasts.policy import POLICY_PATH, policy_id
from mtasts.records import quote_txt, unquote_txt
from mtasts.stackfile import read_stack_file, settings_keys
from policy.registry import all_policies
from policy.validators.policy_file import MX_INPUT
from policy.view import (
    DNS_RECORD,
    NETLIFY_SITE,
    POLICY_READINESS,
    REPOSITORY,
    REPOSITORY_FILE,
    REPOSITORY_PAGES,
)
from tests.proton_values import realistic
from tests.pulumi_mocks import PROJECT_DIR, run_program

POLICIES = {policy.name: policy for policy in all_policies()}
DOMAIN = "example.com"
PROTON = {
    "verification": "9f2c41d07be35a86",
    "dkim": {
        selector: f"{selector}.domainkey.d4kq2v7xwz5tbn3c8.domains.proton.ch"
        for selector in ("protonmail", "protonmail2", "protonmail3")
    },
}


@dataclass
class Res:
    """A resource as a test builds or mutates it; `props` use the wire (camelCase) names."""

    type: str
    name: str
    props: dict[str, Any]
    protect: bool = False

    @property
    def urn(self) -> str:
        return f"urn:pulumi:test::mta-sts::{self.type}::{self.name}"


def _options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def resource_args(res: Res, config: dict[str, Any] | None = None) -> ResourceValidationArgs:
    """As `_PolicyAnalyzerServicer.Analyze` builds them."""
    props = unknown_checking_proxy(copy.deepcopy(res.props))
    return ResourceValidationArgs(res.type, props, res.urn, res.name, _options(res.protect), None, config)


def stack_args(resources: list[Res], config: dict[str, Any] | None = None) -> StackValidationArgs:
    """As `_PolicyAnalyzerServicer.AnalyzeStack` builds them."""
    policy_resources = [
        PolicyResource(
            r.type,
            unknown_checking_proxy(copy.deepcopy(r.props)),
            r.urn,
            r.name,
            _options(r.protect),
            None,
            None,
            [],
            {},
        )
        for r in resources
    ]
    return StackValidationArgs(policy_resources, config)


@dataclass
class Violation:
    rule: str
    message: str
    urn: str | None


def check(rule: str, resources: list[Res], config: dict[str, Any] | None = None) -> list[Violation]:
    """Run one rule as the engine would: a stack rule once, a resource rule per resource."""
    policy = POLICIES[rule]
    found: list[Violation] = []

    def report_for(urn: str | None) -> Callable[[str, str | None], None]:
        def report(message: str, violation_urn: str | None = None) -> None:
            found.append(Violation(rule, message, violation_urn or urn))

        return report

    if isinstance(policy, StackValidationPolicy):
        policy.validate(stack_args(resources, config), report_for(None))
    else:
        assert isinstance(policy, ResourceValidationPolicy)
        for res in resources:
            policy.validate(resource_args(res, config), report_for(res.urn))
    return found


def names_both_places_mx_is_set(message: str) -> bool:
    """This repository's program takes mx from the stack config; another program passes it to
    its MtaStsDomain. A fix for an MX host names both, and the names are the ones users type."""
    return "the stack's `mx` config" in message and "the MtaStsDomain `mx` argument" in message


def test_the_mx_names_in_the_fixes_are_the_stack_key_and_the_component_argument() -> None:
    named = set(re.findall(r"`(\w+)`", MX_INPUT))
    assert named == {"mx"}
    # The stack config keys are the component's schema inputs (test_provider_schema.py), the
    # name every SDK derives its own from; Python's is the field of MtaStsDomainArgs.
    assert named <= set(settings_schema.declared()) and named <= set(MtaStsDomainArgs.__annotations__)


def check_all(resources: list[Res]) -> list[Violation]:
    return [violation for rule in POLICIES for violation in check(rule, resources)]


def mandatory(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if POLICIES[v.rule].enforcement_level is EnforcementLevel.MANDATORY]


def fired(violations: list[Violation]) -> set[str]:
    return {violation.rule for violation in violations}


def core_stack(
    *,
    hosting: str = "netlify",
    mode: str = "testing",
    max_age: int = 604_800,
    mx: tuple[str, ...] = PROTON_MX,
    tls_rpt: tuple[str, ...] = (f"mailto:tls-reports@{DOMAIN}",),
    domain: str = DOMAIN,
    **config: Any,
) -> list[Res]:
    """The resources a correct stack holds, built from the core's desired state, not the program."""
    raw: dict[str, Any] = {
        "domain": domain,
        "mode": mode,
        "maxAge": max_age,
        "mx": list(mx),
        "hosting": hosting,
    }
    if tls_rpt:
        raw["tlsRpt"] = list(tls_rpt)
    settings = parse_settings({**raw, **config})
    state = desired_state(settings)
    resources = [
        Res(
            DNS_RECORD,
            f"{domain}-{record.key}",
            {
                "zoneId": "zone",
                "name": record.name,
                "type": record.type,
                "content": record.content,
                "ttl": record.ttl,
                "proxied": False,
                **({"priority": record.priority} if record.priority is not None else {}),
            },
        )
        for record in state.records
    ]
    resources.append(Res(REPOSITORY, f"{domain}-repository", {"name": settings.repository}))
    resources += [
        Res(
            REPOSITORY_FILE,
            f"{domain}-file-{path}",
            {"repository": settings.repository, "branch": "main", "file": path, "content": content},
        )
        for path, content in state.files.items()
    ]
    if hosting == "github-pages":
        resources.append(
            Res(
                REPOSITORY_PAGES,
                f"{domain}-pages",
                {
                    "repository": settings.repository,
                    "cname": settings.policy_host,
                    "buildType": "legacy",
                    "source": {"branch": "main", "path": "/"},
                },
            )
        )
    else:
        resources.append(
            Res(
                NETLIFY_SITE,
                f"{domain}-site",
                {"custom_domain": settings.policy_host, "files": dict(state.files)},
            )
        )
    resources.append(
        Res(
            POLICY_READINESS,
            f"{domain}-readiness",
            {"domain": domain, "policy_text": state.policy_text, "policy_id": state.policy_id},
        )
    )
    return resources


def find(resources: list[Res], type_: str, **props: Any) -> Res:
    matches = [r for r in resources if r.type == type_ and all(r.props.get(k) == v for k, v in props.items())]
    assert len(matches) == 1, f"expected one {type_} with {props}, found {[m.name for m in matches]}"
    return matches[0]


def record(name: str, type_: str, content: str, priority: int | None = None, **extra: Any) -> Res:
    props: dict[str, Any] = {"zoneId": "zone", "name": name, "type": type_, "content": content, "ttl": 300}
    if priority is not None:
        props["priority"] = priority
    props.update(extra)
    return Res(DNS_RECORD, f"extra-{type_.lower()}-{name}-{content}"[:80], props)


def policy_file(resources: list[Res]) -> Res:
    return find(resources, REPOSITORY_FILE, file=POLICY_PATH)


def set_policy_text(resources: list[Res], text: str) -> None:
    """Change the published policy everywhere the stack publishes it, and the id with it."""
    policy_file(resources).props["content"] = text
    for res in resources:
        if res.type == NETLIFY_SITE:
            res.props["files"][POLICY_PATH] = text
        if res.type == POLICY_READINESS:
            res.props.update(policy_text=text, policy_id=policy_id(text))
    find(resources, DNS_RECORD, name=f"_mta-sts.{DOMAIN}").props["content"] = quote_txt(
        f"v=STSv1; id={policy_id(text)}"
    )


# --- The pack's shape ----------------------------------------------------------------------


def test_the_pack_has_exactly_its_rules_at_their_levels() -> None:
    levels = {name: policy.enforcement_level for name, policy in POLICIES.items()}
    assert levels == {
        "policy-file-is-valid": EnforcementLevel.MANDATORY,
        "discovery-id-matches-policy": EnforcementLevel.MANDATORY,
        "one-discovery-record-per-domain": EnforcementLevel.MANDATORY,
        "mx-hosts-covered-by-policy": EnforcementLevel.MANDATORY,
        "live-mx-hosts-covered-by-policy": EnforcementLevel.MANDATORY,
        "live-mx-hosts-covered-in-testing": EnforcementLevel.ADVISORY,
        "live-mx-hosts-tls-valid": EnforcementLevel.MANDATORY,
        "live-mx-hosts-tls-in-testing": EnforcementLevel.ADVISORY,
        "policy-host-dns-only": EnforcementLevel.MANDATORY,
        "policy-host-refuses-mail": EnforcementLevel.MANDATORY,
        "pages-repository-has-nojekyll": EnforcementLevel.MANDATORY,
        "dns-record-names-are-full": EnforcementLevel.MANDATORY,
        "enforce-max-age-at-least-minimum": EnforcementLevel.ADVISORY,
        "tls-rpt-record-present": EnforcementLevel.ADVISORY,
        "mode-none-is-a-removal-step": EnforcementLevel.ADVISORY,
        "policy-repository-protected": EnforcementLevel.ADVISORY,
    }


def test_rule_names_are_kebab_case_and_every_rule_has_a_description() -> None:
    assert len(POLICIES) == len(all_policies())
    for name, policy in POLICIES.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name
        assert policy.description.strip(), name


def test_the_configurable_rules_declare_their_defaults_in_the_schema() -> None:
    max_age_schema = POLICIES["enforce-max-age-at-least-minimum"].config_schema
    mx_schema = POLICIES["policy-file-is-valid"].config_schema
    assert max_age_schema is not None and max_age_schema.properties["minimumMaxAge"]["default"] == 86_400
    assert mx_schema is not None and mx_schema.properties["allowedMxPatterns"]["default"] == []


def test_the_entry_point_starts_the_analyzer_as_pulumi_runs_it(tmp_path: Path) -> None:
    """`pulumi.policy` runs `runpy.run_path(<pack dir>)` from elsewhere; the pack must import and serve."""
    script = f"import runpy; runpy.run_path({str(PROJECT_DIR / 'policy')!r}, run_name='__main__')"
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"expected the analyzer's port, got {port!r}; stderr: {process.stderr}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_unquote_txt_reads_back_what_quote_txt_wrote() -> None:
    for text in ("v=STSv1; id=abc", 'with "quotes" and \\', "x" * 600, ""):
        assert unquote_txt(quote_txt(text)) == text
    assert unquote_txt("v=spf1 -all") == "v=spf1 -all"  # typed without quotes in the dashboard


# --- Each rule alone -----------------------------------------------------------------------


@pytest.mark.parametrize("hosting", ["netlify", "github-pages"])
@pytest.mark.parametrize("mode", ["testing", "enforce", "none"])
def test_a_correct_stack_has_no_mandatory_violation(hosting: str, mode: str) -> None:
    assert mandatory(check_all(core_stack(hosting=hosting, mode=mode))) == []


class TestPolicyFileIsValid:
    rule = "policy-file-is-valid"

    def test_a_policy_without_mx_in_testing_mode_is_rejected(self) -> None:
        stack = core_stack()
        policy_file(stack).props["content"] = "version: STSv1\nmode: testing\nmax_age: 86400\n"
        [violation] = check(self.rule, [policy_file(stack)])
        assert "'mx' is required" in violation.message
        assert violation.urn == policy_file(stack).urn
        assert "the MtaStsDomain arguments in other programs" in violation.message

    def test_the_copy_netlify_serves_is_checked_too(self) -> None:
        stack = core_stack()
        site = find(stack, NETLIFY_SITE)
        site.props["files"][POLICY_PATH] = "version: STSv2\nmode: enforce\nmx: a.example.net\nmax_age: 1\n"
        [violation] = check(self.rule, stack)
        assert "Netlify" in violation.message and "STSv1" in violation.message

    def test_other_repository_files_are_not_policies(self) -> None:
        stack = core_stack()
        assert check(self.rule, [find(stack, REPOSITORY_FILE, file="README.md")]) == []

    def test_unknown_or_missing_content_is_skipped(self) -> None:
        unknown = Res(REPOSITORY_FILE, "f", {"file": POLICY_PATH, "content": UNKNOWN_STRING_VALUE})
        missing = Res(REPOSITORY_FILE, "g", {"file": POLICY_PATH})
        assert check(self.rule, [unknown, missing]) == []

    def test_mx_patterns_outside_the_teams_allowed_list_are_rejected(self) -> None:
        stack = [policy_file(core_stack(mx=("mx.other-provider.net",)))]
        [violation] = check(self.rule, stack, {"allowedMxPatterns": ["*.protonmail.ch"]})
        assert "mx.other-provider.net" in violation.message and "allowedMxPatterns" in violation.message
        assert names_both_places_mx_is_set(violation.message)

    def test_a_wildcard_in_the_allowed_list_allows_the_hosts_it_matches(self) -> None:
        stack = [policy_file(core_stack())]
        assert check(self.rule, stack, {"allowedMxPatterns": ["*.protonmail.ch"]}) == []
        assert check(self.rule, stack, {"allowedMxPatterns": []}) == []


class TestDiscoveryIdMatchesPolicy:
    rule = "discovery-id-matches-policy"

    def test_a_stale_id_is_rejected_and_names_both_ids(self) -> None:
        stack = core_stack()
        discovery = find(stack, DNS_RECORD, name=f"_mta-sts.{DOMAIN}")
        discovery.props["content"] = quote_txt("v=STSv1; id=stale1")
        violations = check(self.rule, stack)
        assert violations and all(v.urn == discovery.urn for v in violations)
        assert "stale1" in violations[0].message
        assert policy_id(policy_file(stack).props["content"]) in violations[0].message

    def test_a_changed_policy_file_with_the_old_id_is_rejected(self) -> None:
        stack = core_stack()
        policy_file(stack).props["content"] = policy_file(stack).props["content"].replace("604800", "86400")
        [violation] = check(self.rule, stack)
        assert f"{POLICY_PATH} in repository" in violation.message

    def test_an_unreadable_discovery_record_is_rejected(self) -> None:
        stack = core_stack()
        find(stack, DNS_RECORD, name=f"_mta-sts.{DOMAIN}").props["content"] = '"v=STSv1; id=not-alnum!"'
        [violation] = check(self.rule, stack)
        assert "letters and digits" in violation.message

    def test_an_unknown_discovery_content_or_policy_is_skipped(self) -> None:
        stack = core_stack()
        find(stack, DNS_RECORD, name=f"_mta-sts.{DOMAIN}").props["content"] = UNKNOWN_STRING_VALUE
        assert check(self.rule, stack) == []
        stack = core_stack()
        set_policy_text(stack, "version: STSv1\nmode: testing\nmx: mail.protonmail.ch\nmax_age: 86400\n")
        policy_file(stack).props["content"] = UNKNOWN_STRING_VALUE
        assert check(self.rule, stack) == []

    def test_an_unquoted_record_typed_by_hand_is_read_like_a_quoted_one(self) -> None:
        stack = core_stack()
        discovery = find(stack, DNS_RECORD, name=f"_mta-sts.{DOMAIN}")
        discovery.props["content"] = unquote_txt(discovery.props["content"])
        assert check(self.rule, stack) == []


class TestOneDiscoveryRecordPerDomain:
    rule = "one-discovery-record-per-domain"

    def test_a_second_sts_record_is_rejected(self) -> None:
        stack = core_stack()
        extra = record(f"_mta-sts.{DOMAIN}", "TXT", quote_txt("v=STSv1; id=old1"))
        [violation] = check(self.rule, [*stack, extra])
        assert "2 'v=STSv1' records" in violation.message

    def test_a_non_sts_txt_at_the_discovery_name_does_not_count(self) -> None:
        # RFC 8461 §3.1: records not starting with v=STSv1 are discarded by senders.
        extra = record(f"_mta-sts.{DOMAIN}", "TXT", quote_txt("some-verification=1"))
        assert check(self.rule, [*core_stack(), extra]) == []

    def test_a_missing_sts_record_is_rejected(self) -> None:
        stack = [r for r in core_stack() if r.props.get("name") != f"_mta-sts.{DOMAIN}"]
        [violation] = check(self.rule, stack)
        assert f"_mta-sts.{DOMAIN} has no 'v=STSv1' record" in violation.message

    def test_a_second_tls_rpt_record_is_rejected_but_none_is_allowed(self) -> None:
        extra = record(f"_smtp._tls.{DOMAIN}", "TXT", quote_txt("v=TLSRPTv1; rua=mailto:x@example.net"))
        [violation] = check(self.rule, [*core_stack(), extra])
        assert "v=TLSRPTv1" in violation.message
        assert check(self.rule, core_stack(tls_rpt=())) == []

    def test_records_of_unknown_content_are_not_counted_against_the_domain(self) -> None:
        extra = record(f"_mta-sts.{DOMAIN}", "TXT", UNKNOWN_STRING_VALUE)
        assert check(self.rule, [*core_stack(), extra]) == []


class TestMxHostsCoveredByPolicy:
    rule = "mx-hosts-covered-by-policy"

    def apex_mx(self, host: str, priority: int = 10) -> Res:
        return record(DOMAIN, "MX", host, priority)

    @pytest.mark.parametrize("mode", ["testing", "enforce"])
    def test_an_mx_host_outside_the_policy_is_rejected(self, mode: str) -> None:
        extra = self.apex_mx("mx.elsewhere.net")
        [violation] = check(self.rule, [*core_stack(mode=mode), extra])
        assert "mx.elsewhere.net" in violation.message and violation.urn == extra.urn
        assert names_both_places_mx_is_set(violation.message) and "(RFC 8461 §8)" in violation.message

    def test_the_proton_mx_records_issue_5_adds_are_covered(self) -> None:
        extras = [self.apex_mx("mail.protonmail.ch", 10), self.apex_mx("mailsec.protonmail.ch", 20)]
        assert check(self.rule, [*core_stack(mode="enforce"), *extras]) == []

    def test_wildcard_patterns_cover_one_label_only(self) -> None:
        stack = core_stack(mode="enforce", mx=("*.example.net",))
        assert check(self.rule, [*stack, self.apex_mx("a.example.net")]) == []
        assert len(check(self.rule, [*stack, self.apex_mx("a.b.example.net")])) == 1

    def test_mode_none_checks_nothing(self) -> None:
        assert check(self.rule, [*core_stack(mode="none"), self.apex_mx("mx.elsewhere.net")]) == []

    def test_mx_records_of_other_names_and_unknown_hosts_are_ignored(self) -> None:
        extras = [record(f"shop.{DOMAIN}", "MX", "mx.elsewhere.net", 10), self.apex_mx(UNKNOWN_STRING_VALUE)]
        assert check(self.rule, [*core_stack(mode="enforce"), *extras]) == []


class TestPolicyHostDnsOnly:
    rule = "policy-host-dns-only"

    def test_a_proxied_policy_host_record_is_rejected(self) -> None:
        stack = core_stack()
        a_record = find(stack, DNS_RECORD, name=f"mta-sts.{DOMAIN}", type="A")
        a_record.props["proxied"] = True
        [violation] = check(self.rule, stack)
        assert "proxied" in violation.message and violation.urn == a_record.urn

    def test_a_cname_at_the_policy_host_is_rejected(self) -> None:
        extra = record(f"mta-sts.{DOMAIN}", "CNAME", "site.netlify.app")
        [violation] = check(self.rule, [extra])
        assert "CNAME" in violation.message

    def test_a_label_only_name_is_still_the_policy_host(self) -> None:
        assert len(check(self.rule, [record("mta-sts", "A", "192.0.2.1", proxied=True)])) == 1

    def test_proxied_records_elsewhere_are_not_this_rules_business(self) -> None:
        assert check(self.rule, [record(f"www.{DOMAIN}", "A", "192.0.2.1", proxied=True)]) == []

    def test_unknown_and_missing_proxied_pass(self) -> None:
        unknown = record(f"mta-sts.{DOMAIN}", "A", "192.0.2.1", proxied=UNKNOWN_BOOLEAN_VALUE)
        missing = record(f"mta-sts.{DOMAIN}", "A", "192.0.2.2")  # Cloudflare's default is DNS-only
        nameless = Res(DNS_RECORD, "nameless", {"type": "A", "content": "192.0.2.3", "proxied": True})
        assert check(self.rule, [unknown, missing, nameless]) == []


class TestPolicyHostRefusesMail:
    rule = "policy-host-refuses-mail"

    def without(self, key_type: str, content: str) -> list[Res]:
        return [
            r
            for r in core_stack()
            if not (r.props.get("type") == key_type and r.props.get("content") == content)
        ]

    def test_a_missing_null_mx_is_rejected(self) -> None:
        [violation] = check(self.rule, self.without("MX", "."))
        assert "null MX" in violation.message

    def test_a_missing_spf_is_rejected(self) -> None:
        [violation] = check(self.rule, self.without("TXT", quote_txt("v=spf1 -all")))
        assert "v=spf1 -all" in violation.message

    def test_a_real_mx_or_a_second_spf_beside_them_is_rejected(self) -> None:
        extras = [
            record(f"mta-sts.{DOMAIN}", "MX", "mail.protonmail.ch", 10),
            record(f"mta-sts.{DOMAIN}", "TXT", quote_txt("v=spf1 include:_spf.protonmail.ch ~all")),
        ]
        assert len(check(self.rule, [*core_stack(), *extras])) == 2

    def test_unknown_content_at_the_host_skips_the_check(self) -> None:
        stack = self.without("MX", ".")
        find(stack, DNS_RECORD, name=f"mta-sts.{DOMAIN}", type="A").props["content"] = UNKNOWN_STRING_VALUE
        assert check(self.rule, stack) == []


class TestPagesRepositoryHasNojekyll:
    rule = "pages-repository-has-nojekyll"

    def test_pages_without_nojekyll_is_rejected(self) -> None:
        stack = [r for r in core_stack(hosting="github-pages") if r.props.get("file") != ".nojekyll"]
        [violation] = check(self.rule, stack)
        assert ".nojekyll" in violation.message and violation.urn == find(stack, REPOSITORY_PAGES).urn

    def test_nojekyll_in_another_repository_does_not_count(self) -> None:
        stack = core_stack(hosting="github-pages")
        find(stack, REPOSITORY_FILE, file=".nojekyll").props["repository"] = "some-other-repository"
        assert len(check(self.rule, stack)) == 1

    def test_netlify_hosting_needs_no_nojekyll(self) -> None:
        assert check(self.rule, core_stack(hosting="netlify")) == []

    def test_an_unknown_repository_name_is_given_the_benefit_of_the_doubt(self) -> None:
        stack = core_stack(hosting="github-pages")
        for res in stack:
            if res.type in (REPOSITORY_FILE, REPOSITORY_PAGES):
                res.props["repository"] = UNKNOWN_STRING_VALUE
        assert check(self.rule, stack) == []


class TestDnsRecordNamesAreFull:
    rule = "dns-record-names-are-full"

    @pytest.mark.parametrize("label", ["mta-sts", "_mta-sts", "@", "_smtp._tls"])
    def test_a_label_is_rejected(self, label: str) -> None:
        extra = record(label, "TXT", quote_txt("v=spf1 -all"))
        [violation] = check(self.rule, [*core_stack(), extra])
        assert repr(label) in violation.message and violation.urn == extra.urn

    def test_a_name_relative_to_a_parent_zone_is_rejected(self) -> None:
        stack = core_stack(domain="staging.example.com")
        extra = record("mta-sts.staging", "A", "192.0.2.1")
        assert len(check(self.rule, [*stack, extra])) == 1

    def test_full_names_including_the_apex_pass(self) -> None:
        assert check(self.rule, [*core_stack(), record(DOMAIN, "MX", "mail.protonmail.ch", 10)]) == []

    def test_without_a_known_domain_a_bare_label_is_still_rejected(self) -> None:
        assert len(check(self.rule, [record("mta-sts", "A", "192.0.2.1")])) == 1
        assert check(self.rule, [record("mta-sts.example.org", "A", "192.0.2.1")]) == []

    def test_unknown_and_missing_names_are_skipped(self) -> None:
        unknown = record(UNKNOWN_STRING_VALUE, "A", "192.0.2.1")
        missing = Res(DNS_RECORD, "nameless", {"type": "A", "content": "192.0.2.1"})
        assert check(self.rule, [*core_stack(), unknown, missing]) == []


class TestEnforceMaxAgeAtLeastMinimum:
    rule = "enforce-max-age-at-least-minimum"

    def test_enforce_under_a_day_is_advised_against(self) -> None:
        [violation] = check(self.rule, core_stack(mode="enforce", max_age=3600))
        assert "3600" in violation.message and "86400" in violation.message
        # The fix for both kinds of program: the stack's config key and the component's argument.
        assert "`scripts/pulumi config set maxAge 604800`" in violation.message
        assert "MtaStsDomain `maxAge` argument (`max_age` in Python)" in violation.message

    def test_a_day_or_testing_mode_passes(self) -> None:
        assert check(self.rule, core_stack(mode="enforce", max_age=86_400)) == []
        assert check(self.rule, core_stack(mode="testing", max_age=60)) == []

    def test_the_minimum_comes_from_the_pack_config(self) -> None:
        stack = core_stack(mode="enforce", max_age=86_400)
        assert len(check(self.rule, stack, {"minimumMaxAge": 604_800})) == 1
        # Pulumi hands config numbers over as floats (protobuf Struct).
        assert check(self.rule, core_stack(mode="enforce", max_age=3600), {"minimumMaxAge": 3600.0}) == []


class TestTlsRptRecordPresent:
    rule = "tls-rpt-record-present"

    def test_no_tls_rpt_record_is_advised_against(self) -> None:
        [violation] = check(self.rule, core_stack(tls_rpt=()))
        assert "tlsRpt" in violation.message and violation.urn is None

    def test_an_invalid_tls_rpt_record_is_advised_against(self) -> None:
        stack = core_stack()
        tls = find(stack, DNS_RECORD, name=f"_smtp._tls.{DOMAIN}")
        tls.props["content"] = quote_txt("v=TLSRPTv1; rua=ftp://reports.example.com")
        [violation] = check(self.rule, stack)
        assert "ftp://" in violation.message and violation.urn == tls.urn

    def test_a_valid_record_passes_and_an_unknown_one_is_skipped(self) -> None:
        assert check(self.rule, core_stack()) == []
        stack = core_stack()
        find(stack, DNS_RECORD, name=f"_smtp._tls.{DOMAIN}").props["content"] = UNKNOWN_STRING_VALUE
        assert check(self.rule, stack) == []


class TestModeNoneIsARemovalStep:
    rule = "mode-none-is-a-removal-step"

    def test_mode_none_says_what_the_removal_procedure_expects_next(self) -> None:
        [violation] = check(self.rule, core_stack(mode="none"))
        assert "max_age" in violation.message and "pulumi destroy" in violation.message

    def test_testing_and_enforce_pass(self) -> None:
        assert check(self.rule, core_stack(mode="testing") + core_stack(mode="enforce")) == []


class TestPolicyRepositoryProtected:
    rule = "policy-repository-protected"

    def test_an_unprotected_repository_is_advised_against(self) -> None:
        [violation] = check(self.rule, core_stack())
        assert "archive_on_destroy" in violation.message

    @pytest.mark.parametrize(
        "change", [{"props": {"archiveOnDestroy": True}}, {"protect": True}], ids=["archive", "protect"]
    )
    def test_archive_on_destroy_or_protect_counts_as_protection(self, change: dict[str, Any]) -> None:
        repository = find(core_stack(), REPOSITORY)
        repository.props.update(change.get("props", {}))
        repository.protect = change.get("protect", False)
        assert check(self.rule, [repository]) == []

    def test_an_unknown_archive_on_destroy_is_skipped(self) -> None:
        repository = Res(REPOSITORY, "repo", {"name": "r", "archiveOnDestroy": UNKNOWN_BOOLEAN_VALUE})
        assert check(self.rule, [repository]) == []


def test_the_proton_mail_records_pass_the_pack_beside_the_policy() -> None:
    stack = core_stack(mode="enforce", proton=PROTON)
    assert any(r.props.get("type") == "MX" and r.props.get("name") == DOMAIN for r in stack)
    assert mandatory(check_all(stack)) == []


def test_a_retired_stack_passes_and_is_told_what_comes_next() -> None:
    violations = check_all(core_stack(mode="enforce", retire=True))
    assert mandatory(violations) == []
    assert "mode-none-is-a-removal-step" in fired(violations)


def test_two_domains_in_one_stack_are_judged_each_against_its_own_policy() -> None:
    first = core_stack(domain="example.com", mode="enforce")
    second = core_stack(domain="example.org", mode="enforce", mx=("mx.example.org",))
    both = [*first, *second]
    assert mandatory(check_all(both)) == []
    proton_for_org = record("example.org", "MX", "mail.protonmail.ch", 10)
    [violation] = check("mx-hosts-covered-by-policy", [*both, proton_for_org])
    assert "example.org" in violation.message


# --- The pack over the real program --------------------------------------------------------

STACKS = sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in PROJECT_DIR.glob("Pulumi.*.yaml"))
HOSTINGS = ["netlify", "github-pages"]


def stack_config(stack: str) -> dict[str, Any]:
    """An example stack file's settings; its Proton placeholders (refused) replaced by realistic values."""
    config = settings_keys(read_stack_file(stack, PROJECT_DIR))
    if isinstance(config.get("proton"), dict):
        config["proton"] = realistic(config["proton"])
    return config


@dataclass
class ProgramRuns:
    cache: dict[tuple[str, str, str], list[Res]] = field(default_factory=dict)

    def resources(self, stack: str, hosting: str, **overrides: Any) -> list[Res]:
        """What __main__.py registers for a stack file (with `hosting` and overrides), as Res."""
        config = {**stack_config(stack), "hosting": hosting, **overrides}
        key = (stack, hosting, repr(sorted(overrides.items())))
        if key not in self.cache:
            run = run_program(config)
            self.cache[key] = [Res(r.type, r.name, dict(r.inputs)) for r in run.resources]
        return copy.deepcopy(self.cache[key])


@pytest.fixture(scope="module")
def program() -> Iterator[ProgramRuns]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NETLIFY_AUTH_TOKEN", "test-netlify-token-not-a-secret")
        patch.chdir(PROJECT_DIR)
        yield ProgramRuns()


def test_there_is_at_least_one_example_stack() -> None:
    assert "dev" in STACKS


VARIANTS: dict[str, dict[str, Any]] = {
    "as-written": {},
    "with-proton": {"proton": PROTON},
    "retired": {"retire": True},
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("hosting", HOSTINGS)
@pytest.mark.parametrize("stack", STACKS)
def test_every_example_stack_passes_the_pack(
    program: ProgramRuns, stack: str, hosting: str, variant: str
) -> None:
    overrides = VARIANTS[variant]
    resources = program.resources(stack, hosting, **overrides)
    violations = check_all(resources)
    assert mandatory(violations) == [], f"Pulumi.{stack}.yaml with {hosting}, {variant}"
    settings = parse_settings({**stack_config(stack), "hosting": hosting, **overrides})
    repository = find(resources, REPOSITORY)
    expected_advice = {
        "tls-rpt-record-present": not settings.tls_rpt,
        "enforce-max-age-at-least-minimum": settings.policy.mode.value == "enforce"
        and settings.policy.max_age < 86_400,
        "mode-none-is-a-removal-step": settings.policy.mode.value == "none",
        # retain_on_delete is invisible to the analyzer; only archiveOnDestroy/protect count.
        "policy-repository-protected": repository.props.get("archiveOnDestroy") is not True,
    }
    assert fired(violations) == {rule for rule, expected in expected_advice.items() if expected}


def _break_proxied(resources: list[Res]) -> None:
    host = next(r for r in resources if r.type == DNS_RECORD and r.props["name"].startswith("mta-sts."))
    host.props["proxied"] = True


def _break_cname(resources: list[Res]) -> None:
    name = next(
        r.props["name"] for r in resources if r.type == DNS_RECORD and r.props["name"].startswith("mta-sts.")
    )
    resources.append(record(name, "CNAME", "example.netlify.app"))


def _discovery(resources: list[Res]) -> Res:
    return next(r for r in resources if r.type == DNS_RECORD and r.props["name"].startswith("_mta-sts."))


def _break_id(resources: list[Res]) -> None:
    _discovery(resources).props["content"] = quote_txt("v=STSv1; id=20240101")


def _break_second_sts(resources: list[Res]) -> None:
    resources.append(record(_discovery(resources).props["name"], "TXT", quote_txt("v=STSv1; id=stale")))


def _break_second_tls_rpt(resources: list[Res]) -> None:
    name = _discovery(resources).props["name"].replace("_mta-sts.", "_smtp._tls.", 1)
    resources.append(record(name, "TXT", quote_txt("v=TLSRPTv1; rua=mailto:other@example.net")))


def _break_label(resources: list[Res]) -> None:
    _discovery(resources).props["name"] = "_mta-sts"


def _break_uncovered_mx(resources: list[Res]) -> None:
    domain = _discovery(resources).props["name"].removeprefix("_mta-sts.")
    resources.append(record(domain, "MX", "mx.not-in-the-policy.net", 10))


def _break_null_mx(resources: list[Res]) -> None:
    resources.remove(next(r for r in resources if r.type == DNS_RECORD and r.props["content"] == "."))


def _break_spf(resources: list[Res]) -> None:
    spf = quote_txt("v=spf1 -all")
    resources.remove(next(r for r in resources if r.type == DNS_RECORD and r.props["content"] == spf))


def _break_policy_file(resources: list[Res]) -> None:
    policy = next(r for r in resources if r.type == REPOSITORY_FILE and r.props["file"] == POLICY_PATH)
    policy.props["content"] = "version: STSv1\nmode: enforce\nmax_age: 86400\n"


BREAKAGES: list[tuple[str, Callable[[list[Res]], None], str]] = [
    ("policy host proxied", _break_proxied, "policy-host-dns-only"),
    ("CNAME at the policy host", _break_cname, "policy-host-dns-only"),
    ("wrong id", _break_id, "discovery-id-matches-policy"),
    ("second STSv1 TXT", _break_second_sts, "one-discovery-record-per-domain"),
    ("second TLSRPTv1 TXT", _break_second_tls_rpt, "one-discovery-record-per-domain"),
    ("label instead of full name", _break_label, "dns-record-names-are-full"),
    ("MX record not covered", _break_uncovered_mx, "mx-hosts-covered-by-policy"),
    ("null MX removed", _break_null_mx, "policy-host-refuses-mail"),
    ("SPF removed", _break_spf, "policy-host-refuses-mail"),
    ("policy file without mx", _break_policy_file, "policy-file-is-valid"),
]


@pytest.mark.parametrize("hosting", HOSTINGS)
@pytest.mark.parametrize(
    ("breakage", "rule"), [(b, r) for _, b, r in BREAKAGES], ids=[n for n, _, _ in BREAKAGES]
)
def test_breaking_an_invariant_of_the_program_makes_its_rule_fire(
    program: ProgramRuns, hosting: str, breakage: Callable[[list[Res]], None], rule: str
) -> None:
    resources = program.resources("dev", hosting, mode="enforce", maxAge=604_800)
    assert check(rule, resources) == [], "the unbroken program must pass this rule"
    breakage(resources)
    assert rule in fired(mandatory(check_all(resources)))


def test_removing_nojekyll_from_the_pages_program_makes_its_rule_fire(program: ProgramRuns) -> None:
    resources = program.resources("dev", "github-pages")
    assert check("pages-repository-has-nojekyll", resources) == []
    resources = [r for r in resources if not (r.type == REPOSITORY_FILE and r.props["file"] == ".nojekyll")]
    assert fired(mandatory(check_all(resources))) == {"pages-repository-has-nojekyll"}


def test_the_mx_records_issue_5_will_add_keep_the_program_passing(program: ProgramRuns) -> None:
    resources = program.resources("dev", "netlify", mode="enforce", maxAge=604_800)
    domain = _discovery(resources).props["name"].removeprefix("_mta-sts.")
    resources += [
        record(domain, "MX", host, priority) for host, priority in zip(PROTON_MX, (10, 20), strict=True)
    ]
    assert mandatory(check_all(resources)) == []


def test_preview_values_unknown_in_the_program_never_fail_a_rule(program: ProgramRuns) -> None:
    """Every string and boolean the program registers made unknown: no rule may report or raise."""
    resources = program.resources("dev", "github-pages")
    for res in resources:
        for key, value in res.props.items():
            if isinstance(value, bool):
                res.props[key] = UNKNOWN_BOOLEAN_VALUE
            elif isinstance(value, str) and key not in ("file",):
                res.props[key] = UNKNOWN_STRING_VALUE
    assert mandatory(check_all(resources)) == []


# --- The pack behind the analyzer protocol --------------------------------------------------


def analyzer() -> _PolicyAnalyzerServicer:
    """The servicer `PolicyPack` serves over gRPC, without the blocking server around it."""
    return _PolicyAnalyzerServicer("mta-sts", "0.1.0", all_policies(), EnforcementLevel.MANDATORY)


def wire(resources: list[Res]) -> list[proto.AnalyzerResource]:
    """Resources as the engine sends them: props in a protobuf Struct (numbers become floats)."""
    return [
        proto.AnalyzerResource(
            type=r.type,
            properties=json_format.ParseDict(r.props, struct_pb2.Struct()),
            urn=r.urn,
            name=r.name,
            options=proto.AnalyzerResourceOptions(protect=r.protect),
        )
        for r in resources
    ]


def diagnostics(servicer: _PolicyAnalyzerServicer, resources: list[Res]) -> list[proto.AnalyzeDiagnostic]:
    found = list(
        servicer.AnalyzeStack(proto.AnalyzeStackRequest(resources=wire(resources)), None).diagnostics
    )
    for resource in wire(resources):
        request = proto.AnalyzeRequest(
            type=resource.type,
            properties=resource.properties,
            urn=resource.urn,
            name=resource.name,
            options=resource.options,
        )
        found += servicer.Analyze(request, None).diagnostics
    return found


def test_the_analyzer_advertises_every_rule_with_its_level_and_config_schema() -> None:
    info = analyzer().GetAnalyzerInfo(None, None)
    advertised = {policy.name: policy for policy in info.policies}
    assert set(advertised) == set(POLICIES)
    assert advertised["policy-host-dns-only"].enforcementLevel == proto.MANDATORY
    assert advertised["tls-rpt-record-present"].enforcementLevel == proto.ADVISORY
    assert "minimumMaxAge" in advertised["enforce-max-age-at-least-minimum"].configSchema.properties


def test_over_the_wire_the_program_passes_and_a_proxied_host_is_refused(program: ProgramRuns) -> None:
    servicer = analyzer()
    resources = program.resources("dev", "github-pages", mode="enforce", maxAge=604_800)
    mandatory_levels = [
        d.policyName for d in diagnostics(servicer, resources) if d.enforcementLevel == proto.MANDATORY
    ]
    assert mandatory_levels == []
    _break_proxied(resources)
    refused = [d for d in diagnostics(servicer, resources) if d.enforcementLevel == proto.MANDATORY]
    assert [d.policyName for d in refused] == ["policy-host-dns-only"]
    assert "proxied=False" in refused[0].message


def test_over_the_wire_pack_config_reaches_the_rules() -> None:
    servicer = analyzer()
    config = proto.PolicyConfig(enforcementLevel=proto.ADVISORY)
    config.properties.update({"minimumMaxAge": 3600})
    servicer.Configure(
        proto.ConfigureAnalyzerRequest(policyConfig={"enforce-max-age-at-least-minimum": config}), None
    )
    stack = core_stack(mode="enforce", max_age=7200)
    assert [
        d for d in diagnostics(servicer, stack) if d.policyName == "enforce-max-age-at-least-minimum"
    ] == []
    stack = core_stack(mode="enforce", max_age=600)
    assert [d.policyName for d in diagnostics(servicer, stack) if d.policyName.startswith("enforce-")] == [
        "enforce-max-age-at-least-minimum"
    ]


def test_over_the_wire_unknown_values_skip_checks_instead_of_failing(program: ProgramRuns) -> None:
    resources = program.resources("dev", "netlify")
    for res in resources:
        if res.type == DNS_RECORD:
            res.props.update(content=UNKNOWN_STRING_VALUE, proxied=UNKNOWN_BOOLEAN_VALUE)
    found = diagnostics(analyzer(), resources)
    assert [d for d in found if d.enforcementLevel == proto.MANDATORY] == []
    # A rule that read an unknown without guarding would surface as "can't run policy ... during preview".
    assert not [d.message for d in found if "during preview" in d.message]


def test_the_stack_view_is_read_once_for_every_stack_rule_of_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import policy.view

    reads: list[int] = []
    read = policy.view._read_view

    def counting(resources: Any) -> Any:
        reads.append(len(resources))
        return read(resources)

    monkeypatch.setattr(policy.view, "_last", None)
    monkeypatch.setattr(policy.view, "_read_view", counting)
    resources = core_stack()
    stack_rules = [name for name, rule in POLICIES.items() if isinstance(rule, StackValidationPolicy)]
    for name in stack_rules:
        check(name, resources)  # each rule gets its own copy of the resources, as from the analyzer
    assert len(stack_rules) > 5 and reads == [len(resources)]
    check(stack_rules[0], [*resources, record(f"mta-sts.{DOMAIN}", "TXT", quote_txt("v=spf1 ~all"))])
    assert len(reads) == 2  # a different stack is read again
