"""Proton Mail records: the core values, what two outside parsers think of them, and what the
program registers under mocks (as Proton's dashboard lists them)."""

from __future__ import annotations

from collections.abc import Callable

import checkdmarc.dmarc
import checkdmarc.spf
import pulumi
import pytest

from mtasts.config import ConfigError, parse_settings
from mtasts.desired import desired_state
from tests.pulumi_mocks import FailedRun, StackRun

Run = Callable[..., StackRun]
DNS = "cloudflare:index/dnsRecord:DnsRecord"
DKIM = {
    "protonmail": "protonmail.domainkey.dabc123.domains.proton.ch",
    "protonmail2": "protonmail2.domainkey.dabc123.domains.proton.ch.",
    "protonmail3": "protonmail3.domainkey.dabc123.domains.proton.ch",
}
PROTON = {"verification": "9f2c41d07be35a8613c0e4f7a2b95d6e1c8f30a4", "dkim": DKIM}
CONFIG = {"domain": "example.com", "tlsRpt": ["mailto:tls@example.com"], "proton": PROTON}


def records_by_key(config: dict) -> dict:
    return {record.key: record for record in desired_state(parse_settings(config)).records}


def test_proton_records_are_off_by_default() -> None:
    keys = records_by_key({"domain": "example.com"})
    assert not [key for key in keys if key.startswith("proton-")]


def test_proton_publishes_verification_mx_spf_dkim_and_dmarc_at_their_names() -> None:
    keys = records_by_key(CONFIG)
    proton = {
        key: (r.name, r.type, r.value, r.priority) for key, r in keys.items() if key.startswith("proton-")
    }
    assert proton == {
        "proton-verification": (
            "example.com",
            "TXT",
            "protonmail-verification=9f2c41d07be35a8613c0e4f7a2b95d6e1c8f30a4",
            None,
        ),
        "proton-mx-mail": ("example.com", "MX", "mail.protonmail.ch", 10),
        "proton-mx-mailsec": ("example.com", "MX", "mailsec.protonmail.ch", 20),
        "proton-spf": ("example.com", "TXT", "v=spf1 include:_spf.protonmail.ch ~all", None),
        "proton-dkim-protonmail": (
            "protonmail._domainkey.example.com",
            "CNAME",
            "protonmail.domainkey.dabc123.domains.proton.ch",
            None,
        ),
        "proton-dkim-protonmail2": (
            "protonmail2._domainkey.example.com",
            "CNAME",
            "protonmail2.domainkey.dabc123.domains.proton.ch",
            None,
        ),
        "proton-dkim-protonmail3": (
            "protonmail3._domainkey.example.com",
            "CNAME",
            "protonmail3.domainkey.dabc123.domains.proton.ch",
            None,
        ),
        "proton-dmarc": ("_dmarc.example.com", "TXT", "v=DMARC1; p=quarantine", None),
    }


def test_extra_spf_includes_merge_into_the_one_spf_record() -> None:
    config = {**CONFIG, "proton": {**PROTON, "spfIncludes": ["_spf.example.net", "include:mail.example.org"]}}
    apex_spf = [r for r in desired_state(parse_settings(config)).records if r.name == "example.com"]
    spf = [r.value for r in apex_spf if r.value.startswith("v=spf1")]
    assert spf == ["v=spf1 include:_spf.protonmail.ch include:_spf.example.net include:mail.example.org ~all"]


def test_spf_record_is_valid_for_checkdmarc_grammar() -> None:
    # checkdmarc's own grammar (parse_spf_record would resolve every include over the network).
    config = {**CONFIG, "proton": {**PROTON, "spfIncludes": ["_spf.example.net"]}}
    spf = records_by_key(config)["proton-spf"].value
    assert checkdmarc.spf._SPFGrammar().parse(spf).is_valid, spf
    mechanisms = [m for _, m, _, _ in checkdmarc.spf.SPF_MECHANISM_REGEX.findall(spf)]
    assert mechanisms == ["v", "include", "include", "all"]


@pytest.mark.parametrize(("policy", "rua"), [("none", []), ("reject", ["mailto:dmarc@example.com"])])
def test_dmarc_record_parses_with_checkdmarc_and_carries_the_configured_policy(
    policy: str, rua: list
) -> None:
    config = {**CONFIG, "proton": {**PROTON, "dmarc": policy, "dmarcRua": rua}}
    text = records_by_key(config)["proton-dmarc"].value
    # rua checks ask DNS for the report domain's MX: point them at a closed local port.
    parsed = checkdmarc.dmarc.parse_dmarc_record(text, "example.com", nameservers=["127.0.0.1"], timeout=0.1)
    assert parsed["tags"]["p"]["value"] == policy
    addresses = [uri["address"] for uri in parsed["tags"].get("rua", {}).get("value", [])]
    assert addresses == [uri.removeprefix("mailto:") for uri in rua]


def test_verification_accepts_the_whole_record_text_pasted() -> None:
    config = {**CONFIG, "proton": {**PROTON, "verification": "protonmail-verification=abc123"}}
    assert records_by_key(config)["proton-verification"].value == "protonmail-verification=abc123"


