"""Issue 21 grading corrections on a real server: the no-AEAD cap reads what modern clients negotiate."""

from __future__ import annotations

from scanner.grading import grade


def test_modern_clients_ending_on_cbc_cap_the_grade_at_B_although_gcm_is_accepted(scan_case):
    result = scan_case("cbcfirst")
    assert any(suite.aead for suite in result.tls.cipher_suites)
    # Clients that offer ECDHE-ECDSA-AES128-SHA256 get it (the server's first choice); Chrome does not offer it.
    assert any(sim.modern and "CBC" in (sim.suite or "") for sim in result.tls.simulations)
    grades = grade(result)
    assert "tls.cipher.cbc_negotiated" in {item.id for item in grades.findings}
    assert grades.security == "B"
