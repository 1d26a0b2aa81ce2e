"""The CA file `verify` and `reports --imap` trust (`--ca-file`, or SSL_CERT_FILE): a file OpenSSL
cannot use is refused up front, by name, with the fix; it used to end the command with
OpenSSL's traceback (`ssl.SSLError: [X509: NO_CERTIFICATE_OR_CRL_FOUND]`)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from mtasts.__main__ import main
from mtasts.trust import TrustStoreError, missing_system_trust, trusting_context


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def not_pem(tmp_path: Path) -> Path:
    """A CA file that holds no certificate at all."""
    path = tmp_path / "ca.pem"
    path.write_text("hello\n")
    return path


def der_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.crt"
    path.write_bytes(ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode()))
    return path


def test_a_pem_file_is_trusted(ca: trustme.CA, tmp_path: Path) -> None:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    context = trusting_context(str(path))
    assert [cert["subject"] for cert in context.get_ca_certs()] == [ca_subject(ca)]


def ca_subject(ca: trustme.CA) -> object:
    context = ssl.create_default_context(cadata=ca.cert_pem.bytes().decode())
    return context.get_ca_certs()[0]["subject"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "holds no PEM certificate"),
        (b"hello\n", "holds no PEM certificate"),
        (None, "holds no PEM certificate; it is DER"),
    ],
)
def test_a_file_without_pem_certificates_is_refused_with_the_fix(
    content: bytes | None, reason: str, ca: trustme.CA, tmp_path: Path
) -> None:
    path = der_file(ca, tmp_path) if content is None else tmp_path / "ca.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(TrustStoreError) as raised:
        trusting_context(str(path))
    message = str(raised.value)
    assert f"{path} {reason}" in message and "-----BEGIN CERTIFICATE-----" in message
    if content is None:
        assert f"openssl x509 -inform der -in {path} -out ca.pem" in message


@pytest.mark.parametrize("path", ["/nonexistent/ca.pem", "/tmp"])
def test_a_missing_file_or_a_folder_is_refused(path: str) -> None:
    with pytest.raises(TrustStoreError, match="cannot be read"):
        trusting_context(path)


def test_ssl_cert_file_is_named_when_it_is_the_file_at_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bundle.pem"
    path.write_text("not a certificate\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    with pytest.raises(TrustStoreError, match=f"SSL_CERT_FILE {path} holds no PEM certificate"):
        trusting_context(None)


@pytest.mark.parametrize("given", ["--ca-file", "SSL_CERT_FILE"])
def test_verify_refuses_the_file_before_any_lookup(
    given: str, not_pem: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = not_pem
    argv = ["verify", "example.com", "--nameserver", "127.0.0.9", "--timeout", "1"]
    if given == "--ca-file":
        argv += ["--ca-file", str(path)]
    else:
        monkeypatch.setenv("SSL_CERT_FILE", str(path))
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.startswith(f"error: {given} {path} holds no PEM certificate")


def test_reports_refuses_the_file_before_connecting(
    not_pem: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = not_pem
    monkeypatch.setenv("MTASTS_IMAP_PASSWORD", "secret")
    argv = ["reports", "--imap", "imaps://u@127.0.0.9/INBOX", "--ca-file", str(path), "--imap-timeout", "2"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: --ca-file {path} holds no PEM certificate")


def test_reports_without_imap_does_not_need_the_trust_store(
    not_pem: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(not_pem))
    (tmp_path / "empty").mkdir()
    assert main(["reports", str(tmp_path / "empty")]) == 1  # held nothing: not a trust problem
    assert "SSL_CERT_FILE" not in capsys.readouterr().err


@pytest.fixture
def no_system_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenSSL's default file is missing and its folder empty, as for python.org's Python on
    macOS before its Install Certificates command has run."""
    (tmp_path / "certs").mkdir()
    missing, empty = str(tmp_path / "cert.pem"), str(tmp_path / "certs")
    paths = ssl.DefaultVerifyPaths(None, empty, "SSL_CERT_FILE", missing, "SSL_CERT_DIR", empty)  # type: ignore[arg-type]
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: paths)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)


def test_this_machine_has_a_store_to_trust() -> None:
    assert missing_system_trust() is None


def test_a_machine_without_ca_certificates_is_named_with_the_fix(no_system_store: None) -> None:
    # Every policy host's certificate failed to verify there: sound domains read as broken,
    # and the stack's readiness check waited out its timeout before saying so.
    missing = missing_system_trust()
    assert missing is not None and "has no CA certificates to trust" in missing
    assert "Install Certificates" in missing and "--ca-file" in missing
    with pytest.raises(TrustStoreError, match="no CA certificates to trust"):
        trusting_context(None)
    assert missing_system_trust("win32") is None  # Python reads Windows' own store


def test_verify_refuses_to_run_without_ca_certificates_before_any_lookup(
    no_system_store: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", "example.com", "--nameserver", "127.0.0.9", "--timeout", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("error: this machine has no CA certificates")


def test_a_ca_file_given_is_enough_without_a_system_store(
    no_system_store: None, ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    assert [cert["subject"] for cert in trusting_context(str(path)).get_ca_certs()] == [ca_subject(ca)]
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    assert [cert["subject"] for cert in trusting_context(None).get_ca_certs()] == [ca_subject(ca)]


def test_the_readiness_check_says_so_at_once_rather_than_wait_out_its_timeout(no_system_store: None) -> None:
    import time

    from mtasts.verify import check_policy_served_sync

    started = time.monotonic()
    with pytest.raises(TrustStoreError, match="no CA certificates to trust"):
        check_policy_served_sync("example.com", "version: STSv1\n", nameserver="127.0.0.9", timeout=5.0)
    assert time.monotonic() - started < 2