@pytest.mark.parametrize(
    ("proton", "expected"),
    [
        ({"dkim": DKIM}, "'proton.verification'"),
        ({**PROTON, "dkim": list(DKIM.values())}, "'proton.dkim'"),
        ({**PROTON, "dkim": {**DKIM, "protonmail3": "not a host"}}, "'proton.dkim.protonmail3'"),
        ({**PROTON, "dmarc": "strict"}, "'proton.dmarc'"),
        ({**PROTON, "dmarcRua": ["https://example.com/r"]}, "'proton.dmarcRua'"),
        ({**PROTON, "spfIncludes": ["_spf.protonmail.ch"]}, "'proton.spfIncludes'"),
        ({**PROTON, "spfIncludes": [f"_spf{n}.example.net" for n in range(6)]}, "10 DNS lookups"),
        ({**PROTON, "dkimm": {}}, "'proton.dkimm' is not a setting"),
        ("yes", "'proton'"),
    ],
)
def test_invalid_proton_settings_name_the_key(proton: object, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({**CONFIG, "proton": proton})
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_mx_patterns_that_miss_a_published_mx_host_are_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({**CONFIG, "mode": "enforce", "mx": ["mail.protonmail.ch"]})
    (problem,) = caught.value.problems
    assert "MX host mailsec.protonmail.ch" in problem and "add mailsec.protonmail.ch" in problem


def test_a_wildcard_pattern_covers_both_proton_mx_hosts() -> None:
    settings = parse_settings({**CONFIG, "mode": "enforce", "mx": ["*.protonmail.ch"]})
    assert settings.policy.uncovered(settings.published_mx) == []


def test_proton_stack_registers_every_record_with_its_value(stack: Run) -> None:
    run = stack(CONFIG)
    state = desired_state(parse_settings(CONFIG))
    mail = {r.name: r for r in run.dns_records() if r.name.startswith("mta-sts-mail-")}
    assert set(mail) == {f"mta-sts-mail-{r.key}" for r in state.mail_records}
    assert len(mail) == 8
    for record in state.mail_records:
        inputs = mail[f"mta-sts-mail-{record.key}"].inputs
        assert (inputs["name"], inputs["type"], inputs["content"], inputs.get("priority")) == (
            record.name,
            record.type,
            record.content,
            record.priority,
        ), record.key
        assert inputs["proxied"] is False, record.key
    assert mail["mta-sts-mail-proton-spf"].inputs["content"] == '"v=spf1 include:_spf.protonmail.ch ~all"'
    assert mail["mta-sts-mail-proton-dkim-protonmail2"].inputs["content"] == (
        "protonmail2.domainkey.dabc123.domains.proton.ch"
    )


def test_mail_records_survive_destroy_and_do_not_wait_for_the_readiness_check(stack: Run) -> None:
    run = stack(CONFIG)
    mail = [r for r in run.dns_records() if r.name.startswith("mta-sts-mail-")]
    assert mail and all(r.retain_on_delete for r in mail)
    readiness = run.named("mta-sts-readiness").urn
    assert not [r.name for r in mail if readiness in r.dependencies]
    # the policy's own records are still deleted on destroy (RFC 8461 §8.3)
    assert not run.named("mta-sts-discovery-sts").retain_on_delete


def test_a_policy_missing_a_proton_mx_host_registers_nothing(stack: Run) -> None:
    with pytest.raises(pulumi.RunError, match=r"mailsec\.protonmail\.ch") as caught:
        stack({**CONFIG, "mx": ["mail.protonmail.ch"]})
    assert "'mx'" in str(caught.value)


def test_a_policy_missing_a_proton_mx_host_is_refused_before_any_registration(
    failing_stack: Callable[..., FailedRun],
) -> None:
    run = failing_stack({**CONFIG, "mode": "enforce", "mx": ["mx.example.net"]})
    assert isinstance(run.error, pulumi.RunError)
    assert run.registered == []


def test_the_example_proton_stack_deploys_every_record_once_its_placeholders_are_replaced(stack: Run) -> None:
    from mtasts.stackfile import read_stack_file, settings_keys
    from tests.proton_values import realistic
    from tests.pulumi_mocks import PROJECT_DIR

    written = settings_keys(read_stack_file("proton", PROJECT_DIR))
    with pytest.raises(ConfigError) as caught:
        parse_settings(written)
    placeholders = [problem for problem in caught.value.problems if "placeholder" in problem]
    assert len(placeholders) == 4 and all("Settings → Domain names" in p for p in placeholders)
    config = {**written, "proton": realistic(written["proton"])}
    settings = parse_settings(config)
    assert settings.proton is not None and settings.dnssec and settings.mode.value == "testing"
    run = stack(config)
    assert {r.name for r in run.dns_records() if r.name.startswith("mta-sts-mail-")} == {
        f"mta-sts-mail-{r.key}" for r in desired_state(settings).mail_records
    }
    assert run.named("mta-sts-dnssec-zone").inputs["status"] == "active"


def test_pulumi_yaml_declares_every_new_key_with_a_description() -> None:
    import yaml

    from tests.pulumi_mocks import PROJECT_DIR

    declared = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    for key, default in (("dnssec", False), ("adopt", True), ("retire", False)):
        assert declared[key]["type"] == "boolean" and declared[key]["default"] is default, key
    assert all(declared[key]["description"] for key in ("proton", "dnssec", "adopt", "retire"))


def test_apex_mx_records_wait_for_the_policy_to_be_advertised_and_nothing_else_does(stack: Run) -> None:
    # RFC 8461 §8: the policy that covers an MX host is published before the MX names it.
    run = stack(CONFIG)
    discovery = run.named("mta-sts-discovery-sts").urn
    waiting = {r.name for r in run.resources if discovery in r.dependencies}
    # mta-sts-served records what was served once the new id is out; it changes nothing live.
    assert waiting == {"mta-sts-mail-proton-mx-mail", "mta-sts-mail-proton-mx-mailsec", "mta-sts-served"}
