"""The Netlify token never reaches output, state or logs, whatever the API answers and however it was pasted.

Hostile answers come from the local fake (tests/netlify_fake.py): an API or a proxy that echoes
the Authorization header back, raw, JSON-escaped, URL-encoded, base64, cut short or buried in
a long body. A leak is any run of `PARTIAL_TOKEN_CHARS` characters of the token, or of one of
its encodings, in what the user or the state could see.
"""

from __future__ import annotations

import base64
import json
import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from components.netlify.api import NetlifyClient
from components.netlify.credential import PARTIAL_TOKEN_CHARS, TokenError, clean_token, scrub
from components.netlify.provider import NetlifyCertificateProvider, NetlifySiteProvider
from components.netlify.transport import NetlifyError
from components.polling import Backoff
from components.settings import NO_TOKEN_IN_PREVIEW
from mtasts.config import parse_settings
from mtasts.desired import desired_state
from tests.netlify_fake import FakeNetlify
from tests.pulumi_mocks import run_program

TOKEN = "nfp_Hx7Kq2ZLm9Pw4Rt8Vb3Nc6Yd1Fg5Js0A"
FAST = Backoff(initial=0.001, maximum=0.005)
FILES = desired_state(parse_settings({"domain": "example.com"}, netlify_token_available=True)).files
HOST = "mta-sts.example.com"


def leaks(text: str, token: str = TOKEN) -> list[str]:
    """Every piece of `token` (raw or encoded) that `text` still holds."""
    forms = {token, quote(token, safe=""), json.dumps(token)[1:-1]}
    found = [
        form[i : i + PARTIAL_TOKEN_CHARS]
        for form in forms
        for i in range(len(form) - PARTIAL_TOKEN_CHARS + 1)
        if form[i : i + PARTIAL_TOKEN_CHARS].lower() in text.lower()
    ]
    for whole in (token, f"Bearer {token}"):
        encoded = base64.b64encode(whole.encode()).decode()
        if encoded.rstrip("=") in text or encoded[:16] in text:
            found.append(encoded)
    return found


def _escape_every_char(text: str) -> str:
    return "".join(f"\\u{ord(char):04x}" for char in text)


def _bearer(header: str) -> str:
    return header.removeprefix("Bearer ")


# name → (body made from the Authorization header, content type)
HOSTILE: dict[str, tuple[Callable[[str], bytes], str]] = {
    "json-echo": (
        lambda h: json.dumps({"message": f"bad request: Authorization: {h}"}).encode(),
        "application/json",
    ),
    "text-echo": (lambda h: f"<html>echo {h}</html>".encode(), "text/html"),
    "quoted-in-a-list": (
        lambda h: json.dumps({"errors": [{"header": h, "quoted": repr(h)}]}).encode(),
        "application/json",
    ),
    "every-char-escaped": (
        lambda h: b'{"message": "' + _escape_every_char(h).encode() + b'"}',
        "application/json",
    ),
    "url-encoded": (lambda h: f"redirect to /login?auth={quote(h, safe='')}".encode(), "text/plain"),
    "base64": (lambda h: f"Basic {base64.b64encode(h.encode()).decode()}".encode(), "text/plain"),
    "cut-by-the-server": (lambda h: json.dumps({"message": "x" * 290 + h}).encode(), "application/json"),
    "half-the-token": (
        lambda h: json.dumps({"message": f"token prefix {_bearer(h)[:14]}"}).encode(),
        "application/json",
    ),
    "tail-of-the-token": (
        lambda h: json.dumps({"message": f"...{_bearer(h)[-10:]}"}).encode(),
        "application/json",
    ),
    "upper-case": (lambda h: json.dumps({"message": h.upper()}).encode(), "application/json"),
    "long-body": (lambda h: ("A" * 1_000_000 + h + "B" * 1000).encode(), "text/plain"),
    "latin-1-bytes": (lambda h: b"\xff\xfe" + h.encode() + b"\xe9", "text/plain; charset=iso-8859-1"),
    "html-escaped": (lambda h: f"<p>{h.replace('_', '&#95;')}</p>".encode(), "text/html"),
}


