"""The Netlify dynamic providers' methods against the local fake, and what Pulumi pickles of them."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dill
import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
from pulumi_mta_sts.netlify.api import NetlifyClient
from pulumi_mta_sts.netlify.models import file_digests
from pulumi_mta_sts.netlify.provider import NetlifyCertificateProvider, NetlifySiteProvider
from pulumi_mta_sts.netlify.provider_base import UNKNOWN
from pulumi_mta_sts.netlify.site_properties import site_changes
from pulumi_mta_sts.netlify.transport import NetlifyError
from pulumi_mta_sts.polling import Backoff

from mtasts.config import parse_settings
from mtasts.desired import desired_state
from tests.netlify_fake import FakeNetlify
from tests.pickles import names_loaded

TOKEN = "nfp_provider_token_5d0f2c7e81aa43"
PROJECT = Path(__file__).resolve().parents[1]
HOST = "mta-sts.example.com"
FAST = Backoff(initial=0.001, maximum=0.005)


def desired_files(**config: Any) -> dict[str, str]:
    """The files the core wants served (DesiredState.files), as the stack passes them."""
    settings = parse_settings({"domain": "example.com", **config}, netlify_token_available=True)
    return desired_state(settings).files


FILES = desired_files()


def configured(provider: Any, token: str = TOKEN) -> Any:
    provider.configure(ConfigureRequest(Config({"mta-sts:netlifyToken": token}, "mta-sts")))
    return provider


@pytest.fixture
def netlify(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNetlify]:
    monkeypatch.delenv("NETLIFY_AUTH_TOKEN", raising=False)
    with FakeNetlify(token=TOKEN) as fake:
        monkeypatch.setenv("NETLIFY_API_URL", fake.base_url)
        yield fake
        assert fake.violations == [], "requests the OpenAPI description does not allow"


@pytest.fixture
def sites(netlify: FakeNetlify) -> NetlifySiteProvider:
    return configured(NetlifySiteProvider(backoff=FAST, deploy_timeout_seconds=5, max_rate_limit_wait=0.01))


@pytest.fixture
def certificates(netlify: FakeNetlify) -> NetlifyCertificateProvider:
    return configured(NetlifyCertificateProvider(backoff=FAST, max_rate_limit_wait=0.01))


def inputs(files: Any = FILES, custom_domain: str = HOST, **extra: Any) -> dict[str, Any]:
    return {"custom_domain": custom_domain, "files": files, **extra}


# --- Site: create, read, update, delete ----------------------------------------------------------


def test_create_makes_a_site_at_the_policy_host_serving_every_repository_file(
    sites: NetlifySiteProvider, netlify: FakeNetlify
) -> None:
    result = sites.create(inputs())
    outs = result.outs or {}
    assert result.id == outs["site_id"] and result.id in netlify.sites
    assert outs["custom_domain"] == HOST
    assert outs["url"] == f"https://{HOST}"
    assert outs["file_digests"] == file_digests(FILES)
    assert netlify.served(result.id) == {"/" + path: text.encode() for path, text in FILES.items()}
    assert netlify.sites[result.id]["domain_aliases"] == []  # RFC 8461 §3.3: no name that redirects


def test_create_names_the_site_when_asked(sites: NetlifySiteProvider, netlify: FakeNetlify) -> None:
    result = sites.create(inputs(site_name="mta-sts-example-com"))
    assert (result.outs or {})["site_name"] == "mta-sts-example-com"


def test_create_deletes_the_new_site_when_its_deploy_fails(
    sites: NetlifySiteProvider, netlify: FakeNetlify
) -> None:
    netlify.fail_next("createSiteDeploy", 500, "deploy backend down")
    with pytest.raises(NetlifyError, match="deploy backend down"):
        sites.create(inputs())
    assert netlify.sites == {}, "a failed create must not leave a site Pulumi does not know about"


def test_diff_reports_no_changes_when_nothing_changed(
    sites: NetlifySiteProvider, netlify: FakeNetlify
) -> None:
    created = sites.create(inputs())
    calls = len(netlify.requests)
    diff = sites.diff(created.id, created.outs or {}, inputs(files=dict(FILES)))
    assert diff.changes is False
    assert len(netlify.requests) == calls, "diff must not call the API"


def test_diff_reports_a_new_policy_and_update_deploys_it(
    sites: NetlifySiteProvider, netlify: FakeNetlify
) -> None:
    created = sites.create(inputs())
    olds = created.outs or {}
    enforce = desired_files(mode="enforce")
    assert site_changes(olds, inputs(files=enforce)) == ["files"]
    diff = sites.diff(created.id, olds, inputs(files=enforce))
    assert diff.changes is True and diff.replaces == []
    outs = sites.update(created.id, olds, inputs(files=enforce)).outs or {}
    assert outs["deploy_id"] != olds["deploy_id"]
    served = netlify.served(created.id)["/.well-known/mta-sts.txt"]
    assert served == enforce[".well-known/mta-sts.txt"].encode()
    assert netlify.calls("updateSite") == [], "the custom domain did not change"


def test_a_custom_domain_change_is_an_update_that_does_not_redeploy(
    sites: NetlifySiteProvider, netlify: FakeNetlify
) -> None:
    created = sites.create(inputs())
    olds = created.outs or {}
    news = inputs(custom_domain="mta-sts.example.org")
    diff = sites.diff(created.id, olds, news)
    assert diff.changes is True and diff.replaces == []
    outs = sites.update(created.id, olds, news).outs or {}
    assert outs["custom_domain"] == "mta-sts.example.org" and outs["deploy_id"] == olds["deploy_id"]
    assert [r.body for r in netlify.calls("updateSite")] == [{"custom_domain": "mta-sts.example.org"}]
    assert len(netlify.calls("createSiteDeploy")) == 1


def test_read_returns_the_live_site_and_keeps_digests_while_our_deploy_is_published(
    sites: NetlifySiteProvider, netlify: FakeNetlify
) -> None:
    created = sites.create(inputs())
    read = sites.read(created.id, dict(created.outs or {}))
    assert read.id == created.id
    assert read.outs == created.outs


def test_read_forgets_the_digests_when_someone_else_deployed(
    sites: NetlifySiteProvider, netlify: FakeNetlify
) -> None:
    created = sites.create(inputs())
    with NetlifyClient(TOKEN, base_url=netlify.base_url) as other:
        hand_edit = {".well-known/mta-sts.txt": "hand edit\n"}
        other.deploy_files(created.id, hand_edit, timeout_seconds=5, backoff=FAST)
    read = sites.read(created.id, dict(created.outs or {}))
    assert (read.outs or {})["file_digests"] == {}
    assert sites.diff(created.id, read.outs or {}, inputs()).changes is True  # the next up redeploys ours


def test_read_of_a_deleted_site_returns_an_empty_id(sites: NetlifySiteProvider, netlify: FakeNetlify) -> None:
    created = sites.create(inputs())
    del netlify.sites[created.id]
    read = sites.read(created.id, dict(created.outs or {}))
    assert read.id == "" and read.outs == {}


def test_delete_removes_the_site_and_accepts_one_already_gone(
    sites: NetlifySiteProvider, netlify: FakeNetlify
) -> None:
    created = sites.create(inputs())
    sites.delete(created.id, created.outs or {})
    assert created.id not in netlify.sites
    sites.delete(created.id, created.outs or {})  # 404: already what we wanted
    assert [r.operation_id for r in netlify.requests[-2:]] == ["deleteSite", "deleteSite"]


def test_delete_reports_other_errors(sites: NetlifySiteProvider, netlify: FakeNetlify) -> None:
    created = sites.create(inputs())
    netlify.fail_next("deleteSite", 500, "try later")
    with pytest.raises(NetlifyError, match="HTTP 500"):
        sites.delete(created.id, created.outs or {})
    assert created.id in netlify.sites


def test_a_rate_limited_create_is_retried(sites: NetlifySiteProvider, netlify: FakeNetlify) -> None:
    netlify.rate_limit_next("createSite", retry_after="1")
    result = sites.create(inputs())
    assert result.id in netlify.sites
    assert len(netlify.calls("createSite")) == 2


# --- Site: check -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain",
    ["www.example.com", "example.com", "MTA-STS.example.com", "mta-sts.", "mta-sts.example.com.", 42],
)
def test_check_accepts_only_the_policy_host_as_custom_domain(sites: NetlifySiteProvider, domain: Any) -> None:
    failures = sites.check({}, inputs(custom_domain=domain)).failures
    assert [f.property for f in failures] == ["custom_domain"], f"{domain!r} must be refused"


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({}, "non-empty"),
        ({"README.md": "x"}, "must include .well-known/mta-sts.txt"),
        ({**FILES, "../escape": "x"}, "plain relative path"),
        ({**FILES, "bin": b"x"}, "maps paths to text"),
    ],
)
def test_check_refuses_files_netlify_must_not_serve(
    sites: NetlifySiteProvider, files: dict[str, Any], reason: str
) -> None:
    (failure,) = sites.check({}, inputs(files=files)).failures
    assert failure.property == "files" and reason in failure.reason


def test_check_accepts_the_core_files_and_values_unknown_during_preview(sites: NetlifySiteProvider) -> None:
    assert sites.check({}, inputs()).failures == []
    assert sites.check({}, inputs(files=UNKNOWN, custom_domain=UNKNOWN)).failures == []
    assert [f.property for f in sites.check({}, inputs(site_name="Bad Name")).failures] == ["site_name"]


# --- Certificate -------------------------------------------------------------------------------


def cert_inputs(site_id: str, timeout: float = 5.0, custom_domain: str = HOST) -> dict[str, Any]:
    return {"site_id": site_id, "custom_domain": custom_domain, "timeout_seconds": timeout}


def test_certificate_is_requested_again_until_dns_points_at_netlify(
    sites: NetlifySiteProvider, certificates: NetlifyCertificateProvider, netlify: FakeNetlify
) -> None:
    site = sites.create(inputs())
    netlify.dns_points_after(3)
    result = certificates.create(cert_inputs(site.id))
    assert result.id == f"{site.id}/ssl"
    assert (result.outs or {})["domains"] == [HOST]
    assert len(netlify.calls("provisionSiteTLSCertificate")) == 4


def test_certificate_gives_up_at_the_timeout_saying_what_it_saw_and_what_to_do(
    sites: NetlifySiteProvider, certificates: NetlifyCertificateProvider, netlify: FakeNetlify
) -> None:
    site = sites.create(inputs())
    with pytest.raises(NetlifyError) as caught:
        certificates.create(cert_inputs(site.id, timeout=0.3))
    message = str(caught.value)
    assert "bad dns for custom domain" in message
    assert f"dig +short A {HOST}" in message and "75.2.60.5" in message and "not proxied" in message
    assert re.search(r"after \d+ attempt\(s\) in 0.3 s", message)
    assert len(netlify.calls("provisionSiteTLSCertificate")) >= 2, "422 must be retried"


def test_certificate_errors_other_than_422_are_not_retried(
    sites: NetlifySiteProvider, certificates: NetlifyCertificateProvider, netlify: FakeNetlify
) -> None:
    site = sites.create(inputs())
    netlify.fail_next("provisionSiteTLSCertificate", 403, "forbidden")
    with pytest.raises(NetlifyError) as caught:
        certificates.create(cert_inputs(site.id))
    assert caught.value.status == 403
    assert len(netlify.calls("provisionSiteTLSCertificate")) == 1


def test_a_site_that_already_has_its_certificate_is_not_asked_again(
    sites: NetlifySiteProvider, certificates: NetlifyCertificateProvider, netlify: FakeNetlify
) -> None:
    site = sites.create(inputs())
    netlify.dns_points = True
    first = certificates.create(cert_inputs(site.id))
    again = certificates.update(first.id, first.outs or {}, cert_inputs(site.id))
    assert (again.outs or {})["domains"] == [HOST]
    assert len(netlify.calls("provisionSiteTLSCertificate")) == 1


def test_a_certificate_for_the_old_domain_is_reported_not_blamed_on_dns(
    sites: NetlifySiteProvider, certificates: NetlifyCertificateProvider, netlify: FakeNetlify
) -> None:
    site = sites.create(inputs())
    netlify.dns_points = True
    first = certificates.create(cert_inputs(site.id))
    moved = inputs(custom_domain="mta-sts.example.org")
    sites.update(site.id, site.outs or {}, moved)
    news = cert_inputs(site.id, timeout=0.2, custom_domain="mta-sts.example.org")
    with pytest.raises(NetlifyError) as caught:
        certificates.update(first.id, first.outs or {}, news)
    message = str(caught.value)
    assert f"already has a certificate, for ['{HOST}'], not for mta-sts.example.org" in message
    assert "certificate parameter is required" in message and "dig" not in message


def test_certificate_diff_ignores_the_timeout_and_replaces_on_a_new_site(
    certificates: NetlifyCertificateProvider,
) -> None:
    olds = {**cert_inputs("site-1", timeout=600), "state": "issued", "domains": [HOST]}
    assert certificates.diff("site-1/ssl", olds, cert_inputs("site-1", timeout=1800)).changes is False
    moved = certificates.diff("site-1/ssl", olds, cert_inputs("site-2"))
    assert moved.changes is True and moved.replaces == ["site_id"]
    news = cert_inputs("site-1", custom_domain="mta-sts.example.org")
    renamed = certificates.diff("site-1/ssl", olds, news)
    assert renamed.changes is True and renamed.replaces == []


def test_certificate_read_reports_a_missing_certificate_as_gone(
    sites: NetlifySiteProvider, certificates: NetlifyCertificateProvider, netlify: FakeNetlify
) -> None:
    site = sites.create(inputs())
    assert certificates.read(f"{site.id}/ssl", cert_inputs(site.id)).id == ""
    netlify.dns_points = True
    created = certificates.create(cert_inputs(site.id))
    read = certificates.read(created.id, dict(created.outs or {}))
    assert read.id == created.id and (read.outs or {})["state"] == "issued"


def test_certificate_check_refuses_another_host_and_a_negative_timeout(
    certificates: NetlifyCertificateProvider,
) -> None:
    news = cert_inputs("site-1", timeout=-1, custom_domain="www.example.com")
    failures = certificates.check({}, news).failures
    assert sorted(f.property for f in failures) == ["custom_domain", "timeout_seconds"]


# --- Credentials -------------------------------------------------------------------------------


def test_the_token_from_the_stack_config_is_used(netlify: FakeNetlify) -> None:
    provider = configured(NetlifySiteProvider(backoff=FAST))
    provider.create(inputs())
    assert {r.headers["Authorization"] for r in netlify.requests} == {f"Bearer {TOKEN}"}


def test_without_config_the_environment_token_is_used(
    netlify: FakeNetlify, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETLIFY_AUTH_TOKEN", TOKEN)
    provider = NetlifySiteProvider(backoff=FAST)
    provider.configure(ConfigureRequest(Config({}, "mta-sts")))
    assert provider.create(inputs()).id in netlify.sites


def test_no_token_anywhere_fails_before_any_request_and_says_how_to_set_one(netlify: FakeNetlify) -> None:
    provider = NetlifySiteProvider(backoff=FAST)
    with pytest.raises(
        NetlifyError, match=re.escape("scripts/pulumi config set --secret mta-sts:netlifyToken")
    ):
        provider.create(inputs())
    assert netlify.requests == []


def test_a_rejected_token_is_named_by_its_fix_not_by_its_value(netlify: FakeNetlify) -> None:
    wrong = "nfp_revoked_token_99999999"
    provider = configured(NetlifySiteProvider(backoff=FAST), token=wrong)
    with pytest.raises(NetlifyError) as caught:
        provider.create(inputs())
    assert caught.value.status == 401 and "personal access token" in str(caught.value)
    assert wrong not in str(caught.value)


def test_inputs_outputs_and_request_bodies_never_hold_the_token(
    sites: NetlifySiteProvider, certificates: NetlifyCertificateProvider, netlify: FakeNetlify
) -> None:
    site = sites.create(inputs())
    netlify.dns_points = True
    cert = certificates.create(cert_inputs(site.id))
    recorded = json.dumps([inputs(), site.outs, cert.outs, cert_inputs(site.id)])
    recorded += "".join(repr(r.body) + r.path for r in netlify.requests)
    assert TOKEN not in recorded


def _assert_token_absent(serialized: str, token: str) -> None:
    raw = base64.b64decode(serialized)
    assert token not in serialized
    assert token.encode() not in raw
    assert base64.b64encode(token.encode())[:16] not in serialized.encode()
    restored = dill.loads(raw)
    assert getattr(restored, "_token", None) is None


@pytest.mark.parametrize("provider_class", [NetlifySiteProvider, NetlifyCertificateProvider])
def test_the_provider_pulumi_pickles_holds_no_token_from_the_config(
    provider_class: type, netlify: FakeNetlify
) -> None:
    provider = configured(provider_class(backoff=FAST))
    assert provider._token == TOKEN  # configured, so the test below could fail
    _assert_token_absent(serialize_provider(provider), TOKEN)
    assert TOKEN.encode() not in dill.dumps(provider, recurse=True)


@pytest.mark.parametrize("provider_class", [NetlifySiteProvider, NetlifyCertificateProvider])
def test_the_provider_pulumi_pickles_holds_no_token_from_the_environment(
    provider_class: type, netlify: FakeNetlify, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETLIFY_AUTH_TOKEN", TOKEN)
    provider = provider_class(backoff=FAST)
    provider.configure(ConfigureRequest(Config({}, "mta-sts")))
    if isinstance(provider, NetlifySiteProvider):
        provider.create(inputs())  # the token has been read and used
    _assert_token_absent(serialize_provider(provider), TOKEN)


def test_an_unpickled_provider_is_configured_again_as_the_provider_host_does(netlify: FakeNetlify) -> None:
    serialized = serialize_provider(configured(NetlifySiteProvider(backoff=FAST)))
    restored = dill.loads(base64.b64decode(serialized))
    with pytest.raises(NetlifyError, match="No Netlify token"):
        restored.create(inputs())
    assert configured(restored).create(inputs()).id in netlify.sites


# --- What existing stacks' state holds -------------------------------------------------------------
# Pulumi records each dynamic resource's provider in the stack's state as `__provider`:
# `serialize_provider` runs `dill.dumps(provider, recurse=True)`, and dill pickles a class it can
# import by reference, by the module that defines it (`__module__`) and its `__qualname__` (dill's
# `save_type`), never by the module that re-exports it. `pulumi refresh` and `pulumi destroy`
# unpickle that value in the provider host, so every name in it is a promise to existing stacks.
# The data file holds the providers as the code before the split of `api.py` and `provider.py`
# pickled them (see its "about").

PICKLED_IN_STATE: dict[str, str] = json.loads(
    (PROJECT / "tests" / "data" / "netlify" / "pickled-providers.json").read_text()
)
PROVIDER_CLASSES: dict[str, type] = {c.__name__: c for c in (NetlifySiteProvider, NetlifyCertificateProvider)}


@pytest.mark.parametrize("name", sorted(PROVIDER_CLASSES))
def test_a_provider_in_existing_state_loads_through_the_modules_it_names(name: str) -> None:
    # Pickled when the package was `components`: the repository's shims keep those paths.
    assert names_loaded(PICKLED_IN_STATE[name]) == {
        ("components.netlify.provider", name),
        ("components.polling", "Backoff"),
    }
    assert names_loaded(serialize_provider(PROVIDER_CLASSES[name]())) == {
        ("pulumi_mta_sts.netlify.provider", name),
        ("pulumi_mta_sts.polling", "Backoff"),
    }


@pytest.mark.parametrize(
    "pickled",
    [
        PICKLED_IN_STATE["NetlifySiteProvider"],
        PICKLED_IN_STATE["NetlifyCertificateProvider"],
        serialize_provider(NetlifySiteProvider()),
    ],
    ids=["site-in-state", "certificate-in-state", "site-pickled-now"],
)
def test_a_fresh_interpreter_in_the_project_directory_loads_the_pickled_provider(pickled: str) -> None:
    # The provider host runs in the project directory and re-imports the provider's module
    # (pickled by reference), so the module must import cleanly there with no stack running.
    script = (
        "import base64, sys, dill\n"
        "provider = dill.loads(base64.b64decode(sys.stdin.read()))\n"
        "print(type(provider).__module__, type(provider).__name__, provider.deploy_timeout_seconds,\n"
        "      provider.max_rate_limit_wait, provider.backoff.initial, provider.backoff.maximum)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=pickled,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    module, name, *tunables = result.stdout.split()
    assert module == "pulumi_mta_sts.netlify.provider" and name in PROVIDER_CLASSES
    assert tunables == ["300.0", "60.0", "2.0", "30.0"]


@contextlib.contextmanager
def provider_host(netlify: FakeNetlify) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """Pulumi's own dynamic provider host, started in the project directory and configured with the
    stack config as the engine does it, driven over gRPC."""
    env = {k: v for k, v in os.environ.items() if k != "NETLIFY_AUTH_TOKEN"}
    env.update(NETLIFY_API_URL=netlify.base_url, PULUMI_PROJECT="mta-sts")
    host = subprocess.Popen(
        [sys.executable, "-m", "pulumi.dynamic"], cwd=PROJECT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert host.stdout is not None
        port = int(host.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            config = struct_pb2.Struct()
            config.update({"mta-sts:netlifyToken": TOKEN, "mta-sts:domain": "example.com"})
            stub.Configure(provider_pb2.ConfigureRequest(args=config), timeout=30)
            yield stub
    finally:
        host.kill()
        host.wait(timeout=10)


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


SITE_URN = "urn:pulumi:dev::mta-sts::pulumi-python:dynamic/netlify:Site::site"
CERTIFICATE_URN = "urn:pulumi:dev::mta-sts::pulumi-python:dynamic/netlify:Certificate::certificate"


def test_refresh_and_destroy_load_the_providers_existing_state_holds_in_the_provider_host(
    netlify: FakeNetlify,
) -> None:
    """What `pulumi refresh` and `pulumi destroy` do with a stack deployed before the split: the host
    unpickles `__provider` from the state, reads the site and its certificate, deletes the site."""
    site_id = configured(NetlifySiteProvider(backoff=FAST)).create(inputs()).id
    netlify.dns_points = True
    configured(NetlifyCertificateProvider(backoff=FAST)).create(cert_inputs(site_id))
    site_state = {**inputs(), "site_id": site_id, "__provider": PICKLED_IN_STATE["NetlifySiteProvider"]}
    certificate_state = {**cert_inputs(site_id), "__provider": PICKLED_IN_STATE["NetlifyCertificateProvider"]}
    with provider_host(netlify) as stub:
        site = stub.Read(
            provider_pb2.ReadRequest(id=site_id, urn=SITE_URN, properties=struct(site_state)), timeout=30
        )
        certificate = stub.Read(
            provider_pb2.ReadRequest(
                id=f"{site_id}/ssl", urn=CERTIFICATE_URN, properties=struct(certificate_state)
            ),
            timeout=30,
        )
        stub.Delete(
            provider_pb2.DeleteRequest(id=site_id, urn=SITE_URN, properties=site.properties), timeout=30
        )
    assert site.id == site_id and site.properties["custom_domain"] == HOST
    assert certificate.id == f"{site_id}/ssl" and list(certificate.properties["domains"]) == [HOST]
    assert site_id not in netlify.sites, "destroy deleted the site through the provider from the state"


def test_the_provider_host_reads_the_token_from_the_stack_config(netlify: FakeNetlify) -> None:
    """Configure with the stack config, create, diff with nothing changed, read a site deleted
    behind the host's back."""
    properties = struct({**inputs(), "__provider": serialize_provider(NetlifySiteProvider(backoff=FAST))})
    with provider_host(netlify) as stub:
        created = stub.Create(provider_pb2.CreateRequest(urn=SITE_URN, properties=properties), timeout=60)
        diff = stub.Diff(
            provider_pb2.DiffRequest(id=created.id, urn=SITE_URN, olds=created.properties, news=properties),
            timeout=30,
        )
        del netlify.sites[created.id]
        read = stub.Read(
            provider_pb2.ReadRequest(id=created.id, urn=SITE_URN, properties=created.properties), timeout=30
        )
    assert created.id.startswith("site-")
    assert diff.changes == provider_pb2.DiffResponse.DIFF_NONE
    assert read.id == "", "a site deleted outside Pulumi reads back as gone"
    assert {r.headers["Authorization"] for r in netlify.requests} == {f"Bearer {TOKEN}"}
    assert TOKEN not in str(created.properties)
