"""End to end on real servers: what the program declares, served by NSD and nginx, is valid.

One twin (tests/twin) serves every configuration below at once: each site is built from
what the Pulumi program registers under the project's mocks (Cloudflare records, the files
handed to GitHub/Netlify), not from the core's values, so the proof is independent:
checkdmarc and postfix-mta-sts-resolver, which nobody here wrote, judge each deployment
valid and read back exactly the configured policy and id; `verify` passes, and finds no
drift from the stack's desired state.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mtasts.config import parse_settings
from mtasts.desired import DesiredState, desired_state
from mtasts.policy import POLICY_PATH
from mtasts.rules.policy_file import short_max_age
from tests.strategies import stack_configs
from tests.twin import (
    PROBE,
    PROTON_MX,
    WEB_ADDRESSES_V4,
    WEB_ADDRESSES_V6,
    Site,
    Twin,
    server_test_marks,
    site_from_state,
)
from tests.twin import validators as run
from tests.twin.program import site_from_program

pytestmark = server_test_marks()

# Hand-picked: both hostings, every mode, wildcard and mixed mx, several report URIs, the
# max_age bounds, and a subdomain as the mail domain.
SPREAD: list[dict[str, Any]] = [
    {"domain": "netlify-defaults.example"},
    {
        "domain": "netlify-enforce.example",
        "mode": "enforce",
        "mx": ["*.protonmail.ch"],
        "maxAge": 31557600,
        "tlsRpt": ["mailto:tls-reports@netlify-enforce.example", "https://reports.example.net/v1/tlsrpt"],
    },
    {"domain": "netlify-none.example", "mode": "none", "mx": [], "maxAge": 86400},
    {"domain": "pages-testing.example", "hosting": "github-pages", "tlsRpt": ["mailto:tlsrpt@pages.example"]},
    {
        "domain": "mail.pages-enforce.example",
        "hosting": "github-pages",
        "mode": "enforce",
        "mx": ["mail.protonmail.ch", "*.protonmail.ch"],
        "maxAge": 0,
        "tlsRpt": [
            "mailto:a@pages-enforce.example",
            "mailto:b+tls@reports.example.org",
            "https://tlsrpt.example.com/report",
        ],
    },
    {"domain": "pages-none.example", "hosting": "github-pages", "mode": "none"},
]


def generated_configs(count: int) -> list[dict[str, Any]]:
    """`count` valid configurations from the project's strategy, the same on every run."""
    found: list[dict[str, Any]] = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(stack_configs(), st.randoms())
    def collect(config: dict[str, Any], _: Any) -> None:
        found.append(config)

    collect()
    taken = {config["domain"] for config in SPREAD}
    unique = []
    for config in found:
        if config["domain"] not in taken and not config["domain"].startswith("mta-sts."):
            taken.add(config["domain"])
            unique.append(config)
    return unique


GENERATED = generated_configs(14)
CONFIGS = {config["domain"]: config for config in [*SPREAD, *GENERATED]}


