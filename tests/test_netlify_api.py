"""The Netlify client against the local fake, which checks every request against the OpenAPI description."""

from __future__ import annotations

import email.utils
import pickle
import re
import socket
from collections.abc import Iterator

import pytest
from pulumi_mta_sts.netlify.api import NetlifyClient
from pulumi_mta_sts.netlify.models import file_digests, sha1_hex
from pulumi_mta_sts.netlify.transport import NetlifyError, retry_after
from pulumi_mta_sts.polling import Backoff

from tests.netlify_fake import FakeNetlify

TOKEN = "nfp_test_token_7c1e0a9b33d54f"
FAST = Backoff(initial=0.001, maximum=0.005)
POLICY = "version: STSv1\nmode: testing\nmx: mail.protonmail.ch\nmax_age: 604800\n"
FILES = {
    ".well-known/mta-sts.txt": POLICY,
    "_headers": "/.well-known/mta-sts.txt\n  Content-Type: text/plain; charset=utf-8\n",
    "README.md": "# MTA-STS policy\n",
}


@pytest.fixture
def netlify() -> Iterator[FakeNetlify]:
    with FakeNetlify(token=TOKEN) as fake:
        yield fake
        assert fake.violations == [], "requests the OpenAPI description does not allow"


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(netlify: FakeNetlify, sleeps: list[float]) -> Iterator[NetlifyClient]:
    with NetlifyClient(TOKEN, base_url=netlify.base_url, timeout=5, sleep=sleeps.append) as api:
        yield api


def test_create_site_sends_only_the_custom_domain_and_never_aliases(
    client: NetlifyClient, netlify: FakeNetlify
) -> None:
    site = client.create_site("mta-sts.example.com")
    assert site.custom_domain == "mta-sts.example.com"
    (request,) = netlify.calls("createSite")
    assert request.body == {"custom_domain": "mta-sts.example.com"}  # RFC 8461 §3.2: no alias, no redirect


def test_create_site_sends_the_name_when_one_is_given(client: NetlifyClient, netlify: FakeNetlify) -> None:
    site = client.create_site("mta-sts.example.com", name="mta-sts-example-com")
    assert site.name == "mta-sts-example-com"
    assert netlify.calls("createSite")[0].body["name"] == "mta-sts-example-com"


def test_deploy_serves_exactly_the_given_files(client: NetlifyClient, netlify: FakeNetlify) -> None:
    site = client.create_site("mta-sts.example.com")
    deploy = client.deploy_files(site.id, FILES, timeout_seconds=5, backoff=FAST)
    assert deploy.state == "ready"
    assert netlify.served(site.id) == {"/" + path: text.encode() for path, text in FILES.items()}
    assert netlify.calls("createSiteDeploy")[0].body == {"files": file_digests(FILES)}


def test_deploy_uploads_only_the_digests_netlify_lists_as_required(
    client: NetlifyClient, netlify: FakeNetlify
) -> None:
    site = client.create_site("mta-sts.example.com")
    client.deploy_files(site.id, FILES, timeout_seconds=5, backoff=FAST)
    changed = dict(FILES, **{".well-known/mta-sts.txt": POLICY.replace("testing", "enforce")})
    client.deploy_files(site.id, changed, timeout_seconds=5, backoff=FAST)
    uploads = [r.path.split("/files/", 1)[1] for r in netlify.calls("uploadDeployFile")]
    assert uploads[len(FILES) :] == [".well-known/mta-sts.txt"]
    assert netlify.served(site.id)["/.well-known/mta-sts.txt"] == changed[".well-known/mta-sts.txt"].encode()


def test_deploy_uploads_content_shared_by_two_paths_once(client: NetlifyClient, netlify: FakeNetlify) -> None:
    site = client.create_site("mta-sts.example.com")
    files = {".well-known/mta-sts.txt": POLICY, "copy.txt": POLICY}
    client.deploy_files(site.id, files, timeout_seconds=5, backoff=FAST)
    assert len(netlify.calls("uploadDeployFile")) == 1  # `required` lists digests, not paths
    assert netlify.served(site.id)["/copy.txt"] == POLICY.encode()


