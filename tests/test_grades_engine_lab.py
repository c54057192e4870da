"""Issue 9 lab cases graded end to end (the grading policy itself is scanner/grading's policy.toml)."""

from __future__ import annotations

import pytest

from scanner.grading import grade


@pytest.mark.parametrize(
    ("case", "security", "findings"),
    [
        # Completed via AIA with a root-only CA file: trusted, capped B, never T.
        ("nointermediate", "B", {"cert.chain_incomplete"}),
        ("aiabroken", "T", {"cert.untrusted", "cert.chain_incomplete", "scan.probe_not_tested"}),
        ("reversedchain", "A+", {"cert.chain_order_wrong"}),
        ("sha1intermediate", "T", {"cert.untrusted", "cert.sha1_signature"}),
        ("md5leaf", "F", {"cert.md5_signature"}),
        ("dualcert", "B", {"cert.weak_key"}),  # the second (RSA 1024) deployment is graded too
        ("dhcomposite", "B", {"tls.kex.dh_unsafe_prime"}),
        ("dhnonsafe", "B", {"tls.kex.dh_unsafe_prime"}),
        ("clientcert", "A+", {"tls.client_certificate_requested"}),
        ("nullcipher", "F", {"tls.cipher.null"}),
        ("manynames", "A+", set()),  # ROBOT read its several-record Certificate message: nothing missing
        ("fallbackalert", "A+", {"scan.probe_not_tested"}),  # the fallback test failed: graded from the rest
        ("twoaddr", "B", {"endpoint.grade_differs", "tls.protocol.tls1_0"}),  # the worse of its two addresses
    ],
)
def test_issue9_case_gets_its_grade_and_findings(scan_case, case, security, findings):
    grades = grade(scan_case(case))
    assert grades.security == security
    assert findings <= {f.id for f in grades.findings}


def test_md5_finding_names_md5_not_sha1(scan_case):
    ids = {f.id for f in grade(scan_case("md5leaf")).findings}
    assert "cert.md5_signature" in ids and "cert.sha1_signature" not in ids


def test_sha1_intermediate_finding_names_the_intermediate(scan_case):
    (sha1,) = [f for f in grade(scan_case("sha1intermediate")).findings if f.id == "cert.sha1_signature"]
    assert "HTTPS Scanner Lab SHA-1 CA" in sha1.detail


def test_certificate_too_large_for_openssl_is_not_graded(scan_case):
    assert grade(scan_case("hugecert")).security is None
