"""The token given to the component as `netlify_token` reaches the Netlify providers as an input.

The providers prefer it over the stack config and NETLIFY_AUTH_TOKEN for create and update,
never return it in an output, scrub it from errors, and diff ignores it; read and delete,
which see only the recorded outputs, still use the config or the environment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi_mta_sts.netlify.provider import NetlifyCertificateProvider, NetlifySiteProvider
from pulumi_mta_sts.netlify.provider_base import token_safe
from pulumi_mta_sts.netlify.transport import NetlifyError
from pulumi_mta_sts.polling import Backoff

from mtasts.config import parse_settings
from mtasts.desired import desired_state
from tests.netlify_fake import FakeNetlify
from tests.test_netlify_secrets import HOSTILE, everything_shown, leaks

TOKEN = "nfp_Input9Token3Kq2ZLm9Pw4Rt8Vb3Nc6"
OTHER = "nfp_Config7Token1Hx7Kq2ZLm9Pw4Rt8"
FAST = Backoff(initial=0.001, maximum=0.005)
FILES = desired_state(parse_settings({"domain": "example.com"}, netlify_token_available=True)).files
HOST = "mta-sts.example.com"


@pytest.fixture
def netlify(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNetlify]:
    monkeypatch.setenv("NETLIFY_AUTH_TOKEN", "nfp_environment_token_not_used")
    with FakeNetlify(token=TOKEN) as fake:
        monkeypatch.setenv("NETLIFY_API_URL", fake.base_url)
        yield fake


def configured(provider: Any, token: str = OTHER) -> Any:
    provider.configure(ConfigureRequest(Config({"mta-sts:netlifyToken": token}, "mta-sts")))
    return provider


def site_inputs(**extra: Any) -> dict[str, Any]:
    return {"custom_domain": HOST, "files": dict(FILES), "netlify_token": TOKEN, **extra}


def test_the_input_token_is_used_for_create_and_update_over_the_config_and_the_environment(
    netlify: FakeNetlify,
) -> None:
    sites = configured(NetlifySiteProvider(backoff=FAST, deploy_timeout_seconds=5))
    created = sites.create(site_inputs())
    sites.update(created.id, created.outs, site_inputs(files={**FILES, "extra.txt": "x"}))
    netlify.dns_points = True
    certificates = configured(NetlifyCertificateProvider(backoff=FAST))
    cert = {"site_id": created.id, "custom_domain": HOST, "timeout_seconds": 5, "netlify_token": TOKEN}
    certificates.create(cert)
    certificates.update(f"{created.id}/ssl", cert, cert)
    assert netlify.requests
    assert {r.headers["Authorization"] for r in netlify.requests} == {f"Bearer {TOKEN}"}


def test_read_and_delete_see_only_the_state_so_they_use_the_config_token(netlify: FakeNetlify) -> None:
    created = NetlifySiteProvider(backoff=FAST, deploy_timeout_seconds=5).create(site_inputs())
    unconfigured = NetlifySiteProvider(backoff=FAST)
    unconfigured.configure(ConfigureRequest(Config({}, "mta-sts")))
    with pytest.raises(NetlifyError):  # the environment's token is wrong: it was used, not the input's
        unconfigured.read(created.id, created.outs)
    configured(NetlifySiteProvider(backoff=FAST), token=TOKEN).delete(created.id, created.outs)
    assert created.id not in netlify.sites


def test_outputs_hold_nothing_of_the_input_token(netlify: FakeNetlify) -> None:
    created = NetlifySiteProvider(backoff=FAST, deploy_timeout_seconds=5).create(site_inputs())
    netlify.dns_points = True
    cert = NetlifyCertificateProvider(backoff=FAST).create(
        {"site_id": created.id, "custom_domain": HOST, "timeout_seconds": 5, "netlify_token": TOKEN}
    )
    assert "netlify_token" not in (created.outs or {}) and "netlify_token" not in (cert.outs or {})
    assert not leaks(json.dumps([created.outs, cert.outs]), TOKEN)


@pytest.mark.parametrize("answer", ["json-echo", "cut-by-the-server", "every-char-escaped", "long-body"])
def test_an_api_answer_echoing_the_input_token_is_scrubbed_from_the_error(
    netlify: FakeNetlify, answer: str
) -> None:
    body, content_type = HOSTILE[answer]
    netlify.answer_next("createSite", 422, body, content_type)
    with pytest.raises(NetlifyError) as caught:
        configured(NetlifySiteProvider(backoff=FAST)).create(site_inputs())
    shown = everything_shown(caught.value)
    assert not leaks(shown, TOKEN), shown[:2000]


def test_a_token_that_appears_or_changes_alone_is_no_change(netlify: FakeNetlify) -> None:
    sites = configured(NetlifySiteProvider(backoff=FAST, deploy_timeout_seconds=5), token=TOKEN)
    created = sites.create({"custom_domain": HOST, "files": dict(FILES)})
    assert sites.diff(created.id, created.outs, site_inputs()).changes is False
    assert sites.diff(created.id, created.outs, site_inputs(netlify_token=OTHER)).changes is False
    certificates = NetlifyCertificateProvider(backoff=FAST)
    olds = {"site_id": created.id, "custom_domain": HOST, "timeout_seconds": 5, "state": "issued"}
    for token in (TOKEN, OTHER):
        assert certificates.diff(f"{created.id}/ssl", olds, {**olds, "netlify_token": token}).changes is False


class _Leaky(NetlifySiteProvider):
    @token_safe
    def create(self, props: dict[str, Any]) -> Any:
        raise RuntimeError(f"a library said: Authorization: Bearer {props['netlify_token']}")


def test_any_error_a_provider_method_raises_is_scrubbed_of_the_input_token(netlify: FakeNetlify) -> None:
    with pytest.raises(NetlifyError) as caught:
        configured(_Leaky(backoff=FAST)).create(site_inputs())
    shown = everything_shown(caught.value)
    assert "RuntimeError" in shown and not leaks(shown, TOKEN), shown[:2000]