def test_deploy_fails_with_the_state_it_saw_when_it_is_not_ready_in_time(
    client: NetlifyClient, netlify: FakeNetlify
) -> None:
    netlify.polls_before_ready = 10_000
    site = client.create_site("mta-sts.example.com")
    with pytest.raises(NetlifyError, match=re.escape("still 'processing' after 0.05 s")):
        client.deploy_files(site.id, FILES, timeout_seconds=0.05, backoff=FAST)


def test_update_site_patches_the_custom_domain(client: NetlifyClient, netlify: FakeNetlify) -> None:
    site = client.create_site("mta-sts.example.com")
    updated = client.update_site(site.id, custom_domain="mta-sts.example.org")
    assert updated.custom_domain == "mta-sts.example.org"
    (request,) = netlify.calls("updateSite")
    assert (request.method, request.body) == ("PATCH", {"custom_domain": "mta-sts.example.org"})


def test_delete_site_removes_it(client: NetlifyClient, netlify: FakeNetlify) -> None:
    site = client.create_site("mta-sts.example.com")
    client.delete_site(site.id)
    assert site.id not in netlify.sites


def test_a_wrong_token_says_how_to_set_a_new_one_and_never_shows_either(netlify: FakeNetlify) -> None:
    wrong = "nfp_expired_token_0000aaaa"
    with NetlifyClient(wrong, base_url=netlify.base_url) as api, pytest.raises(NetlifyError) as caught:
        api.get_site("site-1")
    error = caught.value
    assert error.status == 401
    assert "scripts/pulumi config set --secret mta-sts:netlifyToken" in str(error)
    assert "NETLIFY_AUTH_TOKEN" in str(error)
    assert wrong not in str(error) and TOKEN not in str(error)


def test_a_missing_site_is_a_404_that_suggests_a_refresh(client: NetlifyClient) -> None:
    with pytest.raises(NetlifyError, match="`scripts/pulumi refresh`") as caught:
        client.get_site("site-that-does-not-exist")
    assert caught.value.status == 404


def test_ssl_422_says_dns_does_not_point_at_netlify_yet(client: NetlifyClient) -> None:
    site = client.create_site("mta-sts.example.com")
    with pytest.raises(
        NetlifyError, match=re.escape("DNS for mta-sts.example.com does not point at Netlify")
    ) as caught:
        client.provision_certificate(site.id, "mta-sts.example.com")
    assert caught.value.status == 422
    assert caught.value.server_message == "bad dns for custom domain"


def test_ssl_succeeds_once_dns_points(client: NetlifyClient, netlify: FakeNetlify) -> None:
    site = client.create_site("mta-sts.example.com")
    netlify.dns_points = True
    certificate = client.provision_certificate(site.id, "mta-sts.example.com")
    assert certificate.domains == ("mta-sts.example.com",)
    assert netlify.calls("provisionSiteTLSCertificate")[0].query == {}  # no custom certificate sent


def test_a_rate_limited_request_waits_for_retry_after_and_succeeds(
    client: NetlifyClient, netlify: FakeNetlify, sleeps: list[float]
) -> None:
    site = client.create_site("mta-sts.example.com")
    netlify.rate_limit_next("getSite", retry_after="7")
    assert client.get_site(site.id).id == site.id
    assert sleeps == [7.0]
    assert len(netlify.calls("getSite")) == 2


def test_rate_limit_retries_are_bounded_in_number_and_wait(netlify: FakeNetlify) -> None:
    sleeps: list[float] = []
    netlify.rate_limit_next("getSite", retry_after="3600", times=10)
    api = NetlifyClient(TOKEN, base_url=netlify.base_url, sleep=sleeps.append, max_rate_limit_wait=2.0)
    with api, pytest.raises(NetlifyError, match="rate-limited") as caught:
        api.get_site("site-1")
    assert caught.value.status == 429
    assert sleeps == [2.0, 2.0, 2.0]
    assert len(netlify.calls("getSite")) == 4


