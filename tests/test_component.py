"""`MtaStsDomain` as another program uses it: arguments as a TypedDict or a plain dict, bad ones
refused before anything registers with every problem in the caller's terms, and the outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.pulumi_mocks import StackRun, run_example

PROGRAM = """
import pulumi
import pulumi_mta_sts as mta_sts

domain = mta_sts.MtaStsDomain("shop", {args})
pulumi.export("policyUrl", domain.policy_url)
pulumi.export("policyId", domain.policy_id)
pulumi.export("dnsRecords", domain.dns_records)
pulumi.export("dnssecDs", domain.dnssec_ds)
pulumi.export("retireAfter", domain.retire_safe_to_destroy_after)
"""


def run_with(tmp_path: Path, args: str) -> StackRun:
    os.environ.setdefault("NETLIFY_AUTH_TOKEN", "test-netlify-token-not-a-secret")
    (tmp_path / "__main__.py").write_text(PROGRAM.format(args=args))
    return run_example(tmp_path, "component-test")


def test_a_typed_dict_and_a_plain_dict_register_the_same_resources(tmp_path: Path) -> None:
    typed = run_with(tmp_path, "mta_sts.MtaStsDomainArgs(domain='example.com', max_age=86400)")
    plain = run_with(tmp_path, "{'domain': 'example.com', 'max_age': 86400}")
    assert sorted((r.type, r.name, str(r.inputs)) for r in typed.resources) == sorted(
        (r.type, r.name, str(r.inputs)) for r in plain.resources
    )
    assert typed.exports["policyUrl"] == "https://mta-sts.example.com/.well-known/mta-sts.txt"


def test_bad_arguments_are_refused_before_anything_registers_each_named_as_written(tmp_path: Path) -> None:
    args = "mta_sts.MtaStsDomainArgs(domain='example.com', mode='strict', max_age=-1, tls_rpts=['x'])"
    (tmp_path / "__main__.py").write_text(PROGRAM.format(args=args))
    from tests.pulumi_mocks import ProviderLikeMocks, RecordingMonitor, _run

    monitor = RecordingMonitor(ProviderLikeMocks())
    with pytest.raises(Exception) as raised:
        _run({}, False, monitor, main=tmp_path / "__main__.py", project="component-test")
    message = str(raised.value)
    assert monitor.registered == []
    assert type(raised.value).__name__ == "RunError"
    assert "mode 'strict' is not accepted; expected one of enforce, testing, none" in message
    assert "max_age -1 is not accepted" in message
    assert "'tls_rpts' is not an argument; did you mean 'tls_rpt'?" in message
    assert "maxAge" not in message and "pulumi config" not in message


def test_likely_mistakes_are_warned_about_in_the_callers_terms_for_each_domain(tmp_path: Path) -> None:
    # A program with many domains sees which one each warning is about, and what to pass: the
    # stack's `pulumi config set` advice would name config its caller does not have.
    program = PROGRAM.replace(
        'domain = mta_sts.MtaStsDomain("shop", {args})',
        'mta_sts.MtaStsDomain("lab", {{"domain": "lab.example.net"}})\n'
        'domain = mta_sts.MtaStsDomain("shop", {args})',
    )
    (tmp_path / "__main__.py").write_text(
        program.format(args="{'domain': 'shop.example.org', 'tls_rpt': ['mailto:tls@shop.example.org']}")
    )
    os.environ.setdefault("NETLIFY_AUTH_TOKEN", "test-netlify-token-not-a-secret")
    run = run_example(tmp_path, "component-test")
    assert sorted(run.warnings) == [
        "domain lab.example.net is a name reserved for examples (RFC 2606): nobody's mail goes there: "
        "pass your own mail domain as domain",
        "domain shop.example.org is a name reserved for examples (RFC 2606): nobody's mail goes there: "
        "pass your own mail domain as domain",
        "tls_rpt is not set, so no _smtp._tls record is published: senders will not report TLS failures, "
        "and you cannot tell whether `mode: enforce` would refuse mail for lab.example.net: pass the "
        "addresses as tls_rpt, such as ['mailto:tls-reports@lab.example.net']",
    ]


def test_a_real_domain_with_reports_gets_no_warning(tmp_path: Path) -> None:
    run = run_with(tmp_path, "{'domain': 'mail.shop', 'tls_rpt': ['mailto:tls@mail.shop']}")
    assert run.warnings == []


def test_the_outputs_are_what_the_domain_publishes_and_null_for_what_is_off(tmp_path: Path) -> None:
    run = run_with(tmp_path, "{'domain': 'example.com', 'tls_rpt': ['mailto:tls@example.com']}")
    records = {(record["name"], record["type"]) for record in run.exports["dnsRecords"]}
    assert ("_mta-sts.example.com", "TXT") in records and ("_smtp._tls.example.com", "TXT") in records
    assert run.exports["dnssecDs"] is None and run.exports["retireAfter"] is None
    assert len(run.exports["policyId"]) > 0


def test_dnssec_and_retire_fill_their_outputs(tmp_path: Path) -> None:
    run = run_with(tmp_path, "{'domain': 'example.com', 'dnssec': True, 'retire': True}")
    assert run.exports["dnssecDs"]["keyTag"] == 2371
    assert run.exports["retireAfter"]


@pytest.mark.parametrize(
    "args",
    [
        {},  # no domain
        {"domain": "example.com", "mx": "mail.example.com", "tls_rpt": "mailto:tls@example.com"},
        {"domain": "example.com", "proton": "on"},
        {
            "domain": "example.com",
            "proton": {"verification": "x", "dkim": {}, "dmarc_rua": "mailto:d@example.com"},
        },
    ],
)
def test_a_refused_argument_gets_no_stack_config_command(args: dict) -> None:
    # A component's caller passes arguments: a `scripts/pulumi config set` command, with the
    # stack's camelCase keys, sets nothing it reads.
    import pulumi
    from pulumi_mta_sts.validation import settings_from_args

    with pytest.raises(pulumi.RunError) as raised:
        settings_from_args("shop", args)
    message = str(raised.value)
    assert "config set" not in message and "tlsRpt" not in message and "dmarcRua" not in message, message


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"domain": "output"}, "domain is an output"),
        ({"domain": "example.com", "mx": ["secret"]}, "mx holds an output"),
        ({"domain": "example.com", "max_age": "output"}, "max_age is an output"),
        ({"domain": "unknown"}, "domain is an output"),
        (
            {"domain": "example.com", "proton": {"verification": "output", "dkim": {}}},
            "proton.verification is an output",
        ),
    ],
)
def test_an_output_where_a_plain_value_is_needed_is_named_as_an_output_not_shown(
    args: dict, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import pulumi
    from pulumi.output import Unknown
    from pulumi_mta_sts.validation import settings_from_args

    def made(value: object) -> object:
        if isinstance(value, dict):
            return {key: made(item) for key, item in value.items()}
        if isinstance(value, list):
            return [made(item) for item in value]
        return {
            "output": pulumi.Output.from_input("example.com"),
            "secret": pulumi.Output.secret("mail.example.com"),
            "unknown": Unknown(),
        }.get(value, value)  # type: ignore[call-overload]

    with pytest.raises(pulumi.RunError) as raised:
        settings_from_args("shop", made(args))  # type: ignore[arg-type]
    message = str(raised.value)
    assert f"  - {named} (or secret); MtaStsDomain needs a plain value" in message, message
    assert "__str__" not in message and "object at 0x" not in message and "Output[T]" not in message, message
    assert "'domain' is required" not in message and "domain is required" not in message, message
    assert "__str__" not in capsys.readouterr().err
