"""End to end on real servers: a whole Proton Mail domain in one stack.

The program runs on the example Proton stack under mocks; NSD and nginx in the twin serve
exactly the records and files it registers (Proton's MX, SPF, DKIM, DMARC and verification
records included, and no MX records of the twin's own). checkdmarc, which nobody here
wrote, must judge MTA-STS, TLS-RPT, SPF and DMARC valid; `verify` must pass with no drift.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mtasts.config import parse_settings
from mtasts.desired import desired_state
from mtasts.records import DnsRecord
from mtasts.stackfile import read_stack_file, settings_keys
from tests.proton_values import realistic
from tests.pulumi_mocks import PROJECT_DIR
from tests.twin import Twin, server_test_marks
from tests.twin import validators as run
from tests.twin.program import site_from_program
from tests.twin.servers import MX_ADDRESS

pytestmark = server_test_marks()

DOMAIN = "proton-mail.example"


def proton_config(mode: str) -> dict[str, Any]:
    """Pulumi.proton.yaml as shipped, moved to a domain of its own whose reports stay in it.

    (A DMARC `rua` at another domain needs that domain's authorisation record, RFC 7489 §7.1,
    which the twin does not serve.)
    """
    config = settings_keys(read_stack_file("proton", PROJECT_DIR))
    config["proton"] = {**realistic(config["proton"]), "dmarcRua": [f"mailto:dmarc-reports@{DOMAIN}"]}
    return {**config, "domain": DOMAIN, "mode": mode, "tlsRpt": [f"mailto:tls-reports@{DOMAIN}"]}


# The outside world the domain refers to: Proton's MX hosts and the SPF record it includes.
# Stand-ins served by the twin (documentation addresses), not Proton's real values.
PROTON_WORLD = (
    DnsRecord(key="proton-mx", name="mail.protonmail.ch", type="A", value=MX_ADDRESS, ttl=3600),
    DnsRecord(key="proton-mxsec", name="mailsec.protonmail.ch", type="A", value=MX_ADDRESS, ttl=3600),
    DnsRecord(key="proton-spf", name="_spf.protonmail.ch", type="TXT", value="v=spf1 ip4:192.0.2.0/24 ~all",
              ttl=3600),
)  # fmt: skip


@pytest.fixture(scope="module", params=["testing", "enforce"])
def proton_twin(request: pytest.FixtureRequest) -> Iterator[tuple[Twin, dict[str, Any]]]:
    config = proton_config(request.param)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NETLIFY_AUTH_TOKEN", "test-netlify-token-not-a-secret")
        site = site_from_program(config, mx=())  # the stack publishes the domain's MX itself
    with Twin([site], extra_records=PROTON_WORLD) as twin:
        yield twin, config


def test_the_stack_publishes_the_domains_mx_records(proton_twin: tuple[Twin, dict[str, Any]]) -> None:
    twin, _ = proton_twin
    served = [record for record in twin.zones()[DOMAIN] if record.type == "MX" and record.name == DOMAIN]
    assert sorted((record.priority, record.value) for record in served) == [
        (10, "mail.protonmail.ch"),
        (20, "mailsec.protonmail.ch"),
    ]


def test_checkdmarc_judges_mta_sts_and_tls_rpt_valid(proton_twin: tuple[Twin, dict[str, Any]]) -> None:
    twin, config = proton_twin
    expected = desired_state(parse_settings(config))
    verdict = run.checkdmarc(twin, [DOMAIN])[DOMAIN]
    assert verdict["mta_sts"]["valid"], verdict["mta_sts"]
    assert verdict["mta_sts"]["id"] == expected.policy_id
    assert verdict["mta_sts"]["policy"]["mode"] == config["mode"]
    assert verdict["tls_rpt"]["valid"], verdict["tls_rpt"]


def test_checkdmarc_judges_spf_and_dmarc_valid(proton_twin: tuple[Twin, dict[str, Any]]) -> None:
    twin, config = proton_twin
    verdict = run.mail(twin, [DOMAIN])[DOMAIN]
    spf, dmarc = verdict["spf"], verdict["dmarc"]
    assert spf["valid"], spf
    assert "include:_spf.protonmail.ch" in spf["record"]
    assert dmarc["valid"], dmarc
    assert dmarc["tags"]["p"]["value"] == config["proton"].get("dmarc", "quarantine")


def test_verify_passes_with_no_drift_from_the_stack(proton_twin: tuple[Twin, dict[str, Any]]) -> None:
    twin, _ = proton_twin
    report = run.verify(twin, [DOMAIN], {DOMAIN: twin.expected(DOMAIN)})[DOMAIN]
    assert not report["failed"], report["findings"]
    assert run.failing_checks(report) == {}
    coverage = [finding for finding in report["findings"] if finding["check"] == "mx-coverage"]
    assert coverage and all(finding["status"] == "pass" for finding in coverage), coverage
