"""Revocation end to end (issue 21): real nginx stapling `openssl ocsp` responses, a real `openssl ocsp -port`
responder, a CRL on the lab's HTTP server; scanned with the real engine and graded."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509 import ocsp

from scanner.engine import scan
from scanner.engine.certificates.revocation_fetch import clear_caches, make_checker
from scanner.grading import grade
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
from scanner.report import build_report
from scanner.targets import parse_target
from tests.conftest import LAB_SCAN_SETTINGS
from tests.lab.trust import CRL_PATH, NGINX, TrustLab

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is installed by bin/test (apt)")


@pytest.fixture(scope="module")
def trust_lab():
    with TrustLab() as running:
        yield running


@pytest.fixture(scope="module")
def trust_policy(trust_lab):
    return NetworkPolicy(parse_networks([trust_lab.allowed_network]), parse_pins(trust_lab.resolve_map()))


@pytest.fixture(scope="module")
def trust_settings(trust_lab):
    return replace(LAB_SCAN_SETTINGS, dns_servers=(trust_lab.dns.address,))


@pytest.fixture(scope="module")
def scan_trust_case(trust_lab, trust_policy, trust_settings):
    clear_caches()

    @functools.cache
    def run(name):
        case = trust_lab.case(name)
        target = parse_target(case.hostname, https_port=case.https_port, http_port=case.http_port)
        return scan(target, policy=trust_policy, settings=trust_settings, ca_file=trust_lab.ca_file)

    return run


def ids(grades) -> set[str]:
    return {item.id for item in grades.findings}


def test_revoked_staple_is_graded_T(scan_trust_case):
    result = scan_trust_case("staplerevoked")
    grades = grade(result)
    assert grades.security == "T"
    assert "cert.revoked" in ids(grades)
    revocation = result.tls.certificate.revocation
    assert (revocation.status, revocation.source) == ("revoked", "ocsp-staple")


def test_good_staple_keeps_a_plus_and_reports_good(scan_trust_case):
    result = scan_trust_case("staplegood")
    assert grade(result).security == "A+"
    assert result.tls.certificate.ocsp_stapled
    revocation = result.tls.certificate.revocation
    assert (revocation.status, revocation.source) == ("good", "ocsp-staple")


def test_expired_staple_is_its_own_finding_and_the_responder_decides(scan_trust_case):
    result = scan_trust_case("stapleexpired")
    grades = grade(result)
    revocation = result.tls.certificate.revocation
    assert (revocation.status, revocation.source, revocation.staple_problem) == ("good", "ocsp", "expired")
    assert "cert.ocsp_staple_expired" in ids(grades)
    assert grades.security == "A+"


def test_revoked_at_the_ocsp_responder_is_graded_T(scan_trust_case):
    result = scan_trust_case("ocsprevoked")
    grades = grade(result)
    assert grades.security == "T"
    assert "cert.revoked" in ids(grades)
    assert result.tls.certificate.revocation.source == "ocsp"


def test_revoked_on_the_crl_is_graded_T(scan_trust_case):
    result = scan_trust_case("crlrevoked")
    grades = grade(result)
    assert grades.security == "T"
    assert "cert.revoked" in ids(grades)
    assert result.tls.certificate.revocation.source == "crl"


def test_down_responder_is_unknown_and_leaves_the_grade_alone(scan_trust_case):
    result = scan_trust_case("ocspdown")
    grades = grade(result)
    assert result.status == "done"
    assert result.tls.certificate.revocation.status == "unknown"
    assert "cert.revocation_unknown" in ids(grades)
    # The same server without revocation URLs (staple cases aside, every case serves the same configuration).
    assert grades.security == "A+"
    unknown = next(item for item in grades.findings if item.id == "cert.revocation_unknown")
    assert (unknown.severity, unknown.cap, unknown.warning) == ("info", None, False)


def test_must_staple_certificate_without_staple_is_a_finding(scan_trust_case):
    assert "cert.must_staple_missing" in ids(grade(scan_trust_case("muststaple")))


def test_an_intermediate_revoked_on_its_roots_crl_is_graded_T(scan_trust_case):
    result = scan_trust_case("intermediaterevoked")
    (intermediate,) = result.tls.certificate.intermediate_revocations
    assert intermediate.subject == "HTTPS Scanner Lab Revoked CA"
    assert (intermediate.revocation.status, intermediate.revocation.source) == ("revoked", "crl")
    assert grade(result).security == "T"


def test_one_crl_download_serves_many_sites(trust_lab, trust_policy, trust_settings):
    clear_caches()
    before = trust_lab.pki_server.hits[CRL_PATH]
    for name in ("crlrevoked", "crlgood", "crlrevoked", "crlgood"):
        case = trust_lab.case(name)
        target = parse_target(case.hostname, https_port=case.https_port, http_port=case.http_port)
        result = scan(target, policy=trust_policy, settings=trust_settings, ca_file=trust_lab.ca_file)
        assert result.tls.certificate.revocation.source == "crl"
    assert trust_lab.pki_server.hits[CRL_PATH] - before == 1


def test_revocation_is_in_the_report_certificate_section(scan_trust_case):
    result = scan_trust_case("staplerevoked")
    section = build_report(result, grade(result))["certificate"]["revocation"]
    assert section["status"] == "revoked"
    assert section["source"] == "ocsp-staple"
    assert section["checked_at"]
    assert section["detail"]


def test_leaf_valid_longer_than_allowed_for_its_issuance_date_is_a_finding(scan_trust_case):
    assert "cert.lifetime_too_long" in ids(grade(scan_trust_case("longlived")))


def test_rsa_exponent_3_is_a_finding(scan_trust_case):
    assert "cert.rsa_small_exponent" in ids(grade(scan_trust_case("rsaexp3")))


@pytest.mark.parametrize(
    ("case", "security", "finding"),
    [
        ("staplerevoked", "T", "cert.revoked"),
        ("staplegood", "A+", None),
        ("stapleexpired", "A+", "cert.ocsp_staple_expired"),
        ("ocsprevoked", "T", "cert.revoked"),
        ("crlrevoked", "T", "cert.revoked"),
        ("crlgood", "A+", None),
        ("ocspdown", "A+", "cert.revocation_unknown"),
        ("muststaple", "A+", "cert.must_staple_missing"),
        ("longlived", "A+", "cert.lifetime_too_long"),
        ("rsaexp3", "A+", "cert.rsa_small_exponent"),
        ("intermediaterevoked", "T", "cert.revoked"),
    ],
)
def test_trust_lab_case_grades_as_the_readme_table_says(scan_trust_case, case, security, finding):
    grades = grade(scan_trust_case(case))
    assert grades.security == security
    assert finding is None or finding in ids(grades)


def test_a_cached_responder_answer_never_carries_another_servers_staple_problem(trust_lab, trust_policy):
    clear_caches()
    leaf = x509.load_pem_x509_certificates((trust_lab.directory / "stapleexpired.chain.pem").read_bytes())[0]
    issuer = trust_lab.pki.intermediate_certificate
    check = make_checker(trust_policy, deadline=5, connect_timeout=2)
    staple_file = trust_lab.directory / "stapleexpired.staple.der"
    with_stale_staple = check(leaf, issuer, ocsp.load_der_ocsp_response(staple_file.read_bytes()))
    without_staple = check(leaf, issuer, None)
    assert with_stale_staple.staple_problem == "expired"
    assert (without_staple.status, without_staple.staple_problem) == ("good", None)


def test_silent_responders_share_one_revocation_budget_per_scan(trust_lab, trust_policy):
    clear_caches()
    leaf = x509.load_pem_x509_certificates((trust_lab.directory / "ocsprevoked.chain.pem").read_bytes())[0]
    spent = make_checker(trust_policy, deadline=5, connect_timeout=2, total=0)
    result = spent(leaf, trust_lab.pki.intermediate_certificate, None)
    assert result.status == "unknown" and "used up" in result.detail


def test_a_revoked_staple_fails_pci_dss_and_a_good_one_meets_it(scan_trust_case):
    from scanner.grading.compliance import evaluate_profile

    def pci(case: str) -> dict:
        result = scan_trust_case(case)
        return evaluate_profile(build_report(result, grade(result)), "pci-dss-4.0.1")

    assert "4.2.1 not revoked" in {item["requirement"] for item in pci("staplerevoked")["failed"]}
    good = pci("staplegood")
    assert "4.2.1 not revoked" not in {item["requirement"] for item in good["failed"] + good["not_checked"]}
