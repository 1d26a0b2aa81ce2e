"""DANE TLSA records for SMTP (RFC 7672, RFC 6698): parsing their text form and matching them
against the certificate chain an MX host presented. Pure: no network, no clock.

Only DANE-TA(2) and DANE-EE(3) are usable for SMTP; PKIX-TA(0) and PKIX-EE(1) records are
ignored by senders (RFC 7672 §3.1.3). Selector 0 is the whole certificate, 1 its
SubjectPublicKeyInfo; matching type 0 is the data itself, 1 SHA-256, 2 SHA-512 (RFC 6698 §2.1).
Whether the records were DNSSEC-validated, and what a mismatch costs, is the caller's
judgement (`checks.mx_tls`).
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DANE_TA = 2
DANE_EE = 3
_TEXT = re.compile(r"^\s*(\d{1,3})\s+(\d{1,3})\s+(\d{1,3})\s+((?:[0-9a-fA-F]{2}\s*)+)$")


class Dane(enum.StrEnum):
    """What DANE says about one MX address (`mx_tls` in `verify --json`)."""

    MATCHED = "matched"  # a usable, validated TLSA record matches the presented chain
    MISMATCHED = "mismatched"  # usable, validated records exist and none matches: tlsa-invalid
    UNUSABLE = "unusable"  # validated records exist, but none of a usage SMTP senders use
    NO_TLSA = "no-tlsa"
    NOT_VALIDATED = "not-validated"  # records without the AD bit: DANE is not in effect
    LOOKUP_FAILED = "lookup-failed"  # SERVFAIL or no answer: senders using DANE defer the mail


@dataclass(frozen=True)
class Tlsa:
    usage: int
    selector: int
    matching: int
    data: bytes

    @property
    def usable(self) -> bool:
        """RFC 7672 §3.1.3: only DANE-TA and DANE-EE, with known selectors and matching types."""
        return self.usage in (DANE_TA, DANE_EE) and self.selector in (0, 1) and self.matching in (0, 1, 2)

    def text(self) -> str:
        return f"{self.usage} {self.selector} {self.matching} {self.data.hex()}"


def parse(text: str) -> Tlsa | None:
    """A TLSA record from its presentation form (`3 1 1 ab12...`), None when it is not one."""
    found = _TEXT.match(text)
    if found is None:
        return None
    usage, selector, matching = (int(found.group(index)) for index in (1, 2, 3))
    if max(usage, selector, matching) > 255:
        return None
    return Tlsa(usage, selector, matching, bytes.fromhex(re.sub(r"\s", "", found.group(4))))


def association(certificate: x509.Certificate, selector: int, matching: int) -> bytes:
    """The data a TLSA record with this selector and matching type holds for `certificate`."""
    if selector == 0:
        selected = certificate.public_bytes(Encoding.DER)
    else:
        selected = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if matching == 1:
        return hashlib.sha256(selected).digest()
    if matching == 2:
        return hashlib.sha512(selected).digest()
    return selected


def record_for(certificate: x509.Certificate, usage: int, selector: int, matching: int) -> Tlsa:
    return Tlsa(usage, selector, matching, association(certificate, selector, matching))


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except Exception:  # InvalidSignature, a mismatched issuer name, an unsupported key type
        return False
    return True


def matches(record: Tlsa, chain: Sequence[x509.Certificate]) -> bool:
    """Whether one usable record matches the chain (leaf first), per RFC 7672 §3.1.

    DANE-EE matches the leaf alone. DANE-TA matches a certificate the server sent after the
    leaf, and only if the certificates from the leaf up to it are each signed by the next
    (RFC 7671 §5.2.2: the trust anchor must be in the chain for selector 0, and senders build
    the chain up to it).
    """
    if not record.usable or not chain:
        return False
    if record.usage == DANE_EE:
        return association(chain[0], record.selector, record.matching) == record.data
    for index in range(1, len(chain)):
        if not _issued_by(chain[index - 1], chain[index]):
            return False
        if association(chain[index], record.selector, record.matching) == record.data:
            return True
    return False


def judge(records: Iterable[Tlsa], chain: Sequence[x509.Certificate]) -> Dane:
    """MATCHED, MISMATCHED or UNUSABLE for validated records against the presented chain."""
    usable = [record for record in records if record.usable]
    if not usable:
        return Dane.UNUSABLE
    return Dane.MATCHED if any(matches(record, chain) for record in usable) else Dane.MISMATCHED
