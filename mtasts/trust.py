"""The CA certificates `verify` and `reports --imap` trust: `--ca-file`, else SSL_CERT_FILE, else
the system's store. A file OpenSSL cannot use is refused by name, with the fix, before any
connection; OpenSSL's own error (`[X509: NO_CERTIFICATE_OR_CRL_FOUND]`) names neither."""

from __future__ import annotations

import contextlib
import os
import ssl
import sys
from pathlib import Path

from mtasts.errors import MtaStsError
from mtasts.exits import UsageError

_PEM_HINT = "name a file of PEM certificates (blocks that start -----BEGIN CERTIFICATE-----)"


class TrustStoreError(MtaStsError, ValueError):
    """The CA file given cannot be used; the message names it, and says what to give instead."""


def trusting_context(ca_file: str | None) -> ssl.SSLContext:
    """OpenSSL's default client context (host names and certificates checked), trusting
    `ca_file` (given as --ca-file), else SSL_CERT_FILE, else the system's store; TrustStoreError
    when the system has no store (`missing_system_trust`)."""
    chosen = ca_file or os.environ.get("SSL_CERT_FILE") or None
    given = "--ca-file" if ca_file else "SSL_CERT_FILE"
    if chosen is None:
        missing = missing_system_trust()
        if missing:
            raise TrustStoreError(missing)
    try:
        return ssl.create_default_context(cafile=chosen)
    except ssl.SSLError as error:  # an OSError too: before that clause
        raise TrustStoreError(_unusable(given, str(chosen), error)) from None
    except OSError as error:
        raise TrustStoreError(
            f"{given} {chosen} cannot be read ({error.strerror or error}); {_PEM_HINT}"
        ) from None


def missing_system_trust(platform: str = sys.platform) -> str | None:
    """Why this machine trusts no CA certificate by default, with the fix; None when it has some.

    Python's ssl trusts what OpenSSL's default file and folder hold; where neither holds any
    (python.org's Python on macOS until its Install Certificates command has run), every
    policy host's certificate fails to verify, and a sound domain would read as broken, or the
    stack's readiness check wait out its timeout. Windows keeps its store elsewhere, which
    Python reads: not judged here."""
    if platform == "win32":
        return None
    paths = ssl.get_default_verify_paths()
    for name in (paths.cafile, paths.openssl_cafile):
        with contextlib.suppress(OSError):
            if name and os.path.getsize(name) > 0:
                return None
    for name in (paths.capath, paths.openssl_capath):
        with contextlib.suppress(OSError):
            if name:
                with os.scandir(name) as entries:
                    if any(entries):
                        return None
    return (
        f"this machine has no CA certificates to trust (OpenSSL's {paths.openssl_cafile} and "
        f"{paths.openssl_capath} hold none): install them (for python.org's Python on macOS, run "
        "its Install Certificates command), or name a file of PEM certificates with --ca-file or "
        "SSL_CERT_FILE"
    )


def _unusable(given: str, path: str, error: ssl.SSLError) -> str:
    if error.reason != "NO_CERTIFICATE_OR_CRL_FOUND":
        reason = error.reason or error
        return f"{given} {path} cannot be used as CA certificates (OpenSSL: {reason}); {_PEM_HINT}"
    try:
        with open(path, "rb") as file:
            head = file.read(1)
    except OSError:
        head = b""
    if head == b"\x30":  # an ASN.1 SEQUENCE: a certificate in binary DER, as .crt and .cer files often are
        return (
            f"{given} {path} holds no PEM certificate; it is DER (binary): {_PEM_HINT}; convert this "
            f"one with: openssl x509 -inform der -in {path} -out ca.pem"
        )
    return f"{given} {path} holds no PEM certificate: {_PEM_HINT}"


def check_ca_file(ca_file: str | None, *, used: bool = True) -> None:
    """The check `verify` and `reports` make of --ca-file (and, when `used`, of SSL_CERT_FILE)
    before any work starts: UsageError naming the file and the fix. When neither is given, the
    system's store is only looked for (`missing_system_trust`), not loaded."""
    if ca_file is not None and not Path(ca_file).is_file():
        raise UsageError(f"--ca-file {ca_file!r} is not a readable file")
    if not used:
        return
    if ca_file or os.environ.get("SSL_CERT_FILE"):
        try:
            trusting_context(ca_file)
        except TrustStoreError as error:
            raise UsageError(str(error)) from None
    else:
        missing = missing_system_trust()
        if missing:
            raise UsageError(missing)