@pytest.fixture
def netlify(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNetlify]:
    monkeypatch.delenv("NETLIFY_AUTH_TOKEN", raising=False)
    with FakeNetlify(token=TOKEN) as fake:
        monkeypatch.setenv("NETLIFY_API_URL", fake.base_url)
        yield fake


def configured(provider: Any, token: str = TOKEN) -> Any:
    provider.configure(ConfigureRequest(Config({"mta-sts:netlifyToken": token}, "mta-sts")))
    return provider


def everything_shown(error: BaseException) -> str:
    """What the dynamic provider host sends the engine (`traceback.format_exc()`), and the error's parts."""
    parts = ["".join(traceback.format_exception(error)), str(error), repr(error)]
    parts.append(getattr(error, "server_message", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("answer", HOSTILE, ids=list(HOSTILE))
@pytest.mark.parametrize("status", [400, 500])
def test_a_hostile_api_answer_never_brings_the_token_into_the_client_error(
    netlify: FakeNetlify, answer: str, status: int
) -> None:
    body, content_type = HOSTILE[answer]
    netlify.answer_next("getSite", status, body, content_type)
    with (
        NetlifyClient(TOKEN, base_url=netlify.base_url, timeout=5) as client,
        pytest.raises(NetlifyError) as caught,
    ):
        client.get_site("site-1")
    assert not leaks(everything_shown(caught.value)), everything_shown(caught.value)[:2000]
    assert f"HTTP {status}" in str(caught.value)


@pytest.mark.parametrize("answer", ["json-echo", "cut-by-the-server", "every-char-escaped", "long-body"])
def test_a_hostile_answer_through_the_provider_reaches_neither_the_engine_nor_the_logs(
    netlify: FakeNetlify, answer: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    body, content_type = HOSTILE[answer]
    netlify.answer_next("createSite", 422, body, content_type)
    provider = configured(NetlifySiteProvider(backoff=FAST))
    with caplog.at_level(logging.DEBUG), pytest.raises(NetlifyError) as caught:
        provider.create({"custom_domain": HOST, "files": FILES})
    shown = everything_shown(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    captured = capsys.readouterr()
    assert not leaks(shown + caplog.text + captured.out + captured.err), shown[:2000]


def test_a_certificate_answer_echoing_the_token_is_scrubbed_in_the_timeout_message(
    netlify: FakeNetlify,
) -> None:
    sites = configured(NetlifySiteProvider(backoff=FAST, deploy_timeout_seconds=5))
    site = sites.create({"custom_domain": HOST, "files": FILES})
    for _ in range(50):
        netlify.answer_next("provisionSiteTLSCertificate", 422, HOSTILE["json-echo"][0])
    certificates = configured(NetlifyCertificateProvider(backoff=FAST))
    with pytest.raises(NetlifyError) as caught:
        certificates.create({"site_id": site.id, "custom_domain": HOST, "timeout_seconds": 0.2})
    assert "no TLS certificate" in str(caught.value)
    assert not leaks(everything_shown(caught.value))


def test_outputs_that_go_into_the_state_hold_nothing_of_the_token(netlify: FakeNetlify) -> None:
    sites = configured(NetlifySiteProvider(backoff=FAST, deploy_timeout_seconds=5))
    created = sites.create({"custom_domain": HOST, "files": FILES})
    netlify.dns_points = True
    certificate = configured(NetlifyCertificateProvider(backoff=FAST)).create(
        {"site_id": created.id, "custom_domain": HOST, "timeout_seconds": 5}
    )
    assert not leaks(json.dumps([created.outs, certificate.outs]))


@pytest.mark.parametrize(
    "pasted",
    [f"{TOKEN}\n", f"{TOKEN}\r\n", f"  {TOKEN}  ", f"\t{TOKEN}\r", f"\ufeff{TOKEN}\n"],
    ids=["trailing-lf", "trailing-crlf", "spaces", "tab-and-cr", "bom"],
)
def test_a_token_pasted_with_surrounding_whitespace_is_stripped_and_works(
    netlify: FakeNetlify, pasted: str
) -> None:
    assert clean_token(pasted) == TOKEN
    provider = configured(NetlifySiteProvider(backoff=FAST, deploy_timeout_seconds=5), token=pasted)
    assert provider.create({"custom_domain": HOST, "files": FILES}).id in netlify.sites
    assert {r.headers["Authorization"] for r in netlify.requests} == {f"Bearer {TOKEN}"}


@pytest.mark.parametrize(
    ("odd", "kind"),
    [
        (TOKEN[:10] + "\r\n" + TOKEN[10:], "a control character"),
        (TOKEN[:10] + " " + TOKEN[10:], "a space"),
        (TOKEN[:10] + "\x00" + TOKEN[10:], "a control character"),
        (TOKEN[:10] + "é" + TOKEN[10:], "a non-ASCII character"),
    ],
    ids=["inner-crlf", "inner-space", "nul", "non-ascii"],
)
def test_a_token_with_inner_whitespace_or_odd_characters_is_refused_without_showing_it(
    netlify: FakeNetlify, odd: str, kind: str
) -> None:
    with pytest.raises(TokenError, match=kind) as refused:
        clean_token(odd)
    assert "position 11" in str(refused.value)
    provider = configured(NetlifySiteProvider(backoff=FAST), token=odd)
    with pytest.raises(NetlifyError, match=kind) as caught:
        provider.create({"custom_domain": HOST, "files": FILES})
    assert not leaks(everything_shown(caught.value) + str(refused.value))
    assert netlify.requests == [], "nothing is sent with a token that is not one"


def test_scrub_replaces_whole_runs_and_leaves_other_text_alone() -> None:
    text = f"before {TOKEN} middle {TOKEN[5:20]} after"
    assert scrub(text, TOKEN) == "before [token] middle [token] after"
    assert scrub("Netlify said: not found", TOKEN) == "Netlify said: not found"


def test_the_program_strips_a_pasted_token_and_refuses_one_with_a_space_before_registering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NETLIFY_AUTH_TOKEN", raising=False)
    run = run_program({"domain": "example.com", "netlifyToken": f"{TOKEN}\r\n"})
    assert run.of_type("pulumi-python:dynamic/netlify:Site")
    with pytest.raises(Exception, match="a space at position 11") as caught:
        run_program({"domain": "example.com", "netlifyToken": TOKEN[:10] + " " + TOKEN[10:]})
    assert not leaks(str(caught.value))


def test_a_preview_without_a_netlify_token_goes_on_and_says_netlify_was_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NETLIFY_AUTH_TOKEN", raising=False)
    run = run_program({"domain": "example.com"}, preview=True)
    for kind in ("Site", "Certificate"):
        assert run.of_type(f"pulumi-python:dynamic/netlify:{kind}"), f"the preview dropped the Netlify {kind}"
    assert NO_TOKEN_IN_PREVIEW in run.warnings


def test_without_a_token_the_providers_diff_and_check_work_and_reading_says_it_was_not_read(
    netlify: FakeNetlify,
) -> None:
    provider = NetlifySiteProvider(backoff=FAST)
    provider.configure(ConfigureRequest(Config({}, "mta-sts")))
    news = {"custom_domain": HOST, "files": FILES}
    assert provider.check({}, news).failures == []
    assert provider.diff("site-1", {"custom_domain": HOST, "file_digests": {}}, news).changes
    with pytest.raises(NetlifyError, match="was not read or changed") as caught:
        provider.read("site-1", {"custom_domain": HOST})
    assert "previews hold no Netlify token" in str(caught.value)
    assert netlify.requests == []


def test_netlify_and_token_errors_are_the_projects_errors_and_a_token_error_still_a_value_error() -> None:
    from mtasts.errors import MtaStsError

    assert issubclass(NetlifyError, MtaStsError)
    assert issubclass(TokenError, MtaStsError) and issubclass(TokenError, ValueError)
