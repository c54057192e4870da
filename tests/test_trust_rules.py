"""Trust rules beyond the handshake (issue 21 item 4), on hand-built results: lifetime limits by issuance date,
the RSA exponent and Symantec-distrusted roots; and the staple checks on real OCSP responses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from scanner.engine.certificates import chain, trust
from scanner.engine.certificates.revocation import assess
from tests.grading_factories import grade, ids, with_cert
from tests.lab.pki import LabPKI, LeafSpec


def issued(day: str, days: int):
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return with_cert(not_before=start, not_after=start + timedelta(days=days))


@pytest.mark.parametrize(
    ("issued_on", "days", "too_long"),
    [
        ("2025-06-01", 398, False),
        ("2025-06-01", 399, True),
        ("2026-03-14", 398, False),  # the day before the 200-day limit
        ("2026-03-15", 200, False),
        ("2026-03-15", 201, True),
        ("2027-03-15", 101, True),
        ("2029-03-15", 47, False),
        ("2029-03-15", 48, True),
    ],
)
def test_leaf_lifetime_is_checked_against_the_limit_of_its_issuance_date(issued_on, days, too_long):
    assert ("cert.lifetime_too_long" in ids(grade(issued(issued_on, days)))) is too_long


def test_rsa_exponent_below_65537_is_a_finding_and_65537_is_not():
    assert "cert.rsa_small_exponent" in ids(grade(with_cert(key_type="RSA", key_bits=2048, rsa_public_exponent=3)))
    assert "cert.rsa_small_exponent" not in ids(
        grade(with_cert(key_type="RSA", key_bits=2048, rsa_public_exponent=65537))
    )


def test_chain_ending_at_a_symantec_root_is_graded_T():
    root = "CN=VeriSign Class 3 Public Primary Certification Authority - G5,OU=VeriSign Trust Network,O=VeriSign\\, Inc.,C=US"
    grades = grade(with_cert(root_subject=root))
    assert "cert.symantec_distrusted" in ids(grades)
    assert grades.security == "T"


def test_chain_ending_at_a_digicert_root_is_not_symantec():
    root = "CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US"
    assert "cert.symantec_distrusted" not in ids(grade(with_cert(root_subject=root)))


def test_staple_signed_by_another_key_is_untrusted_and_not_believed(tmp_path):
    pki = LabPKI(tmp_path)
    leaf = pki.issue("leaf", LeafSpec(hostnames=("leaf.lab.test",))).certificate
    issuer = pki.intermediate_certificate
    # A responder certificate the issuer never authorised (self-signed, its own key).
    rogue = pki.issue("rogue", LeafSpec(hostnames=("rogue.lab.test",), self_signed=True))
    now = datetime.now(UTC)
    forged = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=leaf,
            issuer=issuer,
            algorithm=hashes.SHA1(),
            cert_status=ocsp.OCSPCertStatus.REVOKED,
            this_update=now - timedelta(hours=1),
            next_update=now + timedelta(days=1),
            revocation_time=now - timedelta(hours=1),
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, rogue.certificate)
        .certificates([rogue.certificate])
        .sign(serialization.load_pem_private_key(rogue.key_file.read_bytes(), None), hashes.SHA256())
    )
    check = assess(leaf, issuer, forged, fetch_ocsp=None, fetch_crl=None, now=now)
    assert check.staple_problem == "untrusted"
    assert check.status == "unknown"
    assert "cert.ocsp_staple_untrusted" in ids(grade(with_cert(revocation=check)))


def test_a_revocation_check_that_crashes_is_unknown_and_never_fails_the_scan(tmp_path):
    pki = LabPKI(tmp_path)
    creds = pki.issue("leaf", LeafSpec(hostnames=("leaf.lab.test",)))
    outcome = chain.analyse([creds.certificate, pki.intermediate_certificate], [], None)

    def crashing(cert, issuer, staple):
        raise TypeError("unsupported key type in the CRL")

    facts = trust.facts(outcome, None, crashing)
    assert facts["revocation"].status == "unknown"
    assert "unsupported key type" in facts["revocation"].detail
