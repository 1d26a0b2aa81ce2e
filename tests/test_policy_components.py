"""The pack judges an `MtaStsDomain` from any program: what the component says of itself counts.

A component created from TypeScript, Go or YAML runs the same Python code in the component
provider, so the pack sees what the component registers: its inputs under the schema's
camelCase names for resource rules, and for stack rules its registered outputs, which the
engine puts in place of its inputs. Both spellings are read here, and the component's domain
places the resources under it, as the engine hands them over with their parents.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi_policy import StackValidationArgs, StackValidationPolicy
from pulumi_policy.policy import PolicyResource
from pulumi_policy.proxy import unknown_checking_proxy

from mtasts.policy import POLICY_PATH
from mtasts.records import quote_txt
from policy.view import MTASTS_DOMAIN, REPOSITORY_FILE, component_of
from tests.test_policy_pack import (
    DNS_RECORD,
    NETLIFY_SITE,
    POLICIES,
    Res,
    _options,
    core_stack,
    names_both_places_mx_is_set,
)

POLICY_URL = "https://mta-sts.{}/.well-known/mta-sts.txt"


def component(name: str, **props: Any) -> Res:
    return Res(MTASTS_DOMAIN, name.replace(".", "-"), props)


def policy_resources(groups: list[tuple[Res | None, list[Res]]]) -> list[PolicyResource]:
    """Resources as AnalyzeStack hands them over: each child with its component as parent."""
    out: list[PolicyResource] = []
    for parent_res, children in groups:
        parent = None
        if parent_res is not None:
            parent = _policy_resource(parent_res, None)
            out.append(parent)
        out += [_policy_resource(child, parent) for child in children]
    return out


def _policy_resource(res: Res, parent: PolicyResource | None) -> PolicyResource:
    props = unknown_checking_proxy(copy.deepcopy(res.props))
    return PolicyResource(res.type, props, res.urn, res.name, _options(), None, parent, [], {})


def violations(rule: str, resources: list[PolicyResource]) -> list[tuple[str, str | None]]:
    policy = POLICIES[rule]
    assert isinstance(policy, StackValidationPolicy)
    found: list[tuple[str, str | None]] = []
    policy.validate(
        StackValidationArgs(resources, None), lambda message, urn=None: found.append((message, urn))
    )
    return found


@pytest.mark.parametrize(
    "props",
    [
        {"domain": "example.com", "liveMxHosts": ["backup.example.net"]},  # inputs, schema names
        {"policyUrl": POLICY_URL.format("example.com"), "liveMxHosts": ["backup.example.net"]},  # outputs
        {"policy_url": POLICY_URL.format("example.com"), "live_mx_hosts": ["backup.example.net"]},
    ],
    ids=["declared-inputs", "schema-outputs", "python-outputs"],
)
def test_a_live_mx_host_the_component_saw_is_judged_however_its_props_are_spelled(
    props: dict[str, Any],
) -> None:
    resources = policy_resources([(component("example.com", **props), core_stack(mode="enforce"))])
    [(message, urn)] = violations("live-mx-hosts-covered-by-policy", resources)
    assert "backup.example.net" in message and "or remove the MX record" in message
    assert names_both_places_mx_is_set(message)  # a program of its own sets the component's `mx`
    assert urn is not None and urn.endswith("::example-com")


def test_the_components_domain_is_read_from_its_policy_url_when_it_names_no_domain() -> None:
    seen = component_of("urn", {"policyUrl": POLICY_URL.format("Example.ORG")})
    assert seen.domain == "example.org"
    assert seen.live_mx_hosts is None


@pytest.mark.parametrize(
    "props",
    [{"domain": "not a domain"}, {"policyUrl": "https://example.com/"}, {"policyUrl": 7}, {}],
)
def test_a_component_that_names_no_usable_domain_adds_none(props: dict[str, Any]) -> None:
    assert component_of("urn", props).domain is None


def test_a_domain_the_component_manages_without_any_discovery_record_is_reported() -> None:
    # Another program's component whose records did not come through: the domain is still judged.
    children = [
        r for r in core_stack(domain="example.org") if not r.props.get("name", "").startswith("_mta-sts")
    ]
    resources = policy_resources([(component("example.org", domain="example.org"), children)])
    found = violations("one-discovery-record-per-domain", resources)
    assert any("example.org" in message for message, _ in found)


def _netlify_without_site_copy(domain: str) -> list[Res]:
    """A domain's resources with only the repository holding the policy (no copy names its host)."""
    return [r for r in core_stack(domain=domain) if r.type != NETLIFY_SITE]


def test_two_domains_each_have_their_repository_policy_judged_against_their_own_discovery_record() -> None:
    com, org = _netlify_without_site_copy("example.com"), _netlify_without_site_copy("example.org")
    discovery = next(r for r in org if r.type == DNS_RECORD and r.props["name"] == "_mta-sts.example.org")
    discovery.props["content"] = quote_txt("v=STSv1; id=stale")
    resources = policy_resources(
        [
            (component("example.com", domain="example.com"), com),
            (component("example.org", domain="example.org"), org),
        ]
    )
    found = violations("discovery-id-matches-policy", resources)
    assert found, "the stale id of example.org went unnoticed"
    assert all("example.org" in message for message, _ in found), found
    files = [r for r in resources if r.resource_type == REPOSITORY_FILE and r.props["file"] == POLICY_PATH]
    assert len(files) == 2


def test_without_the_components_the_same_two_repositories_cannot_be_placed() -> None:
    com, org = _netlify_without_site_copy("example.com"), _netlify_without_site_copy("example.org")
    discovery = next(r for r in org if r.type == DNS_RECORD and r.props["name"] == "_mta-sts.example.org")
    discovery.props["content"] = quote_txt("v=STSv1; id=stale")
    assert violations("discovery-id-matches-policy", policy_resources([(None, [*com, *org])])) == []
