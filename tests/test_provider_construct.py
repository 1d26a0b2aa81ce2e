"""`MtaStsDomain` created from another language: Construct over gRPC, as the engine calls it.

A TypeScript, Go or YAML program registers the component remotely; the engine starts the
provider from the plugin folder and calls Construct with the inputs under their schema
(camelCase) names, integers as floats, the token as a secret. The provider hands the
component a plain dict with snake_case keys; the component registers its children with the
(fake) resource monitor and answers with its outputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import json_format, struct_pb2
from google.rpc import status_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import errors_pb2, provider_pb2

from mtasts.policy import POLICY_PATH
from policy.view import component_of
from tests.provider_host import FakeDeployment, RunningProvider, fake_deployment, running_provider

TOKEN = "mta-sts:index:MtaStsDomain"
ZONE_ID = "fedcba9876543210fedcba9876543210"


def secret(value: str) -> dict[str, Any]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


@pytest.fixture(scope="module")
def deployment() -> Iterator[tuple[FakeDeployment, RunningProvider]]:
    with fake_deployment() as fake, running_provider(fake.engine_address) as provider:
        yield fake, provider


def construct(
    deployment: tuple[FakeDeployment, RunningProvider], name: str, inputs: dict[str, Any]
) -> dict[str, Any]:
    fake, provider = deployment
    request = provider_pb2.ConstructRequest(
        project="mta-sts-test",
        stack="test",
        organization="organization",
        parallel=1,
        monitorEndpoint=fake.monitor_address,
        type=TOKEN,
        name=name,
        inputs=json_format.ParseDict(inputs, struct_pb2.Struct()),
    )
    response = provider.stub.Construct(request, timeout=120)
    assert response.urn.endswith(f"::{TOKEN}::{name}")
    return json_format.MessageToDict(response.state)


def registered(deployment: tuple[FakeDeployment, RunningProvider], type_: str, name_prefix: str) -> list[Any]:
    fake, _ = deployment
    return [r for r in fake.monitor.registered if r.type == type_ and r.name.startswith(name_prefix)]


def test_a_component_created_from_another_language_gets_its_camel_case_inputs_as_snake_case_arguments(
    deployment: tuple[FakeDeployment, RunningProvider],
) -> None:
    state = construct(
        deployment,
        "example-com",
        {
            "domain": "example.com",
            "mode": "enforce",
            "maxAge": 86400.0,  # how every number crosses the wire
            "tlsRpt": ["mailto:tls-reports@example.com"],
            "hosting": "github-pages",
            "zoneId": ZONE_ID,
            "readinessTimeout": 600.0,
            "adopt": False,
        },
    )
    assert state["policyUrl"] == "https://mta-sts.example.com/.well-known/mta-sts.txt"
    assert "mode: enforce" in state["policyText"]
    assert "max_age: 86400\n" in state["policyText"]
    records = registered(deployment, "cloudflare:index/dnsRecord:DnsRecord", "example-com")
    assert {record.inputs["zoneId"] for record in records} == {ZONE_ID}
    tls_rpt = [r for r in records if r.inputs["name"] == "_smtp._tls.example.com"]
    assert [r.inputs["content"] for r in tls_rpt] == ['"v=TLSRPTv1; rua=mailto:tls-reports@example.com"']
    files = registered(deployment, "github:index/repositoryFile:RepositoryFile", "example-com")
    assert any(f.inputs["file"] == POLICY_PATH for f in files)


def test_the_component_registers_itself_under_its_token_with_the_name_the_program_gave(
    deployment: tuple[FakeDeployment, RunningProvider],
) -> None:
    construct(
        deployment, "example-org", {"domain": "example.org", "zoneId": ZONE_ID, "hosting": "github-pages"}
    )
    components = registered(deployment, TOKEN, "example-org")
    assert [c.name for c in components] == ["example-org"]


def test_a_secret_netlify_token_reaches_the_netlify_resources_as_a_secret_and_no_other_registration_or_output(
    deployment: tuple[FakeDeployment, RunningProvider],
) -> None:
    outputs = construct(
        deployment,
        "example-net",
        {"domain": "example.net", "zoneId": ZONE_ID, "netlifyToken": secret("nfp_not_a_real_token")},
    )
    assert "nfp_not_a_real_token" not in repr(outputs)
    fake, _ = deployment
    mine = [r for r in fake.monitor.registered if r.name.startswith("example-net")]
    assert mine, "nothing registered for example-net"
    netlify = [r for r in mine if r.type.startswith("pulumi-python:dynamic/netlify:")]
    assert {r.type.rsplit(":", 1)[1] for r in netlify} == {"Site", "Certificate"}
    for resource in netlify:
        token = resource.inputs["netlify_token"]
        assert rpc.is_rpc_secret(token) and rpc.unwrap_rpc_secret(token) == "nfp_not_a_real_token"
    others = [r for r in mine if r not in netlify and r.type != "pulumi:providers:netlify"]
    assert not any("nfp_not_a_real_token" in repr(r.inputs) for r in others)


def property_errors(error: grpc.RpcError) -> dict[str, str]:
    """The per-property problems the engine shows, from the status details the provider sends."""
    metadata = dict(error.trailing_metadata() or ())
    status = status_pb2.Status.FromString(metadata["grpc-status-details-bin"])
    found: dict[str, str] = {}
    for detail in status.details:
        errors = errors_pb2.InputPropertiesError()
        assert detail.Unpack(errors)
        found |= {e.property_path: e.reason for e in errors.errors}
    return found


def test_refused_arguments_are_each_named_as_the_caller_wrote_them_without_a_python_traceback(
    deployment: tuple[FakeDeployment, RunningProvider],
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        construct(
            deployment, "bad", {"domain": "example.com", "mode": "strict", "maxAge": -5.0, "zoneId": ZONE_ID}
        )
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "MtaStsDomain 'bad'" in (raised.value.details() or "")
    problems = property_errors(raised.value)
    assert set(problems) == {"mode", "maxAge"}
    assert problems["mode"] == "mode 'strict' is not accepted; expected one of enforce, testing, none"
    assert problems["maxAge"].startswith("maxAge -5 is not accepted")
    assert not any("Traceback" in text or 'File "' in text for text in problems.values())
    fake, _ = deployment
    assert not [r for r in fake.monitor.registered if r.name.startswith("bad")]


def test_a_number_too_large_for_a_whole_number_is_named_as_the_caller_wrote_it_not_as_its_digits(
    deployment: tuple[FakeDeployment, RunningProvider],
) -> None:
    # 1e300 is a whole float, but no integer input can mean it: the message quotes the number
    # the program wrote, not the 301 digits of int(1e300).
    with pytest.raises(grpc.RpcError) as raised:
        construct(deployment, "huge", {"domain": "example.com", "maxAge": 1e300, "zoneId": ZONE_ID})
    problem = property_errors(raised.value)["maxAge"]
    assert problem.startswith("maxAge 1.0e+300 is not accepted"), problem
    assert "0000000000" not in problem


def test_the_outputs_the_component_registers_tell_the_policy_pack_its_domain_and_live_mx_hosts(
    deployment: tuple[FakeDeployment, RunningProvider],
) -> None:
    # Stack policies see a component's registered outputs, not its inputs (the engine replaces them).
    construct(
        deployment, "example-edu", {"domain": "example.edu", "zoneId": ZONE_ID, "hosting": "github-pages"}
    )
    fake, _ = deployment
    [urn] = [r.urn for r in registered(deployment, TOKEN, "example-edu")]
    seen = component_of(urn, fake.monitor.outputs[urn])
    assert seen.domain == "example.edu"
    assert seen.live_mx_hosts == []


def refused(
    deployment: tuple[FakeDeployment, RunningProvider], name: str, inputs: dict[str, Any]
) -> dict[str, str]:
    with pytest.raises(grpc.RpcError) as raised:
        construct(deployment, name, inputs)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    problems = property_errors(raised.value)
    assert not any("Traceback" in text or 'File "' in text for text in problems.values()), problems
    assert not registered(deployment, TOKEN, name)
    return problems


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"maxAge": float("inf"), "mode": "strict"}, {"maxAge", "mode"}),
        ({"readinessTimeout": float("-inf")}, {"readinessTimeout"}),
        ({"maxAge": float("nan"), "mode": "strict", "domain": "not a domain"}, {"maxAge", "mode", "domain"}),
    ],
)
def test_a_number_no_whole_number_can_be_is_refused_with_every_other_problem(
    deployment: tuple[FakeDeployment, RunningProvider], inputs: dict[str, Any], named: set[str]
) -> None:
    problems = refused(deployment, "nonfinite", {"domain": "example.com", "zoneId": ZONE_ID, **inputs})
    assert set(problems) == named, problems
    assert problems["maxAge" if "maxAge" in named else "readinessTimeout"].endswith(
        "expected a whole number of seconds from 0 to 31557600"
        if "maxAge" in named
        else "expected a whole number of seconds from 10 to 86400"
    ), problems


def test_a_proton_object_missing_its_required_fields_is_refused_with_every_other_problem(
    deployment: tuple[FakeDeployment, RunningProvider],
) -> None:
    inputs = {"domain": "example.com", "zoneId": ZONE_ID, "mode": "strict", "maxAge": -5.0}
    problems = refused(deployment, "proton-part", {**inputs, "proton": {"verification": "abc123"}})
    assert set(problems) == {"proton.dkim", "mode", "maxAge"}, problems
    assert "Missing required input" not in problems["proton.dkim"]


def test_an_empty_proton_object_is_off_as_in_python_and_stack_config(
    deployment: tuple[FakeDeployment, RunningProvider],
) -> None:
    construct(deployment, "proton-empty", {"domain": "example.org", "zoneId": ZONE_ID, "proton": {}})
    assert registered(deployment, TOKEN, "proton-empty")


def test_an_input_the_schema_does_not_name_is_refused_as_the_python_component_refuses_it(
    deployment: tuple[FakeDeployment, RunningProvider],
) -> None:
    inputs = {"domain": "example.com", "zoneId": ZONE_ID, "maxage": 5.0, "max_age": 5.0, "mode": "strict"}
    problems = refused(deployment, "misspelt", {**inputs, "proton": {"dkimm": {}}})
    assert problems["maxage"] == "'maxage' is not an argument; did you mean 'maxAge'?"
    assert problems["max_age"] == "'max_age' is not an argument; did you mean 'maxAge'?"
    assert problems["proton.dkimm"] == "'proton.dkimm' is not an argument; did you mean 'proton.dkim'?"
    assert "mode" in problems


def test_a_misspelt_input_alone_is_refused(deployment: tuple[FakeDeployment, RunningProvider]) -> None:
    problems = refused(
        deployment, "misspelt-alone", {"domain": "example.com", "zoneId": ZONE_ID, "maxage": 5.0}
    )
    assert set(problems) == {"maxage"}, problems


@pytest.mark.parametrize("domain", [rpc.UNKNOWN, secret("example.com")])
def test_an_unknown_or_secret_where_a_plain_value_is_needed_is_named_so_not_shown(
    deployment: tuple[FakeDeployment, RunningProvider], domain: Any
) -> None:
    problems = refused(deployment, "output-domain", {"domain": domain, "zoneId": ZONE_ID, "mode": "strict"})
    assert set(problems) == {"domain", "mode"}, problems
    assert problems["domain"].startswith("domain is an output (or secret); MtaStsDomain needs a plain value")
    assert "object at 0x" not in problems["domain"] and "example.com" not in problems["domain"]
