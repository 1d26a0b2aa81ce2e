"""Judging the certificate chain an MX host presented, as an MTA-STS sender does (RFC 8461 §4.2).

The chain is taken as sent (leaf first, DER) from a handshake made without verification, so
what was wrong with it can be named in RFC 8460 §4.3 words: a leaf whose subjectAltName
dNSNames do not match the MX host name (a `*.` name matches one leftmost label, RFC 6125
§6.4.3 as RFC 8461 §4.2 narrows it), a leaf outside its validity period, or a chain that does
not lead to a trusted root. Trust is decided by `cryptography`'s RFC 5280 path builder over
the roots `load_roots` reads (the system store, `--ca-file` or SSL_CERT_FILE). Pure apart
from reading the roots; the handshake itself is `mtasts.verify.smtp`'s. The names a problem
quotes are the certificate's, chosen by whoever made it: they are shown through
`mtasts.visible`, the first three of them.
"""

from __future__ import annotations

import datetime
import functools
import os
import re
import ssl
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.verification import (
    Criticality,
    DNSName,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from mtasts.rules.mx_coverage import matches as name_matches
from mtasts.verify.mx_tls import (
    CERTIFICATE_EXPIRED,
    CERTIFICATE_HOST_MISMATCH,
    CERTIFICATE_NOT_TRUSTED,
    nameable,
)
from mtasts.visible import NAMES_LISTED, listing, visible

EXPIRY_WARNING = datetime.timedelta(days=14)
_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)
# OpenSSL-based senders check the leaf's names, dates and signature, not the Web PKI profile
# of its extensions (cryptography's default refuses a critical subjectAltName beside a
# subject, or a critical extendedKeyUsage, which private CAs such as trustme issue), so the
# leaf's extensions are only required to carry the names.
_EE_POLICY = ExtensionPolicy.permit_all().require_present(
    x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
)


class Roots(tuple[x509.Certificate, ...]):
    """A run's trusted roots, with cryptography's `Store` of them made once, on first use:
    making a store of a system's 150 roots costs about as much as verifying a chain against
    it (0.4 of 0.7 ms), and a run verifies a chain for every MX address it probes."""

    @functools.cached_property
    def store(self) -> Store:
        return Store(list(self))


@dataclass(frozen=True)
class CertificateVerdict:
    """`result_type` is the RFC 8460 type a sender would report, None when the chain is fine;
    `problem` says why in words. `names`/`not_after` describe the leaf."""

    names: tuple[str, ...]
    not_after: datetime.datetime | None
    result_type: str | None = None
    problem: str = ""

    def expires_within(self, now: datetime.datetime, window: datetime.timedelta = EXPIRY_WARNING) -> bool:
        return self.result_type is None and self.not_after is not None and self.not_after - now <= window


def load_roots(ca_file: str | None) -> list[x509.Certificate]:
    """The trusted roots: `ca_file`, else SSL_CERT_FILE, else OpenSSL's default file or directory,
    else (Windows) the system's root store."""
    chosen = ca_file or os.environ.get("SSL_CERT_FILE") or None
    if chosen:
        files = [Path(chosen)]
    else:
        paths = ssl.get_default_verify_paths()
        files = [
            Path(path) for path in (paths.cafile, paths.openssl_cafile) if path and Path(path).is_file()
        ][:1]
        directory = paths.capath or paths.openssl_capath
        if not files and directory and Path(directory).is_dir():
            files = sorted(Path(directory).glob("*.pem"))
    roots: dict[bytes, x509.Certificate] = {}
    for path in files:
        try:
            text = path.read_bytes()
        except OSError:
            continue
        # One by one: a root the library cannot read (or warns about) must not lose the others.
        for block in _PEM_BLOCK.findall(text):
            _keep(roots, x509.load_pem_x509_certificate, block)
    if not chosen and not roots:
        for der in _system_store_roots():
            _keep(roots, x509.load_der_x509_certificate, der)
    return list(roots.values())


