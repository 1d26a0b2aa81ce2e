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


# What one probe's DANE judgement looks at is bounded: the zone chooses the records and the
# MX host the chain, so unbounded, a hostile pair chooses the work (every record against every
# link) and stalls the whole run. Real TLSA RRsets hold a handful of records (the current key
# and the next one during a roll, RFC 7671 §8.1), and real chains a handful of certificates.
MAX_RECORDS = 64
# Senders verify no deeper either: Postfix's smtp_tls_scert_verifydepth is 9 above the leaf.
MAX_CHAIN = 10


@dataclass(frozen=True)
class Judgement:
    """What the records say about the chain, and what the bounds left unjudged ("" for nothing)."""

    dane: Dane
    left_out: str = ""
    records_left_out: bool = False


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except Exception:  # InvalidSignature, a mismatched issuer name, an unsupported key type
        return False
    return True


class _Prepared:
    """The presented chain (leaf first, at most MAX_CHAIN certificates) readied for many records.

    Each link's signature is checked once per chain, not once per record, and each
    certificate's association data once per selector and matching type: a record then costs a
    comparison.
    """

    def __init__(self, chain: Sequence[x509.Certificate]) -> None:
        self.chain = list(chain[:MAX_CHAIN])
        self._anchors: list[x509.Certificate] | None = None
        self._data: dict[tuple[int, int, int], bytes] = {}

    def anchors(self) -> list[x509.Certificate]:
        """The certificates after the leaf that the chain leads up to, each signed by the next.

        RFC 7671 §5.2.2: a DANE-TA anchor counts only if senders can build the chain from the
        leaf up to it, so the first link that does not verify ends the candidates.
        """
        if self._anchors is None:
            self._anchors = []
            for index in range(1, len(self.chain)):
                if not _issued_by(self.chain[index - 1], self.chain[index]):
                    break
                self._anchors.append(self.chain[index])
        return self._anchors

    def data(self, index: int, certificate: x509.Certificate, selector: int, matching: int) -> bytes:
        key = (index, selector, matching)
        if key not in self._data:
            self._data[key] = association(certificate, selector, matching)
        return self._data[key]

    def matches(self, record: Tlsa) -> bool:
        if not record.usable or not self.chain:
            return False
        if record.usage == DANE_EE:
            return self.data(0, self.chain[0], record.selector, record.matching) == record.data
        return any(
            self.data(index, anchor, record.selector, record.matching) == record.data
            for index, anchor in enumerate(self.anchors(), start=1)
        )


def matches(record: Tlsa, chain: Sequence[x509.Certificate]) -> bool:
    """Whether one usable record matches the chain (leaf first), per RFC 7672 §3.1.

    DANE-EE matches the leaf alone. DANE-TA matches a certificate the server sent after the
    leaf, and only if the certificates from the leaf up to it are each signed by the next
    (RFC 7671 §5.2.2: the trust anchor must be in the chain for selector 0, and senders build
    the chain up to it).
    """
    return _Prepared(chain).matches(record)


def judge(records: Iterable[Tlsa], chain: Sequence[x509.Certificate]) -> Dane:
    """MATCHED, MISMATCHED or UNUSABLE for validated records against the presented chain."""
    return judge_bounded(records, chain).dane


def judge_bounded(records: Iterable[Tlsa], chain: Sequence[x509.Certificate]) -> Judgement:
    """`judge`, within MAX_RECORDS usable records and MAX_CHAIN certificates, naming what was left out."""
    usable = [record for record in records if record.usable]
    if not usable:
        return Judgement(Dane.UNUSABLE)
    prepared = _Prepared(chain)
    dane = (
        Dane.MATCHED if any(prepared.matches(record) for record in usable[:MAX_RECORDS]) else Dane.MISMATCHED
    )
    left_out = []
    if len(usable) > MAX_RECORDS:
        left_out.append(f"only the first {MAX_RECORDS} of {len(usable):,} usable TLSA records were compared")
    if len(chain) > MAX_CHAIN and dane is Dane.MISMATCHED:
        left_out.append(
            f"only the first {MAX_CHAIN} of the {len(chain):,} certificates the server sent were "
            "considered (senders verify no deeper)"
        )
    return Judgement(dane, "; ".join(left_out), records_left_out=len(usable) > MAX_RECORDS)