def _ids(config: dict[str, Any]) -> str:
    return f"{config.get('hosting', 'netlify')}-{config.get('mode', 'testing')}-{config['domain']}"


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[Twin, dict[str, Site], dict[str, Any]]]:
    """One twin serving every configuration, and every validator's verdicts on all of them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NETLIFY_AUTH_TOKEN", "test-netlify-token-not-a-secret")
        sites = {
            domain: site_from_program(config, mx=PROTON_MX if config in SPREAD else None)
            for domain, config in CONFIGS.items()
        }
    with Twin(list(sites.values())) as twin:
        domains = list(sites)
        verdicts = {
            "checkdmarc": run.checkdmarc(twin, domains),
            "postfix": run.postfix(twin, domains),
            "verify": run.verify(twin, domains, {domain: twin.expected(domain) for domain in domains}),
        }
        yield twin, sites, verdicts


def _expected(config: dict[str, Any]) -> DesiredState:
    return desired_state(parse_settings(config))


@pytest.mark.parametrize("config", CONFIGS.values(), ids=_ids)
def test_checkdmarc_finds_a_valid_policy_with_the_configured_values(
    deployed: tuple[Twin, dict[str, Site], dict[str, Any]], config: dict[str, Any]
) -> None:
    _, _, verdicts = deployed
    expected = _expected(config)
    result = verdicts["checkdmarc"][expected.settings.domain]["mta_sts"]
    assert result["valid"], f"checkdmarc rejects {expected.settings.domain}: {result}"
    assert result["id"] == expected.policy_id
    policy = result["policy"]
    assert (policy["mode"], policy["max_age"]) == (expected.policy.mode.value, expected.policy.max_age)
    assert list(policy["mx"]) == list(expected.policy.mx)
    assert result["warnings"] == []


@pytest.mark.parametrize("config", CONFIGS.values(), ids=_ids)
def test_checkdmarc_reads_the_configured_tls_reporting_uris(
    deployed: tuple[Twin, dict[str, Site], dict[str, Any]], config: dict[str, Any]
) -> None:
    _, _, verdicts = deployed
    expected = _expected(config)
    result = verdicts["checkdmarc"][expected.settings.domain]["tls_rpt"]
    if not expected.settings.tls_rpt:
        assert not result["valid"] and "does not exist" in result["error"]
        return
    assert result["valid"], result
    assert result["tags"]["rua"]["value"] == list(expected.settings.tls_rpt)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=_ids)
def test_postfix_resolver_fetches_the_configured_policy(
    deployed: tuple[Twin, dict[str, Site], dict[str, Any]], config: dict[str, Any]
) -> None:
    _, _, verdicts = deployed
    expected = _expected(config)
    result = verdicts["postfix"][expected.settings.domain]
    assert result["status"] == "VALID", f"postfix-mta-sts-resolver: {result}"
    assert result["id"] == expected.policy_id
    policy = result["policy"]
    assert (policy["mode"], policy["max_age"]) == (expected.policy.mode.value, expected.policy.max_age)
    assert list(policy["mx"]) == list(expected.policy.mx)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=_ids)
def test_verify_passes_and_finds_no_drift_from_the_stack(
    deployed: tuple[Twin, dict[str, Site], dict[str, Any]], config: dict[str, Any]
) -> None:
    _, _, verdicts = deployed
    expected = _expected(config)
    report = verdicts["verify"][expected.settings.domain]
    problems = run.failing_checks(report)
    assert not report["failed"], f"verify fails {expected.settings.domain}: {report['findings']}"
    assert "stack-drift" not in problems
    # The only acceptable warnings on a correct deployment are what its settings were warned of:
    # the missing TLS-RPT record, and a max_age that protects little (the spread's bound of 0).
    acceptable = {"tls-rpt"} if not expected.settings.tls_rpt else set()
    if short_max_age(expected.policy.mode, expected.policy.max_age):
        acceptable.add("policy-syntax")
    assert set(problems) <= acceptable, problems
    assert report["policy_id"] == expected.policy_id


def test_verify_command_exits_zero_for_every_deployed_domain(
    deployed: tuple[Twin, dict[str, Site], dict[str, Any]],
) -> None:
    twin, sites, _ = deployed
    result = run.verify_cli(twin, ["--json", *sites])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert set(sites) <= set(result.stdout.replace('"', " ").split())


def test_mta_sts_query_command_reports_a_valid_policy(
    deployed: tuple[Twin, dict[str, Site], dict[str, Any]],
) -> None:
    twin, sites, _ = deployed
    domain = SPREAD[1]["domain"]
    result = run.mta_sts_query(twin, domain)
    assert result.returncode == 0, result.stderr
    assert "STSFetchResult.VALID" in result.stdout
    assert sites[domain].state.policy_id in result.stdout


# The stack's readiness resource (pulumi_mta_sts/readiness.py) against the twin: serve before
# advertise (RFC 8461 §8). It runs in the namespace with no --nameserver or --ca-file, exactly
# as on `pulumi up`: the system resolver (the twin's resolv.conf) and SSL_CERT_FILE.

READINESS_DOMAIN = "readiness.example"
OLD = {"domain": READINESS_DOMAIN, "mode": "testing"}
NEW = {"domain": READINESS_DOMAIN, "mode": "enforce"}


@pytest.fixture
def readiness_twin() -> Iterator[Twin]:
    with Twin([site_from_state(desired_state(parse_settings(OLD)))]) as twin:
        yield twin


def _wait_for_readiness(
    twin: Twin, expected_text: str, timeout: float, domain: str = READINESS_DOMAIN, settle: float = 1.0
) -> subprocess.Popen[str]:
    text_file = twin.dir / "expected-policy.txt"
    text_file.write_text(expected_text)
    argv = [str(PROBE), "readiness", "--expected-text", str(text_file), "--timeout", str(timeout)]
    return twin.start([twin.python, *argv, "--settle", str(settle), domain])


def _policy_fetches(twin: Twin) -> int:
    log = twin.dir / "nginx" / "logs" / "access.log"
    return sum(f"/{POLICY_PATH}" in line for line in log.read_text().splitlines())


def _outcome(process: subprocess.Popen[str]) -> dict[str, Any]:
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    outcome: dict[str, Any] = json.loads(stdout)["verdicts"]
    return outcome


def test_readiness_waits_while_the_old_file_is_served_and_succeeds_once_the_new_one_is(
    readiness_twin: Twin,
) -> None:
    new = desired_state(parse_settings(NEW))
    waiting = _wait_for_readiness(readiness_twin, new.policy_text, timeout=30)
    # Wait for two looks at the old file (bounded): the probe's start-up time varies with load.
    deadline = time.monotonic() + 20
    while _policy_fetches(readiness_twin) < 2 and time.monotonic() < deadline and waiting.poll() is None:
        time.sleep(0.1)
    time.sleep(0.5)
    assert waiting.poll() is None, "readiness gave up (or succeeded) while the old policy was still served"
    fetches_before_swap = _policy_fetches(readiness_twin)
    readiness_twin.publish(READINESS_DOMAIN, POLICY_PATH, new.policy_text)
    outcome = _outcome(waiting)
    assert outcome["ok"], outcome
    assert fetches_before_swap >= 2, "readiness should keep polling while the old file is served"
    assert _policy_fetches(readiness_twin) > fetches_before_swap
    assert outcome["after"] < 10, outcome


def test_readiness_times_out_with_what_it_saw_and_what_to_do_when_the_file_never_changes(
    readiness_twin: Twin,
) -> None:
    new = desired_state(parse_settings(NEW))
    outcome = _outcome(_wait_for_readiness(readiness_twin, new.policy_text, timeout=3))
    assert not outcome["ok"]
    assert 2.0 <= outcome["after"] < 10, outcome
    error = outcome["error"]
    assert "PolicyNotServedError" in error
    assert new.policy_id in error  # which policy it waited for
    assert desired_state(parse_settings(OLD)).policy_id in error  # what it saw instead
    assert "readinessTimeout" in error  # what to do


def test_the_twin_leaves_no_namespace_or_process_behind_when_its_body_fails() -> None:
    site = site_from_state(desired_state(parse_settings({"domain": "cleanup.example"})))
    with pytest.raises(RuntimeError, match="body failed"), Twin([site]) as twin:
        pids = [process.pid for _, process in twin._processes]
        assert twin.run(["true"]).returncode == 0
        raise RuntimeError("body failed")
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert twin.name not in namespaces
    assert not Path("/etc/netns", twin.name).exists()
    assert not twin.dir.exists()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists(), f"process {pid} of the twin is still running"


# Several addresses per policy host, IPv4 and IPv6 (RFC 8461 §3.3: a sender connects to any of
# them), each served by nginx; on one of them the host still serves the previous policy.

EVERY_ADDRESS = (*WEB_ADDRESSES_V4, *WEB_ADDRESSES_V6)
ODD_ADDRESS = WEB_ADDRESSES_V6[1]
HEALTHY_MULTI = "every-address.example"
ODD_MULTI = "one-address-stale.example"


def _multi_sites() -> list[Site]:
    healthy = site_from_state(desired_state(parse_settings({"domain": HEALTHY_MULTI})))
    old = desired_state(parse_settings({"domain": ODD_MULTI, "mode": "testing"}))
    new = desired_state(parse_settings({"domain": ODD_MULTI, "mode": "enforce"}))
    odd = dataclasses.replace(
        site_from_state(new), addresses=EVERY_ADDRESS, odd_address=ODD_ADDRESS, odd_files=dict(old.files)
    )
    return [dataclasses.replace(healthy, addresses=EVERY_ADDRESS), odd]


@pytest.fixture
def multi_twin() -> Iterator[Twin]:
    with Twin(_multi_sites()) as twin:
        yield twin


def test_verify_fetches_from_every_ipv4_and_ipv6_address_of_a_healthy_host(multi_twin: Twin) -> None:
    report = run.verify(multi_twin, [HEALTHY_MULTI], {HEALTHY_MULTI: multi_twin.expected(HEALTHY_MULTI)})[
        HEALTHY_MULTI
    ]
    assert not report["failed"], report["findings"]
    [fetch] = [f for f in report["findings"] if f["check"] == "policy-fetch"]
    assert f"from every address ({', '.join(EVERY_ADDRESS)})" in fetch["message"]


def test_verify_fails_when_one_ipv6_address_serves_the_previous_policy(multi_twin: Twin) -> None:
    old_id = desired_state(parse_settings({"domain": ODD_MULTI, "mode": "testing"})).policy_id
    report = run.verify(multi_twin, [ODD_MULTI], {ODD_MULTI: multi_twin.expected(ODD_MULTI)})[ODD_MULTI]
    assert report["failed"]
    [fetch] = [f for f in report["findings"] if f["check"] == "policy-fetch"]
    assert fetch["status"] == "fail" and "serve different policies" in fetch["message"]
    assert f"{ODD_ADDRESS} serve(s) a policy with id {old_id}" in fetch["message"]
    result = run.verify_cli(multi_twin, [ODD_MULTI])
    assert result.returncode == 1, result.stdout[-2000:]


def test_readiness_waits_for_the_last_address_and_says_which_one_serves_what(multi_twin: Twin) -> None:
    new = desired_state(parse_settings({"domain": ODD_MULTI, "mode": "enforce"}))
    old_id = desired_state(parse_settings({"domain": ODD_MULTI, "mode": "testing"})).policy_id
    fetches = _policy_fetches(multi_twin)
    waiting = _wait_for_readiness(multi_twin, new.policy_text, timeout=40, domain=ODD_MULTI, settle=2.0)
    # Wait (bounded) for one whole look, a fetch from every address, at the old file on one of
    # them: the probe's start-up time varies with load, a fixed sleep sometimes ended before it.
    deadline = time.monotonic() + 20
    while (
        _policy_fetches(multi_twin) < fetches + len(EVERY_ADDRESS)
        and time.monotonic() < deadline
        and waiting.poll() is None
    ):
        time.sleep(0.1)
    time.sleep(0.5)
    assert waiting.poll() is None, "readiness opened while one address still served the old policy"
    multi_twin.publish(ODD_MULTI, POLICY_PATH, new.policy_text, address=ODD_ADDRESS)
    started = time.monotonic()
    outcome = _outcome(waiting)
    assert outcome["ok"], outcome
    assert time.monotonic() - started >= 2.0 - 0.5, "the settling window must pass after the last address"
    logged = "\n".join(outcome["log"])
    assert f"{ODD_ADDRESS} serves policy id {old_id}" in logged
    assert f"{WEB_ADDRESSES_V4[0]} serves it" in logged
    assert "keeping watch" in logged


def test_readiness_times_out_naming_the_address_that_never_changes(multi_twin: Twin) -> None:
    new = desired_state(parse_settings({"domain": ODD_MULTI, "mode": "enforce"}))
    outcome = _outcome(_wait_for_readiness(multi_twin, new.policy_text, timeout=3, domain=ODD_MULTI))
    assert not outcome["ok"]
    assert f"{ODD_ADDRESS} serves policy id" in outcome["error"]


def test_behind_the_delaying_proxy_each_address_of_a_host_reaches_its_own_server() -> None:
    # The benchmark's twin: every server address has a front of its own, so the stale file
    # behind one IPv6 address shows at exactly that address's front, and nowhere else.
    with Twin(_multi_sites(), delay=0.005) as twin:
        fronts = [twin.front[address] for address in EVERY_ADDRESS]
        assert len(set(fronts) | set(EVERY_ADDRESS)) == 2 * len(EVERY_ADDRESS)
        reports = run.verify(twin, [HEALTHY_MULTI, ODD_MULTI], {ODD_MULTI: twin.expected(ODD_MULTI)})
    assert not reports[HEALTHY_MULTI]["failed"], reports[HEALTHY_MULTI]["findings"]
    [healthy] = [f for f in reports[HEALTHY_MULTI]["findings"] if f["check"] == "policy-fetch"]
    assert f"from every address ({', '.join(fronts)})" in healthy["message"]
    old_id = desired_state(parse_settings({"domain": ODD_MULTI, "mode": "testing"})).policy_id
    new_id = desired_state(parse_settings({"domain": ODD_MULTI, "mode": "enforce"})).policy_id
    [stale] = [f for f in reports[ODD_MULTI]["findings"] if f["check"] == "policy-fetch"]
    assert stale["status"] == "fail"
    assert f"{', '.join(fronts[:-1])} serve(s) a policy with id {new_id}" in stale["message"]
    assert f"{twin.front[ODD_ADDRESS]} serve(s) a policy with id {old_id}" in stale["message"]