def _keep(
    roots: dict[bytes, x509.Certificate], load: Callable[[bytes], x509.Certificate], data: bytes
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            certificate = load(data)
        except ValueError:
            return
    roots.setdefault(certificate.fingerprint(hashes.SHA256()), certificate)


def _system_store_roots() -> list[bytes]:
    """The roots Windows keeps in its system store rather than in files OpenSSL reads: the ROOT
    store's certificates trusted for server authentication (`trust` is True, or names that
    purpose), as Python's ssl loads them for HTTPS there. Its CA store holds intermediates,
    which are no trust anchors. Elsewhere there is no such store: none."""
    enumerate_store = getattr(ssl, "enum_certificates", None)
    if enumerate_store is None:
        return []
    try:
        entries = enumerate_store("ROOT")
    except OSError:
        return []
    server_auth = ssl.Purpose.SERVER_AUTH.oid
    return [
        der
        for der, encoding, trust in entries
        if encoding == "x509_asn" and (trust is True or (isinstance(trust, set) and server_auth in trust))
    ]


def dns_names(certificate: x509.Certificate) -> tuple[str, ...]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (x509.ExtensionNotFound, ValueError):
        return ()
    return tuple(name.lower() for name in extension.value.get_values_for_type(x509.DNSName))


def parse_chain(chain: Sequence[bytes]) -> list[x509.Certificate] | None:
    """The DER chain as certificates, None when any of them does not parse."""
    try:
        return [x509.load_der_x509_certificate(der) for der in chain]
    except ValueError:
        return None


def judge(
    host: str, chain: Sequence[x509.Certificate], roots: Sequence[x509.Certificate], now: datetime.datetime
) -> CertificateVerdict:
    """The leaf against the MX host name and the clock, then the chain against the roots."""
    if not chain:
        return CertificateVerdict((), None, CERTIFICATE_NOT_TRUSTED, "the server presented no certificate")
    leaf = chain[0]
    not_after = leaf.not_valid_after_utc
    try:
        names = dns_names(leaf)
    except x509.DuplicateExtension as error:
        # cryptography reads the extensions only now, and refuses a certificate holding one of
        # them twice, as a sender's verification does (RFC 5280 §4.2); the server chose it.
        twice = f"the certificate holds the {error.oid.dotted_string} extension twice (RFC 5280 §4.2)"
        return CertificateVerdict((), not_after, CERTIFICATE_NOT_TRUSTED, f"{twice}: senders refuse it")
    if not any(name_matches(name, host) for name in names):
        problem = f"the certificate is for {listing(names, NAMES_LISTED) or 'no DNS names'}, not {host}"
        if not nameable(host):
            problem += " (which is not a host name a certificate can name: RFC 5280 §4.2.1.6)"
        return CertificateVerdict(names, not_after, CERTIFICATE_HOST_MISMATCH, problem)
    if now > not_after:
        return CertificateVerdict(
            names,
            not_after,
            CERTIFICATE_EXPIRED,
            f"the certificate expired on {not_after:%Y-%m-%d %H:%M} UTC",
        )
    if now < leaf.not_valid_before_utc:
        when = leaf.not_valid_before_utc
        return CertificateVerdict(
            names,
            not_after,
            CERTIFICATE_EXPIRED,
            f"the certificate is not valid before {when:%Y-%m-%d %H:%M} UTC",
        )
    problem = _untrusted(host, chain, roots, now)
    if problem:
        return CertificateVerdict(names, not_after, CERTIFICATE_NOT_TRUSTED, problem)
    return CertificateVerdict(names, not_after)


def _untrusted(
    host: str, chain: Sequence[x509.Certificate], roots: Sequence[x509.Certificate], now: datetime.datetime
) -> str:
    if not roots:
        return "no trusted root certificates were found on this machine (use --ca-file)"
    try:
        store = roots.store if isinstance(roots, Roots) else Store(list(roots))
        builder = PolicyBuilder().store(store).time(now)
        builder = builder.extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_EE_POLICY
        )
        verifier = builder.build_server_verifier(DNSName(host))
        verifier.verify(chain[0], list(chain[1:]))
    except VerificationError as error:
        what = _issued(chain[0])
        return f"the certificate chain does not lead to a trusted root ({what}: {visible(str(error), 1000)})"
    except ValueError as error:
        return f"the certificate chain cannot be checked: {visible(str(error), 1000)}"
    return ""


def _issued(leaf: x509.Certificate) -> str:
    """Who issued the leaf, in words. Its names are parsed only now (cryptography reads them on
    first use), and a server may send bytes that do not parse (a UTF8String that is not UTF-8)."""
    try:
        if leaf.issuer == leaf.subject:
            return "a self-signed certificate"
        return f"issued by {visible(leaf.issuer.rfc4514_string()) or '(empty)'}"
    except ValueError:
        return "issued by a name that does not parse"
