"""Compliance profiles on hand-built reports: one test per kind of requirement, and the report contract."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from scanner.engine.results import ChainCertificate, KeyExchangeGroup
from scanner.grading.compliance import PROFILE_IDS, _load, evaluate, evaluate_profile
from scanner.report import build_report, with_compliance
from tests.grading_factories import NOW, certificate, grade, http, scan, suite, tls, vulnerabilities


def report_of(result) -> dict:
    return build_report(result, grade(result))


def verdict(result, profile: str) -> dict:
    return evaluate_profile(report_of(result), profile)


def failed(result, profile: str) -> dict[str, str]:
    return {item["requirement"]: item["seen"] for item in verdict(result, profile)["failed"]}


def warned(result, profile: str) -> dict[str, str]:
    return {item["requirement"]: item["seen"] for item in verdict(result, profile)["warnings"]}


def test_profile_ids_are_the_issue_s_names():
    assert PROFILE_IDS == (
        "mozilla-modern",
        "mozilla-intermediate",
        "nist-sp800-52r2",
        "bsi-tr-02102-2",
        "anssi-tls",
        "ncsc-nl-tls",
        "pci-dss-4.0.1",
    )


def test_report_lists_every_profile_with_the_contract_fields():
    entries = report_of(scan())["compliance"]
    assert [entry["profile"] for entry in entries] == list(PROFILE_IDS)
    for entry in entries:
        assert {"profile", "title", "version", "status", "failed", "warnings"} <= set(entry)
        for item in entry["failed"] + entry["warnings"]:
            assert set(item) == {"requirement", "level", "source", "seen", "remediation"}


def test_well_configured_site_meets_mozilla_intermediate():
    assert verdict(scan(), "mozilla-intermediate")["status"] == "pass"


def test_failed_scan_is_not_applicable_to_every_profile():
    result = scan(tls_result=None, http_result=None, error="connection refused")
    assert {entry["status"] for entry in report_of(result)["compliance"]} == {"not_applicable"}


# --- protocols ----------------------------------------------------------------------------------------


def test_offering_tls1_0_fails_pci_dss():
    result = scan(tls(protocols=("TLSv1.0", "TLSv1.2", "TLSv1.3")))
    assert failed(result, "pci-dss-4.0.1")["4.2.1 secure versions"] == "offers TLSv1.0"


def test_offering_tls1_0_is_only_a_warning_for_nist_customer_facing():
    result = scan(tls(protocols=("TLSv1.0", "TLSv1.2", "TLSv1.3")))
    assert "3.1 TLS 1.0/1.1" in warned(result, "nist-sp800-52r2")
    assert "3.1 TLS 1.0/1.1" not in failed(result, "nist-sp800-52r2")


def test_missing_tls1_3_fails_nist_since_2024():
    result = scan(tls(protocols=("TLSv1.2",), suites=[suite()]))
    assert failed(result, "nist-sp800-52r2")["3.1 TLS 1.3"] == "does not offer TLSv1.3"


def test_an_old_protocol_on_a_second_address_fails_the_site():
    report = report_of(scan())
    report["endpoints"] = [
        {"ip": "192.0.2.1", "protocols": report["protocols"]},
        {"ip": "192.0.2.2", "protocols": {**report["protocols"], "TLSv1.1": True}},
    ]
    assert evaluate_profile(report, "bsi-tr-02102-2")["failed"][0]["seen"] == "offers TLSv1.1"


# --- cipher suites and key exchange --------------------------------------------------------------------


def test_chacha20_is_outside_nist_and_bsi_lists():
    result = scan()  # the perfect site offers TLS_CHACHA20_POLY1305_SHA256
    assert "TLS_CHACHA20_POLY1305_SHA256" in failed(result, "nist-sp800-52r2")["3.3.1 cipher suites"]
    assert "TLS_CHACHA20_POLY1305_SHA256" in failed(result, "bsi-tr-02102-2")["3.3.1 cipher suites"]


def test_tls1_2_suite_fails_mozilla_modern():
    assert "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" in failed(scan(), "mozilla-modern")["ciphersuites"]


def test_static_rsa_suite_is_a_nist_warning():
    suites = [
        suite("TLS_AES_128_GCM_SHA256", "TLSv1.3"),
        suite("TLS_RSA_WITH_AES_128_GCM_SHA256", forward_secrecy=False),
    ]
    assert (
        "TLS_RSA_WITH_AES_128_GCM_SHA256"
        in warned(scan(tls(suites=suites)), "nist-sp800-52r2")["3.3.1.1 ephemeral keys"]
    )


def test_cbc_suite_is_a_ncsc_phase_out_warning_not_a_failure():
    suites = [suite("TLS_AES_128_GCM_SHA256", "TLSv1.3"), suite("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", aead=False)]
    result = scan(tls(suites=suites))
    assert "tls_ciphers phase-out" in warned(result, "ncsc-nl-tls")
    assert "tls_ciphers" not in failed(result, "ncsc-nl-tls")


def test_3des_fails_pci_strong_cryptography():
    suites = [suite("TLS_AES_128_GCM_SHA256", "TLSv1.3"), suite("TLS_RSA_WITH_3DES_EDE_CBC_SHA", forward_secrecy=False)]
    assert (
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA"
        in failed(scan(tls(suites=suites)), "pci-dss-4.0.1")["4.2.1 strong cryptography"]
    )


def test_curve_outside_mozilla_list_fails_intermediate():
    result = scan(tls(curves=("X25519", "secp256r1", "X448")))
    assert failed(result, "mozilla-intermediate")["tls_curves"] == "key exchange with X448"


def test_dh_2048_fails_bsi_from_2024_but_meets_pci():
    groups = (KeyExchangeGroup(kind="DH", name="ffdhe2048", bits=2048, prime=True, safe_prime=True),)
    result = scan(tls(key_exchange_groups=groups))
    assert failed(result, "bsi-tr-02102-2")["3.6.1 DH"] == "DHE with ffdhe2048 (2048 bits)"
    assert "4.2.1 key exchange (DH)" not in failed(result, "pci-dss-4.0.1")


def test_dh_1024_fails_pci():
    groups = (KeyExchangeGroup(kind="DH", name=None, bits=1024, prime=True, safe_prime=True),)
    assert "4.2.1 key exchange (DH)" in failed(scan(tls(key_exchange_groups=groups)), "pci-dss-4.0.1")


def test_p224_ecdhe_fails_anssi():
    groups = (KeyExchangeGroup(kind="ECDH", name="secp224r1", bits=224),)
    assert "groups" in failed(scan(tls(key_exchange_groups=groups)), "anssi-tls")


# --- certificates --------------------------------------------------------------------------------------


def test_rsa_certificate_fails_mozilla_modern():
    result = scan(tls(certificate=certificate(key_type="RSA", key_bits=2048)))
    assert failed(result, "mozilla-modern")["certificate_types"] == "serves an RSA 2048-bit certificate"


def test_rsa_2048_fails_bsi_and_warns_ncsc():
    result = scan(tls(certificate=certificate(key_type="RSA", key_bits=2048)))
    assert "3.6.1 RSA key" in failed(result, "bsi-tr-02102-2")
    assert "cert_pubkey phase-out" in warned(result, "ncsc-nl-tls")


def test_second_rsa_1024_deployment_fails_pci():
    weak = certificate(key_type="RSA", key_bits=1024)
    result = scan(tls(certificate_deployments=(certificate(), weak)))
    assert failed(result, "pci-dss-4.0.1")["4.2.1 key sizes (RSA)"] == "serves an RSA 1024-bit certificate (needs 2048)"


def test_sha1_signed_intermediate_fails_pci_and_ncsc():
    chain = (
        ChainCertificate(
            "CN=example.com", "CN=Int", "aa", "EC", 256, "ecdsa-with-SHA256", "sha256", False, False, "sent"
        ),
        ChainCertificate("CN=Int", "CN=Root", "bb", "RSA", 2048, "sha1WithRSAEncryption", "sha1", True, False, "sent"),
        ChainCertificate(
            "CN=Root", "CN=Root", "cc", "RSA", 4096, "sha1WithRSAEncryption", "sha1", True, True, "trust_store"
        ),
    )
    result = scan(tls(certificate=certificate(chain=chain)))
    assert failed(result, "pci-dss-4.0.1")["4.2.1 signature"] == "CN=Int signed with sha1WithRSAEncryption"
    assert "cert_signature" in failed(result, "ncsc-nl-tls")


def test_one_year_certificate_fails_mozilla_modern_not_intermediate():
    result = scan(tls(certificate=certificate(not_after=NOW + timedelta(days=365))))
    assert "maximum_certificate_lifespan" in failed(result, "mozilla-modern")
    assert "maximum_certificate_lifespan" not in failed(result, "mozilla-intermediate")


def test_expired_certificate_fails_pci():
    result = scan(tls(certificate=certificate(trusted=False, expired=True, not_after=NOW - timedelta(days=1))))
    assert failed(result, "pci-dss-4.0.1")["4.2.1 trusted keys and certificates"].startswith("certificate expired on")


def test_name_mismatch_fails_nist():
    result = scan(tls(certificate=certificate(hostname_match=False)))
    assert "3.2.1 subject name" in failed(result, "nist-sp800-52r2")


def test_revocation_is_not_checked_rather_than_met():
    not_checked = verdict(scan(), "pci-dss-4.0.1")["not_checked"]
    assert [item["requirement"] for item in not_checked] == ["4.2.1 not revoked"]


def test_a_revoked_certificate_fails_pci_dss():
    from scanner.engine.results import RevocationCheck

    revoked = RevocationCheck(status="revoked", source="ocsp-staple", checked_at=NOW, detail="staple says revoked")
    result = scan(tls(certificate=certificate(revocation=revoked)))
    assert "4.2.1 not revoked" in failed(result, "pci-dss-4.0.1")


def test_a_certificate_its_ca_calls_good_meets_the_revocation_requirement():
    from scanner.engine.results import RevocationCheck

    good = RevocationCheck(status="good", source="crl", checked_at=NOW, detail="not on the CRL")
    verdict_ = verdict(scan(tls(certificate=certificate(revocation=good))), "pci-dss-4.0.1")
    assert "4.2.1 not revoked" not in failed(scan(tls(certificate=certificate(revocation=good))), "pci-dss-4.0.1")
    assert all(item["requirement"] != "4.2.1 not revoked" for item in verdict_["not_checked"])


def test_missing_ocsp_staple_is_a_mozilla_warning_and_a_nist_failure():
    result = scan(tls(certificate=certificate(ocsp_stapled=False)))
    assert verdict(result, "mozilla-intermediate")["status"] == "pass"
    assert "ocsp_staple" in warned(result, "mozilla-intermediate")
    assert "3.4.1.5 certificate status request" in failed(result, "nist-sp800-52r2")


# --- extensions, vulnerabilities, HTTP -----------------------------------------------------------------


def test_compression_fails_bsi():
    result = scan(tls(vulnerabilities=vulnerabilities(compression=True)))
    assert failed(result, "bsi-tr-02102-2")["3.5 compression"] == "compression: vulnerable"


def test_heartbleed_fails_pci():
    assert "4.2.1 insecure implementations (Heartbleed)" in failed(
        scan(tls(vulnerabilities=vulnerabilities(heartbleed=True))), "pci-dss-4.0.1"
    )


def test_undetermined_vulnerability_is_not_checked():
    result = scan(tls(vulnerabilities=vulnerabilities(robot=None)))
    assert "4.2.1 insecure implementations (ROBOT)" in {
        item["requirement"] for item in verdict(result, "pci-dss-4.0.1")["not_checked"]
    }


def test_old_protocol_without_fallback_scsv_fails_nist():
    result = scan(
        tls(protocols=("TLSv1.1", "TLSv1.2", "TLSv1.3"), vulnerabilities=vulnerabilities(fallback_scsv=False))
    )
    assert "3.3.2 TLS_FALLBACK_SCSV" in failed(result, "nist-sp800-52r2")


def test_no_extended_master_secret_fails_nist_and_warns_bsi():
    result = scan(tls(extended_master_secret=False))
    assert "3.4.1.3 extended master secret" in failed(result, "nist-sp800-52r2")
    assert "3.4 extended master secret" in warned(result, "bsi-tr-02102-2")


def test_tls1_3_only_server_needs_no_extended_master_secret():
    result = scan(
        tls(protocols=("TLSv1.3",), suites=[suite("TLS_AES_128_GCM_SHA256", "TLSv1.3")], extended_master_secret=False)
    )
    assert "3.4.1.3 extended master secret" not in failed(result, "nist-sp800-52r2")


def test_short_hsts_fails_ncsc_and_warns_mozilla():
    result = scan(http_result=http(hsts=replace(http().hsts, max_age=86400)))
    assert failed(result, "ncsc-nl-tls")["https_hsts"] == "max-age=86400"
    assert "hsts_min_age" in warned(result, "mozilla-intermediate")


def test_no_https_redirect_fails_ncsc():
    from scanner.engine.results import HttpHop

    result = scan(http_result=http(hops=(HttpHop("http://example.com/", 200),)))
    assert failed(result, "ncsc-nl-tls")["https_forced"] == "http:// answers 200 without redirecting"


# --- old reports, the data file ------------------------------------------------------------------------


def test_old_stored_report_is_re_evaluated_without_rescanning():
    stored = report_of(scan(tls(extended_master_secret=False)))
    for key in ("compliance", "extended_master_secret"):
        stored.pop(key)  # a report stored before this feature
    entry = next(e for e in with_compliance(stored)["compliance"] if e["profile"] == "nist-sp800-52r2")
    assert "3.4.1.3 extended master secret" in {item["requirement"] for item in entry["not_checked"]}


def test_evaluate_can_limit_to_chosen_profiles():
    assert [entry["profile"] for entry in evaluate(report_of(scan()), ["pci-dss-4.0.1"])] == ["pci-dss-4.0.1"]


def test_typo_in_a_row_fails_at_load(tmp_path):
    path = tmp_path / "profiles.toml"
    path.write_text(
        '[profiles.x]\ntitle = "x"\nshort = "x"\nversion = "1"\ndocument = "d"\n'
        '[[requirement]]\nprofile = "x"\nid = "a"\ncheck = "protocol_offerd"\nlevel = "must not"\n'
        'source = "s"\nremediation = "r"\n'
    )
    with pytest.raises(ValueError, match="unknown check"):
        _load(path)


def test_composite_dh_modulus_fails_pci():
    groups = (KeyExchangeGroup(kind="DH", name=None, bits=2048, prime=False, safe_prime=False),)
    assert failed(scan(tls(key_exchange_groups=groups)), "pci-dss-4.0.1")["4.2.1 key exchange (DH group)"] == (
        "DHE with 2048-bit group (composite)"
    )