def test_retry_after_reads_seconds_dates_and_the_rate_limit_reset() -> None:
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after({"Retry-After": "12"}, now=lambda: now) == 12
    assert retry_after({"Retry-After": date}, now=lambda: now) == pytest.approx(30, abs=1)
    assert retry_after({"X-RateLimit-Reset": str(int(now + 45))}, now=lambda: now) == 45
    assert retry_after({}, now=lambda: now) == 1.0


@pytest.mark.parametrize("value", ["inf", "nan", "1e300", "-inf"])
def test_a_retry_after_no_wait_could_honour_is_read_as_a_day_at_most(value: str) -> None:
    # It is said back in the error ("wait ... s or more"): never "inf", "nan" or 1e+300 seconds.
    seconds = retry_after({"Retry-After": value})
    assert 0 <= seconds <= 86_400 and f"{seconds:g}" not in ("inf", "nan")


def test_a_server_message_that_echoes_the_token_is_scrubbed(
    client: NetlifyClient, netlify: FakeNetlify
) -> None:
    netlify.fail_next("getSite", 500, message=f"internal error for Bearer {TOKEN}")
    with pytest.raises(NetlifyError) as caught:
        client.get_site("site-1")
    assert TOKEN not in str(caught.value) and TOKEN not in caught.value.server_message
    assert "[token]" in str(caught.value)


def test_an_unreachable_api_fails_without_the_token() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the client connects
    api = NetlifyClient(TOKEN, base_url=f"http://127.0.0.1:{port}/api/v1", timeout=2)
    with api, pytest.raises(NetlifyError, match="did not answer") as caught:
        api.get_site("site-1")
    assert caught.value.status is None and TOKEN not in str(caught.value)


def test_the_client_is_never_pickled_and_its_repr_hides_the_token(client: NetlifyClient) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(client)
    assert TOKEN not in repr(client)


def test_an_empty_token_is_refused_before_any_request() -> None:
    with pytest.raises(NetlifyError, match="NETLIFY_AUTH_TOKEN"):
        NetlifyClient("", base_url="http://127.0.0.1:9/api/v1")


def test_file_digests_are_sha1_of_the_text_keyed_by_absolute_path() -> None:
    assert file_digests({"a/b.txt": "x"}) == {"/a/b.txt": "11f6ad8ec52a2984abaafd7c3b516503785c2072"}
    assert sha1_hex("x") == sha1_hex(b"x")


# The fake must be able to fail: a checker that accepts everything proves nothing.


def test_the_fake_rejects_a_path_the_description_does_not_have(
    netlify: FakeNetlify, client: NetlifyClient
) -> None:
    with pytest.raises(NetlifyError):
        client._request("GET", "/sites/site-1/bogus", "probing")
    assert netlify.violations and "no path in the description matches" in netlify.violations[0]
    netlify.violations.clear()


def test_the_fake_rejects_a_method_the_path_does_not_allow(
    netlify: FakeNetlify, client: NetlifyClient
) -> None:
    with pytest.raises(NetlifyError):
        client._request("PUT", "/sites/site-1", "probing", json={"name": "x"})
    assert netlify.violations and "allows only" in netlify.violations[0]
    netlify.violations.clear()


def test_the_fake_rejects_a_body_field_the_schema_does_not_describe(
    netlify: FakeNetlify, client: NetlifyClient
) -> None:
    with pytest.raises(NetlifyError):
        client._request("POST", "/sites", "probing", json={"customDomain": "mta-sts.example.com"})
    assert netlify.violations and "body.customDomain: not described" in netlify.violations[0]
    netlify.violations.clear()


def test_the_fake_rejects_a_body_of_the_wrong_type(netlify: FakeNetlify, client: NetlifyClient) -> None:
    with pytest.raises(NetlifyError):
        client._request("POST", "/sites/site-1/deploys", "probing", json={"files": ["/a"]})
    assert netlify.violations and "body.files: expected object" in netlify.violations[0]
    netlify.violations.clear()


def test_the_fake_rejects_an_undescribed_query_parameter(netlify: FakeNetlify, client: NetlifyClient) -> None:
    with pytest.raises(NetlifyError):
        client._request("GET", "/sites/site-1?verbose=1", "probing")
    assert netlify.violations and "query parameter 'verbose'" in netlify.violations[0]
    netlify.violations.clear()
