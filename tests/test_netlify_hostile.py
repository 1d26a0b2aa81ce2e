"""The Netlify client against answers that lie, overflow or stall: each ends in a clear NetlifyError.

A raw socket server on 127.0.0.1 sends what no HTTP library would (an endless body, one byte at
a time); answers of the wrong shape come from the fake, which passes them through as they are.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from pulumi_mta_sts.netlify.api import NetlifyClient
from pulumi_mta_sts.netlify.provider import NetlifySiteProvider
from pulumi_mta_sts.netlify.transport import NetlifyError

from tests.netlify_fake import FakeNetlify

TOKEN = "nfp_test_token_7c1e0a9b33d54f"
Answer = Callable[[socket.socket], None]


@pytest.fixture
def hostile() -> Iterator[Callable[[Answer], str]]:
    """`serve(answer)` runs `answer(connection)` for every connection and returns the API root."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    answers: list[Answer] = []

    def handle(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            with contextlib.suppress(OSError):  # the client hung up, as it should
                answers[0](connection)

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(connection,), daemon=True).start()

    def serve(answer: Answer) -> str:
        answers.append(answer)
        threading.Thread(target=accept, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1"

    yield serve
    stop.set()
    listener.close()


def endless_chunks(status: bytes) -> Answer:
    def answer(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 " + status + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
        while True:
            connection.sendall(chunk)

    return answer


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("status", [b"200 OK", b"500 Internal Server Error"])
def test_an_endless_body_is_cut_off_and_memory_stays_bounded(
    hostile: Callable[[Answer], str], status: bytes
) -> None:
    base_url = hostile(endless_chunks(status))
    before = peak_rss_mib()
    with (
        NetlifyClient(TOKEN, base_url=base_url, timeout=5) as client,
        pytest.raises(NetlifyError, match="Netlify") as caught,
    ):
        client.get_site("site-1")
    assert peak_rss_mib() - before < 100, "the body was read whole"
    if status.startswith(b"200"):
        assert "more than" in str(caught.value) and "reading site site-1" in str(caught.value)
    else:
        assert "HTTP 500" in str(caught.value)


def one_byte_at_a_time(head_only: bool) -> Answer:
    def answer(connection: socket.socket) -> None:
        body = b'{"id": "site-1"}' + b" " * 10_000
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        if not head_only:
            connection.sendall(head + b"\r\n")
            head = body
        for byte in head:
            connection.sendall(bytes([byte]))
            time.sleep(0.1)

    return answer


@pytest.mark.parametrize("head_only", [True, False], ids=["headers", "body"])
def test_a_server_sending_one_byte_at_a_time_is_given_up_at_the_deadline(
    hostile: Callable[[Answer], str], head_only: bool
) -> None:
    base_url = hostile(one_byte_at_a_time(head_only))
    started = time.monotonic()
    with (
        NetlifyClient(TOKEN, base_url=base_url, timeout=5, deadline=1) as client,
        pytest.raises(NetlifyError, match=r"within 1 s while reading site site-1") as caught,
    ):
        client.get_site("site-1")
    assert time.monotonic() - started < 3
    assert caught.value.status is None


WRONG_SHAPES = {
    "a-list": b"[1, 2]",
    "a-number": b"42",
    "no-id": b'{"name": "x"}',
    "a-numeric-id": b'{"id": 5}',
    "an-object-as-id": b'{"id": {"a": 1}}',
    "an-id-with-crlf-and-esc": b'{"id": "a\\r\\nb\\u001b[31mred"}',
    "an-id-of-a-megabyte": b'{"id": "' + b"a" * 500_000 + b'"}',
    "published-deploy-a-list": b'{"id": "s", "published_deploy": [1]}',
    "aliases-a-number": b'{"id": "s", "domain_aliases": 5}',
    "aliases-a-string": b'{"id": "s", "domain_aliases": "abc"}',
    "nested-100000-deep": b"[" * 100_000 + b"]" * 100_000,
    "not-json": b"<html>",
    "not-utf-8": b'{"id": "\xff\xfe"}',
    "nan": b'{"id": NaN}',
}


@pytest.fixture
def netlify() -> Iterator[FakeNetlify]:
    with FakeNetlify(token=TOKEN) as fake:
        yield fake


@pytest.mark.parametrize("body", WRONG_SHAPES.values(), ids=list(WRONG_SHAPES))
def test_an_answer_of_the_wrong_shape_is_a_netlify_error_naming_what_was_wrong(
    netlify: FakeNetlify, body: bytes
) -> None:
    netlify.answer_next("getSite", 200, lambda _authorization: body)
    with (
        NetlifyClient(TOKEN, base_url=netlify.base_url, timeout=5) as client,
        pytest.raises(NetlifyError) as caught,
    ):
        client.get_site("site-1")
    message = str(caught.value)
    assert message.startswith("Netlify's answer to reading site site-1 "), message
    assert message.isprintable() and len(message) < 1000, message


@pytest.mark.parametrize("body", WRONG_SHAPES.values(), ids=list(WRONG_SHAPES))
def test_a_wrong_answer_reaches_the_engine_as_a_netlify_error_not_a_python_one(
    netlify: FakeNetlify, monkeypatch: pytest.MonkeyPatch, body: bytes
) -> None:
    monkeypatch.setenv("NETLIFY_API_URL", netlify.base_url)
    monkeypatch.setenv("NETLIFY_AUTH_TOKEN", TOKEN)
    netlify.answer_next("getSite", 200, lambda _authorization: body)
    with pytest.raises(NetlifyError, match=r"^Netlify's answer to reading site site-1 ") as caught:
        NetlifySiteProvider().read("site-1", {})
    assert "Error:" not in str(caught.value)  # not "KeyError: 'id'"


def test_a_deploy_and_a_certificate_of_the_wrong_shape_are_netlify_errors(netlify: FakeNetlify) -> None:
    netlify.answer_next("getDeploy", 200, lambda _authorization: b'{"id": "d", "required": {"a": 1}}')
    netlify.answer_next("showSiteTLSCertificate", 200, lambda _authorization: b'{"domains": [1, 2]}')
    with NetlifyClient(TOKEN, base_url=netlify.base_url, timeout=5) as client:
        with pytest.raises(NetlifyError, match=r"^Netlify's answer to reading deploy d .*required"):
            client.get_deploy("d")
        with pytest.raises(NetlifyError, match=r"^Netlify's answer to reading the certificate .*domains"):
            client.get_certificate("site-1")


def test_netlify_s_message_reaches_the_error_with_its_escapes_shown_not_run(netlify: FakeNetlify) -> None:
    said = b'{"message": "boom \\u001b[2J\\u001b]0;pwned\\u0007\\r\\nFAKE LINE \\u202e"}'
    netlify.answer_next("getSite", 500, lambda _authorization: said)
    netlify.answer_next(
        "getDeploy",
        200,
        lambda _authorization: b'{"id": "d", "state": "error", "error_message": "x\\u001b[31m"}',
    )
    with NetlifyClient(TOKEN, base_url=netlify.base_url, timeout=5) as client:
        with pytest.raises(NetlifyError) as server_error:
            client.get_site("site-1")
        with pytest.raises(NetlifyError) as deploy_error:
            client.wait_for_deploy("d", timeout_seconds=1)
    for error in (server_error.value, deploy_error.value):
        assert str(error).isprintable() and error.server_message.isprintable(), repr(str(error))
    assert "\\x1b[2J" in str(server_error.value) and "FAKE LINE" in str(server_error.value)
    assert "\\x1b[31m" in str(deploy_error.value)


def test_a_site_id_from_the_state_is_shown_escaped_in_the_error(netlify: FakeNetlify) -> None:
    with (
        NetlifyClient(TOKEN, base_url=netlify.base_url, timeout=5) as client,
        pytest.raises(NetlifyError) as caught,
    ):
        client.get_site("site\x1b[2J\r\n")
    assert str(caught.value).isprintable() and "site\\x1b[2J\\r\\n" in str(caught.value)


def test_a_long_deploy_error_message_is_cut_not_refused() -> None:
    # The reason a deploy failed is what the user needs; a long one is cut (and shown escaped).
    from pulumi_mta_sts.netlify.models import Deploy

    deploy = Deploy.from_json({"id": "abc", "state": "error", "error_message": "build failed: " + "x" * 3000})
    assert deploy.error_message.startswith("build failed: ") and len(deploy.error_message) < 2100
