"""Issue 9 lab cases graded end to end (the grading policy itself is scanner/grading's)."""

from __future__ import annotations

import pytest

from scanner.grading import grade


@pytest.mark.parametrize(
    ("case", "security", "finding"),
    [
        ("nointermediate", "B", "cert.chain_incomplete"),  # completed via AIA with a root-only CA file: never T
        ("aiabroken", "T", "cert.untrusted"),
        ("sha1intermediate", "T", "cert.untrusted"),
        ("nullcipher", "F", "tls.cipher.null"),
    ],
)
def test_issue9_case_gets_its_grade_and_finding(scan_case, case, security, finding):
    grades = grade(scan_case(case))
    assert grades.security == security
    assert finding in {f.id for f in grades.findings}


@pytest.mark.parametrize("case", ["manynames", "clientcert", "reversedchain", "dualcert", "dhcomposite", "twoaddr"])
def test_scan_with_a_failed_optional_probe_or_odd_chain_is_still_graded(scan_case, case):
    assert grade(scan_case(case)).security is not None


def test_certificate_too_large_for_openssl_is_not_graded(scan_case):
    assert grade(scan_case("hugecert")).security is None
