"""The real program under Pulumi mocks: what it registers, with which values and in which order."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable

import pytest

from mtasts.config import parse_settings
from mtasts.desired import desired_state
from tests.pulumi_mocks import LOOKED_UP_ZONE_ID, FailedRun, StackRun

DNS = "cloudflare:index/dnsRecord:DnsRecord"
FILE = "github:index/repositoryFile:RepositoryFile"
TOKEN = "test-netlify-token-not-a-secret"  # what the `stack` fixture exports as NETLIFY_AUTH_TOKEN
Run = Callable[..., StackRun]

COMMON = {
    ("mta-sts:index:MtaStsDomain", "mta-sts"),
    ("mta-sts:github:PolicyRepository", "mta-sts-repo"),
    ("mta-sts:dns:PolicyHostRecords", "mta-sts-host"),
    ("mta-sts:dns:DiscoveryRecords", "mta-sts-discovery"),
    ("github:index/repository:Repository", "mta-sts-repo-repository"),
    (FILE, "mta-sts-repo-file-well-known-mta-sts-txt"),
    (FILE, "mta-sts-repo-file-readme-md"),
    (DNS, "mta-sts-host-null-mx"),
    (DNS, "mta-sts-host-spf"),
    (DNS, "mta-sts-discovery-sts"),
    (DNS, "mta-sts-discovery-tls-rpt"),
    ("pulumi-python:dynamic/mtasts:PolicyReadiness", "mta-sts-readiness"),
    ("pulumi-python:dynamic/mtasts:ServedPolicy", "mta-sts-served"),
    ("pulumi-python:dynamic/mtasts:PublishedMaxAge", "mta-sts-published"),
}
NETLIFY_ONLY = {
    ("mta-sts:hosting:NetlifyHosting", "mta-sts-netlify"),
    ("pulumi-python:dynamic/netlify:Site", "mta-sts-netlify-site"),
    ("pulumi-python:dynamic/netlify:Certificate", "mta-sts-netlify-certificate"),
    (FILE, "mta-sts-repo-file-headers"),
    (DNS, "mta-sts-host-a"),
}
PAGES_ONLY = {
    ("mta-sts:hosting:GitHubPagesSite", "mta-sts-pages"),
    ("github:index/repositoryPages:RepositoryPages", "mta-sts-pages-pages"),
    (FILE, "mta-sts-repo-file-nojekyll"),
    (FILE, "mta-sts-repo-file-cname"),
    *((DNS, f"mta-sts-host-a-{index}") for index in range(4)),
}
RECORDS_LOOKUP = "cloudflare:index/getDnsRecords:getDnsRecords"
CONFIG = {"domain": "example.com", "mode": "enforce", "maxAge": 86400, "tlsRpt": ["mailto:tls@example.com"]}


@pytest.mark.parametrize(("hosting", "expected"), [("netlify", NETLIFY_ONLY), ("github-pages", PAGES_ONLY)])
def test_each_hosting_registers_exactly_its_resources(stack: Run, hosting: str, expected: set) -> None:
    run = stack({**CONFIG, "hosting": hosting})
    assert {(r.type, r.name) for r in run.resources} == COMMON | expected


@pytest.mark.parametrize("hosting", ["netlify", "github-pages"])
def test_no_two_resources_share_a_type_and_name(stack: Run, hosting: str) -> None:
    run = stack({**CONFIG, "hosting": hosting})
    repeated = [key for key, count in Counter((r.type, r.name) for r in run.resources).items() if count > 1]
    assert repeated == []


@pytest.mark.parametrize("hosting", ["netlify", "github-pages"])
def test_dns_records_carry_the_desired_values_as_full_dns_only_names(stack: Run, hosting: str) -> None:
    config = {**CONFIG, "hosting": hosting}
    run = stack(config)
    state = desired_state(parse_settings(config))
    registered = {
        (r.inputs["name"], r.inputs["type"], r.inputs["content"], r.inputs.get("priority"), r.inputs["ttl"])
        for r in run.dns_records()
    }
    assert registered == {(d.name, d.type, d.content, d.priority, d.ttl) for d in state.records}
    for record in run.dns_records():
        assert record.inputs["proxied"] is False, record.name
        assert record.inputs["zoneId"] == LOOKED_UP_ZONE_ID, record.name
        assert record.inputs["name"].endswith(".example.com"), record.name


def test_discovery_record_waits_for_the_policy_to_be_served(stack: Run) -> None:
    run = stack(CONFIG)
    readiness = run.named("mta-sts-readiness")
    assert readiness.urn in run.named("mta-sts-discovery-sts").dependencies
    # and the readiness check itself waits for the hosting and the host's records
    assert run.named("mta-sts-netlify-certificate").urn in readiness.dependencies
    assert run.named("mta-sts-host-a").urn in readiness.dependencies


def test_readiness_expects_exactly_the_rendered_policy(stack: Run) -> None:
    run = stack(CONFIG)
    state = desired_state(parse_settings(CONFIG))
    inputs = run.named("mta-sts-readiness").inputs
    assert (inputs["domain"], inputs["policy_text"], inputs["policy_id"]) == (
        "example.com",
        state.policy_text,
        state.policy_id,
    )


def test_only_the_discovery_record_waits_so_the_rest_deploys_in_parallel(stack: Run) -> None:
    run = stack(CONFIG)
    readiness = run.named("mta-sts-readiness").urn
    waiting = {r.name for r in run.resources if readiness in r.dependencies}
    assert waiting == {"mta-sts-discovery-sts"}


def test_netlify_certificate_is_requested_after_dns_points_at_netlify(stack: Run) -> None:
    run = stack(CONFIG)
    certificate = run.named("mta-sts-netlify-certificate")
    assert run.named("mta-sts-host-a").urn in certificate.dependencies


def test_pages_are_published_after_the_files_are_committed(stack: Run) -> None:
    run = stack({**CONFIG, "hosting": "github-pages"})
    pages = run.named("mta-sts-pages-pages")
    assert run.named("mta-sts-repo-file-nojekyll").urn in pages.dependencies
    assert pages.inputs["cname"] == "mta-sts.example.com"
    assert pages.inputs["source"] == {"branch": "main", "path": "/"}


def test_repository_holds_the_rendered_policy_and_is_retained_on_destroy(stack: Run) -> None:
    run = stack(CONFIG)
    state = desired_state(parse_settings(CONFIG))
    repository = run.named("mta-sts-repo-repository")
    assert repository.retain_on_delete
    assert repository.inputs["name"] == "mta-sts-example-com"
    policy_file = run.named("mta-sts-repo-file-well-known-mta-sts-txt")
    assert policy_file.inputs["file"] == ".well-known/mta-sts.txt"
    assert policy_file.inputs["content"] == state.policy_text


def test_netlify_site_serves_the_repository_files_at_exactly_the_policy_host(stack: Run) -> None:
    run = stack(CONFIG)
    site = run.named("mta-sts-netlify-site")
    assert site.inputs["custom_domain"] == "mta-sts.example.com"
    assert site.inputs["files"] == desired_state(parse_settings(CONFIG)).files


def test_netlify_token_is_in_no_resource_input_nor_pickled_provider(stack: Run) -> None:
    run = stack(CONFIG)
    for resource in run.resources:
        for key, value in resource.inputs.items():
            if key == "__provider":
                pickled = value["value"] if isinstance(value, dict) else value  # may arrive secret-wrapped
                text = base64.b64decode(pickled)
            else:
                text = repr(value).encode()
            assert TOKEN.encode() not in text, f"{resource.name}.{key} holds the token"


def test_configured_zone_id_is_used_without_a_lookup(stack: Run) -> None:
    zone = "fedcba9876543210fedcba9876543210"
    run = stack({**CONFIG, "zoneId": zone})
    assert {r.inputs["zoneId"] for r in run.dns_records()} == {zone}
    assert not [token for token, _ in run.calls if token.endswith("getZone")]


def test_missing_tls_rpt_publishes_no_record_and_says_why_it_matters(stack: Run) -> None:
    run = stack({"domain": "example.com"})
    assert not [r for r in run.dns_records() if r.inputs["name"].startswith("_smtp._tls")]
    assert any("tlsRpt is not set" in warning and "enforce" in warning for warning in run.warnings)


def test_exports_name_the_policy_and_every_record(stack: Run) -> None:
    run = stack(CONFIG)
    state = desired_state(parse_settings(CONFIG))
    assert run.exports["policyUrl"] == "https://mta-sts.example.com/.well-known/mta-sts.txt"
    assert run.exports["policyId"] == state.policy_id
    assert run.exports["policyText"] == state.policy_text
    assert run.exports["dnsRecords"] == [
        {"name": r.name, "type": r.type, "value": r.rdata} for r in state.records
    ]


@pytest.mark.parametrize(
    "bad",
    [
        {"domain": "example"},
        {"domain": "example.com", "mode": "strict"},
        {"domain": "example.com", "maxAge": "forever"},
        {"domain": "example.com", "mx": []},
        {"domain": "example.com", "mx": ["*.*.example.com"]},
        {"domain": "example.com", "tlsRpt": ["http://example.com"]},
        {"domain": "example.com", "repository": "bad name"},
        {"domain": "example.com", "hosting": "s3"},
    ],
)
def test_invalid_config_stops_before_any_resource_is_registered(stack: Run, bad: dict) -> None:
    import pulumi

    with pytest.raises(pulumi.RunError, match="invalid mta-sts configuration") as caught:
        stack(bad)
    key = next(key for key in bad if key != "domain") if len(bad) > 1 else "domain"
    assert f"'{key}'" in str(caught.value)


def test_invalid_config_registers_nothing(failing_stack: Callable[..., FailedRun]) -> None:
    run = failing_stack({"domain": "example.com", "mode": "strict"})
    assert "'mode'" in str(run.error)
    assert run.registered == []


def test_netlify_without_a_token_is_refused_before_anything_registers(
    stack: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pulumi

    monkeypatch.delenv("NETLIFY_AUTH_TOKEN")
    with pytest.raises(pulumi.RunError, match="netlifyToken"):
        stack({"domain": "example.com"})


@pytest.mark.parametrize(
    ("token", "reason", "config"),
    [
        # The zone is not in the token's account (quick start step 1 not done, or another account).
        ("cloudflare:index/getZone:getZone", "no zone found matching the filter", {}),
        # The token may not read the zone's records (no Zone → DNS permission for it).
        (RECORDS_LOOKUP, "Authentication error (10000)", {}),
        (RECORDS_LOOKUP, "Authentication error (10000)", {"zoneId": "f" * 32}),
    ],
)
def test_a_zone_cloudflare_will_not_show_is_refused_with_the_fix_not_a_traceback(
    failing_stack: Callable[..., FailedRun], token: str, reason: str, config: dict
) -> None:
    import pulumi

    run = failing_stack({**CONFIG, **config}, failing={token: reason})
    # A RunError is printed as its message alone; any other exception as a Python traceback.
    assert isinstance(run.error, pulumi.RunError), repr(run.error)
    message = str(run.error)
    assert reason in message and "example.com" in message
    assert "CLOUDFLARE_API_TOKEN" in message and "Zone → DNS" in message and "zoneId" in message
    assert "Nothing was changed" in message
    assert run.registered == []


@pytest.mark.parametrize("kept_in", ["environment", "stack config"])
def test_a_refused_zone_lookup_never_prints_the_cloudflare_token(
    monkeypatch: pytest.MonkeyPatch, kept_in: str
) -> None:
    import pulumi
    from pulumi_mta_sts.lookups import _read_zone

    token = "cf-test-token-0123456789abcdefghij"
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    if kept_in == "environment":
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", token)
    else:
        pulumi.runtime.set_all_config({"cloudflare:apiToken": token}, secret_keys=["cloudflare:apiToken"])

    def lookup() -> None:
        raise Exception(f"invoke failed: bad token {token} (9109)")

    try:
        with pytest.raises(pulumi.RunError) as raised:
            _read_zone("example.com", "the id", lookup)
    finally:
        pulumi.runtime.set_all_config({})
    assert "(9109)" in str(raised.value) and token not in str(raised.value)
