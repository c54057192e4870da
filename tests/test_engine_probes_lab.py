"""Optional probes that fail, key exchange groups, clear failures (issue 9), against real lab servers."""

from __future__ import annotations

import re

import pytest

from scanner.engine.protocols.keyexchange import analyse_dh_prime, known_groups
from scanner.grading import grade

# sslyze's enum names, exception names and the web-PKI verifier's debug text must never reach a reader.
_MACHINE_TEXT = re.compile(
    r"BUG_IN_SSLYZE|CLIENT_CERTIFICATE_NEEDED|CONNECTIVITY_ISSUE|WRONG_USAGE|NOT_SCHEDULED|NOT_VULNERABLE|"
    r"VULNERABLE_(WEAK|STRONG)|UNKNOWN_INCONSISTENT|ServerTlsConfigurationNotSupported|ServerRejectedConnection|"
    r"TlsHandshakeTimedOut|candidates exhausted|AlgorithmIdentifier|Forbidden signature|interior errors|"
    r"validation failed:|encountered processing|TlsHandshakeTypeByte|Traceback"
)


def test_crashing_optional_probe_leaves_the_scan_done_graded_and_partial(scan_case):
    result = scan_case("fallbackalert")
    assert (result.status, result.partial) == ("done", True)
    assert result.probes["fallback_scsv"].status == "error"
    assert "TLS alert the test cannot interpret (access denied)" in result.probes["fallback_scsv"].reason
    assert grade(result).security is not None


def test_probe_result_is_unknown_not_clean_when_its_probe_failed(scan_case):
    assert scan_case("fallbackalert").tls.vulnerabilities.fallback_scsv is None


def test_robot_is_measured_on_a_server_whose_certificate_message_spans_several_records(scan_case):
    result = scan_case("manynames")
    assert (result.status, result.partial, result.probes["robot"].status) == ("done", False, "ok")
    assert (result.tls.vulnerabilities.robot, result.tls.vulnerabilities.robot_detail) == (False, "no oracle found")


def test_complete_scan_is_not_partial(scan_case):
    result = scan_case("good")
    assert result.partial is False and all(p.status == "ok" for p in result.probes.values())


def test_server_requesting_a_client_certificate_is_scanned_and_says_so(scan_case):
    result = scan_case("clientcert")
    assert (result.status, result.tls.client_certificate_requested) == ("done", True)
    assert grade(result).security is not None


def test_server_without_client_certificate_request_says_so(scan_case):
    assert scan_case("good").tls.client_certificate_requested is False


def test_null_suite_server_is_scanned_and_graded_F(scan_case):
    result = scan_case("nullcipher")
    assert result.status == "done"
    assert any(suite.is_null for suite in result.tls.cipher_suites)
    assert grade(result).security == "F"


def test_too_large_certificate_fails_saying_so(scan_case):
    result = scan_case("hugecert")
    assert result.status == "failed" and "too large for OpenSSL" in result.error


def test_composite_dh_modulus_is_recorded_as_not_prime(scan_case):
    (group,) = [g for g in scan_case("dhcomposite").tls.key_exchange_groups if g.kind == "DH"]
    assert (group.bits, group.prime, group.safe_prime) == (2048, False, False)
    assert "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" in group.suites


def test_non_safe_dh_prime_is_recorded_as_prime_but_not_safe(scan_case):
    (group,) = [g for g in scan_case("dhnonsafe").tls.key_exchange_groups if g.kind == "DH"]
    assert (group.prime, group.safe_prime, group.name) == (True, False, None)


def test_ecdhe_curves_are_recorded_with_the_suites_that_used_them(scan_case):
    groups = {g.name: g for g in scan_case("good").tls.key_exchange_groups if g.kind == "ECDH"}
    assert "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" in groups["secp256r1"].suites
    assert "X25519" in groups


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("ffdhe2048", "ffffffffffffffffadf85458a2bb4a9a"),
        ("RFC 3526 group 14 (2048-bit MODP)", "ffffffffffffffffc90fdaa22168c234"),
    ],
)
def test_published_dh_groups_are_recognised_as_safe_primes(name, prefix):
    (prime,) = [p for p, n in known_groups().items() if n == name]
    assert format(prime, "x").startswith(prefix) and prime.bit_length() == 2048
    assert analyse_dh_prime(prime) == (True, True, name)


def test_known_group_constants_really_are_safe_primes():
    import gmpy2

    for prime in known_groups():
        assert gmpy2.is_prime(prime) and gmpy2.is_prime((prime - 1) // 2)


def test_no_finding_or_error_shows_sslyze_or_verifier_internals(scan_case, lab):
    for case in lab.cases:
        result = scan_case(case.name)
        texts = [result.error or ""] + [p.reason or "" for p in result.probes.values()]
        if result.tls and result.tls.certificate:
            texts.append(result.tls.certificate.validation_error or "")
        for finding in grade(result).findings:
            texts += [finding.title, finding.detail, finding.remediation]
        for text in texts:
            assert not _MACHINE_TEXT.search(text), (case.name, text)
