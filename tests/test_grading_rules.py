"""Issue 11's table, row by row: each rule at its anchor's value, on hand-built results (tests/grading_factories)."""

from __future__ import annotations

import pytest

from scanner.engine.results import (
    ChainCertificate,
    ClientSimulation,
    EndpointResult,
    HttpResult,
    KeyExchangeGroup,
    MixedContentItem,
    ProbeOutcome,
)
from scanner.grading.scoring import key_exchange_score
from tests.grading_factories import (
    HOST,
    PERFECT_SUITES,
    HstsPolicy,
    HttpHop,
    certificate,
    finding,
    grade,
    http,
    ids,
    scan,
    suite,
    tls,
    vulnerabilities,
    with_cert,
)

TLS12_ONLY = ("TLSv1.2",)
ECDHE_128 = suite("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
STATIC_RSA = suite("TLS_RSA_WITH_AES_128_GCM_SHA256", forward_secrecy=False, kex_bits=None, kex_type=None)


def plain_suite(name: str, protocol: str = "TLSv1.2", key_bits: int = 128) -> object:
    return suite(name, protocol, key_bits, forward_secrecy=False, aead=False, kex_bits=None, kex_type=None)


def simulated(
    client: str, suite_name: str, forward_secrecy: bool, protocol: str = "TLSv1.2", modern: bool = True
) -> ClientSimulation:
    return ClientSimulation(client, protocol, suite_name, forward_secrecy, modern=modern)


# --- ciphers and protocols -----------------------------------------------------------------------------


def test_des_56_suite_under_112_bits_is_graded_F():
    des = plain_suite("TLS_RSA_WITH_DES_CBC_SHA", key_bits=56)
    grades = grade(scan(tls(suites=(ECDHE_128, des))))
    assert grades.security == "F"
    assert finding(grades, "tls.cipher.under_112_bits").cap == "F"


def test_des_56_only_server_is_graded_F():
    grades = grade(scan(tls(protocols=TLS12_ONLY, suites=(plain_suite("TLS_RSA_WITH_DES_CBC_SHA", key_bits=56),))))
    assert grades.security == "F"


def test_sslv3_as_best_protocol_is_graded_F():
    grades = grade(scan(tls(protocols=("SSLv3",), suites=(plain_suite("TLS_RSA_WITH_AES_128_CBC_SHA", "SSLv3"),))))
    assert grades.security == "F"
    assert "tls.protocol.sslv3_best" in ids(grades)


def test_sslv3_beside_tls_1_2_caps_at_C_without_the_best_protocol_rule():
    grades = grade(scan(tls(protocols=("SSLv3", "TLSv1.2", "TLSv1.3"))))
    assert grades.security == "C"
    assert "tls.protocol.sslv3_best" not in ids(grades)


def test_rc4_only_server_is_graded_F():
    rc4 = (plain_suite("TLS_RSA_WITH_RC4_128_SHA"), plain_suite("TLS_ECDHE_RSA_WITH_RC4_128_SHA"))
    grades = grade(scan(tls(protocols=TLS12_ONLY, suites=rc4)))
    assert grades.security == "F"
    assert ids(grades) >= {"tls.cipher.rc4_only"}


def test_rc4_only_with_tls_1_0_or_older_caps_at_B():
    rc4 = plain_suite("TLS_RSA_WITH_RC4_128_SHA", "TLSv1.0")
    grades = grade(scan(tls(protocols=("TLSv1.0", "TLSv1.2", "TLSv1.3"), suites=PERFECT_SUITES + (rc4,))))
    assert finding(grades, "tls.cipher.rc4_legacy").cap == "B"
    assert grades.security == "B"


def test_rc4_with_tls_1_2_caps_at_C():
    rc4 = plain_suite("TLS_RSA_WITH_RC4_128_SHA", "TLSv1.2")
    grades = grade(scan(tls(suites=PERFECT_SUITES + (rc4,))))
    assert finding(grades, "tls.cipher.rc4").cap == "C"
    assert grades.security == "C"


@pytest.mark.parametrize(
    "name", ["TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_IDEA_CBC_SHA", "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5"]
)
def test_64_bit_block_cipher_with_tls_1_2_caps_at_C(name):
    grades = grade(scan(tls(suites=PERFECT_SUITES + (plain_suite(name, key_bits=128),))))
    assert finding(grades, "tls.cipher.sweet32").cap == "C"


def test_64_bit_block_cipher_only_with_tls_1_0_has_no_sweet32_cap():
    triple_des = plain_suite("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLSv1.0", key_bits=168)
    grades = grade(scan(tls(protocols=("TLSv1.0", "TLSv1.2", "TLSv1.3"), suites=PERFECT_SUITES + (triple_des,))))
    assert "tls.cipher.sweet32" not in ids(grades)
    assert finding(grades, "tls.cipher.64bit_block").cap is None
    assert grades.security == "B"  # the TLS 1.0 cap, not SWEET32's C


# --- forward secrecy -----------------------------------------------------------------------------------


def test_static_rsa_accepted_but_not_negotiated_by_modern_clients_is_A_minus():
    simulations = (
        simulated("Chrome 131 / Windows 11", ECDHE_128.name, True),
        simulated("Safari 17 / macOS 14", ECDHE_128.name, True),
    )
    grades = grade(scan(tls(protocols=TLS12_ONLY, suites=(ECDHE_128, STATIC_RSA), simulations=simulations)))
    assert grades.security == "A-"  # the no-TLS-1.3 warning; no forward-secrecy cap
    assert "tls.cipher.non_fs_accepted" in ids(grades)
    assert "tls.cipher.no_forward_secrecy" not in ids(grades)


def test_non_fs_suite_negotiated_by_a_modern_simulated_client_caps_at_B():
    simulations = (simulated("Chrome 131 / Windows 11", STATIC_RSA.name, False),)
    grades = grade(scan(tls(suites=PERFECT_SUITES + (STATIC_RSA,), simulations=simulations)))
    assert grades.security == "B"
    assert "Chrome 131" in finding(grades, "tls.cipher.no_forward_secrecy").detail


def test_non_fs_suite_negotiated_only_by_an_old_client_does_not_cap():
    simulations = (
        simulated("Chrome 131 / Windows 11", ECDHE_128.name, True),
        simulated("IE 11 / Windows 7", STATIC_RSA.name, False, modern=False),
    )
    grades = grade(scan(tls(suites=PERFECT_SUITES + (STATIC_RSA,), simulations=simulations)))
    assert grades.security == "A+"


def test_server_preferring_a_non_fs_suite_caps_at_B_without_simulation():
    preferred = {"TLSv1.2": STATIC_RSA.name, "TLSv1.3": "TLS_AES_128_GCM_SHA256"}
    grades = grade(scan(tls(suites=PERFECT_SUITES + (STATIC_RSA,), preferred_suites=preferred)))
    assert "tls.cipher.no_forward_secrecy" in ids(grades)


def test_non_fs_suites_are_assumed_negotiated_when_no_client_data_exists():
    grades = grade(scan(tls(suites=PERFECT_SUITES + (STATIC_RSA,))))
    assert grades.security == "B"
    assert "No client simulation" in finding(grades, "tls.cipher.no_forward_secrecy").detail


# --- renegotiation -------------------------------------------------------------------------------------


def test_insecure_renegotiation_is_F_when_client_renegotiation_is_accepted():
    flags = vulnerabilities(insecure_renegotiation=True, client_renegotiation_dos=True)
    grades = grade(scan(tls(vulnerabilities=flags)))
    assert grades.security == "F"
    assert "vuln.insecure_renegotiation" in ids(grades)


def test_missing_secure_renegotiation_without_client_renegotiation_is_only_a_warning():
    grades = grade(scan(tls(vulnerabilities=vulnerabilities(insecure_renegotiation=True))))
    assert grades.security == "A-"
    assert ids(grades) == {"tls.no_secure_renegotiation"}


# --- key exchange --------------------------------------------------------------------------------------


def test_ec_p224_key_scores_90_in_key_exchange_without_a_cap():
    result = with_cert(key_type="EC", key_bits=224)
    assert key_exchange_score(result.tls) == 90
    grades = grade(result)
    assert grades.security == "A+"
    assert not {"cert.weak_key", "cert.insecure_key"} & ids(grades)


@pytest.mark.parametrize(("bits", "score"), [(109, 20), (122, 40), (160, 80), (224, 90), (256, 100)])
def test_ecdhe_curve_size_counts_in_key_exchange(bits, score):
    assert key_exchange_score(tls(suites=(suite(kex_bits=bits, kex_type="ECDH"),))) == score


def test_ecdhe_group_under_163_bits_caps_at_B():
    group = KeyExchangeGroup("ECDH", "secp160r1", 160, suites=(ECDHE_128.name,))
    grades = grade(scan(tls(key_exchange_groups=(group,))))
    assert finding(grades, "tls.kex.weak_group").cap == "B"
    assert grades.security == "B"


def test_composite_dh_prime_is_high_and_caps_at_B():
    group = KeyExchangeGroup("DH", None, 2048, prime=False, safe_prime=False)
    grades = grade(scan(tls(key_exchange_groups=(group,))))
    unsafe = finding(grades, "tls.kex.dh_unsafe_prime")
    assert unsafe.severity == "high" and "not prime at all" in unsafe.detail
    assert grades.security == "B"


def test_non_safe_dh_prime_caps_at_B():
    group = KeyExchangeGroup("DH", None, 2048, prime=True, safe_prime=False)
    assert grade(scan(tls(key_exchange_groups=(group,)))).security == "B"


# --- certificate ---------------------------------------------------------------------------------------


def test_md5_signed_certificate_is_F_even_when_untrusted():
    grades = grade(
        with_cert(
            signature_hash="md5",
            signature_algorithm="md5WithRSAEncryption",
            trusted=False,
            validation_error="signature algorithm not allowed",
        )
    )
    assert grades.security == "F"
    assert "cert.md5_signature" in ids(grades)


def test_md5_signed_intermediate_is_F():
    cert = certificate(
        chain=(
            ChainCertificate(
                "CN=leaf", "CN=Inter", "aa", "EC", 256, "ecdsa-with-SHA256", "sha256", False, False, "sent"
            ),
            ChainCertificate(
                "CN=Inter", "CN=Root", "bb", "RSA", 2048, "md5WithRSAEncryption", "md5", True, False, "sent"
            ),
            ChainCertificate(
                "CN=Root", "CN=Root", "cc", "RSA", 4096, "md5WithRSAEncryption", "md5", True, True, "trust_store"
            ),
        )
    )
    grades = grade(scan(tls(certificate=cert)))
    assert grades.security == "F"
    assert "CN=Inter" in finding(grades, "cert.md5_signature").detail


def test_sha1_signed_intermediate_is_T_and_sha1_root_is_ignored():
    sent = ChainCertificate(
        "CN=Inter", "CN=Root", "bb", "RSA", 2048, "sha1WithRSAEncryption", "sha1", True, False, "sent"
    )
    root = ChainCertificate(
        "CN=Root", "CN=Root", "cc", "RSA", 4096, "sha1WithRSAEncryption", "sha1", True, True, "trust_store"
    )
    leaf = ChainCertificate("CN=leaf", "CN=Inter", "aa", "EC", 256, "ecdsa-with-SHA256", "sha256", False, False, "sent")
    assert grade(scan(tls(certificate=certificate(chain=(leaf, sent, root))))).security == "T"
    assert grade(scan(tls(certificate=certificate(chain=(leaf, root))))).security == "A+"


def test_chain_completed_via_aia_caps_at_B_not_T():
    grades = grade(with_cert(trusted=False, chain_trusted=True, chain_completed_via_aia=True))
    assert grades.security == "B"
    assert "AIA" in finding(grades, "cert.chain_incomplete").detail


def test_chain_trusted_decides_trust_when_the_engine_provides_it():
    assert grade(with_cert(trusted=True, chain_trusted=False)).security == "T"


def test_expiring_certificate_does_not_change_the_grade():
    grades = grade(with_cert(days_to_expiry=20))
    assert grades.security == "A+"
    assert finding(grades, "cert.expiring_soon").severity == "medium"


def test_every_certificate_deployment_is_graded():
    rsa_1024 = certificate(key_type="RSA", key_bits=1024, subject="CN=rsa")
    grades = grade(scan(tls(certificate_deployments=(certificate(), rsa_1024))))
    assert grades.security == "B"
    assert "RSA certificate" in finding(grades, "cert.weak_key").detail


# --- HSTS ----------------------------------------------------------------------------------------------


def test_missing_hsts_with_port_80_unreachable_is_still_A_minus():
    grades = grade(scan(http_result=http((), http_listener=False, error="connection timed out", hsts=None)))
    assert grades.security == "A-"
    assert {"hsts.missing", "http.unreachable"} <= ids(grades)


def test_failed_https_fetch_is_could_not_fetch_without_hsts_penalty():
    error = "could not fetch https://example.com/: connection reset"
    grades = grade(scan(http_result=http(hsts=None, hsts_error=error)))
    assert ids(grades) == {"hsts.not_checked"}
    assert grades.security == "A" and grades.seo_score == 100  # no A+ without a seen header, but no warning


def test_hsts_sent_over_plain_http_is_a_preload_warning():
    item = finding(grade(scan(http_result=http(hsts_over_http=True))), "hsts.sent_over_http")
    assert item.severity == "low" and not item.warning and item.cap is None


def test_hsts_max_age_over_ten_years_is_a_preload_warning():
    long = HstsPolicy("max-age=630720000; includeSubDomains; preload", 630_720_000, True, True)
    grades = grade(scan(http_result=http(hsts=long)))
    assert ids(grades) == {"hsts.max_age_over_10_years"}
    assert grades.security == "A+"


# --- SEO readiness -------------------------------------------------------------------------------------


def test_no_http_listener_costs_no_seo_points():
    assert grade(scan(http_result=http((), http_listener=False))).seo_score == 100


def test_first_redirect_to_another_http_url_costs_10_seo_points():
    hops = (
        HttpHop(f"http://{HOST}/", 301, f"http://www.{HOST}/"),
        HttpHop(f"http://www.{HOST}/", 301, f"https://www.{HOST}/"),
        HttpHop(f"https://www.{HOST}/", 200),
    )
    grades = grade(scan(http_result=http(hops)))
    assert finding(grades, "http.redirect.first_hop_not_https").seo_penalty == 10
    assert "http.redirect.missing" not in ids(grades)


def test_site_without_https_has_seo_score_0():
    no_https = HttpResult(http_listener=True, chain=(HttpHop(f"http://{HOST}/", 200),), final_url=f"http://{HOST}/")
    grades = grade(scan(tls_result=None, http_result=no_https))
    assert grades.seo_score == 0 and grades.seo_grade == "F"
    assert "seo.no_https" in ids(grades)


def test_failed_scan_has_seo_score_0_and_no_seo_letter():
    grades = grade(scan(tls_result=None, http_result=None, error="connection refused on 192.0.2.1:443"))
    assert grades.seo_score == 0 and grades.seo_grade is None


def test_https_downgrade_is_a_high_finding_with_an_seo_penalty():
    https_walk = (HttpHop(f"https://{HOST}/", 301, f"http://{HOST}/plain"), HttpHop(f"http://{HOST}/plain", 200))
    grades = grade(scan(http_result=http(https_chain=https_walk, https_downgrade=True)))
    downgrade = finding(grades, "http.redirect.https_downgrade")
    assert downgrade.severity == "high" and grades.seo_score == 100 - downgrade.seo_penalty


def test_active_mixed_content_is_high_and_passive_medium():
    items = (
        MixedContentItem("http://cdn.example.net/app.js", "active", "script src"),
        MixedContentItem("http://cdn.example.net/logo.png", "passive", "img src"),
    )
    grades = grade(scan(http_result=http(mixed_content=items, page_fetched=True)))
    assert finding(grades, "content.mixed.active").severity == "high"
    assert finding(grades, "content.mixed.passive").severity == "medium"
    assert grades.seo_score == 100 - 15 - 5


def test_canonical_link_to_http_costs_seo_points():
    grades = grade(scan(http_result=http(canonical_url=f"http://{HOST}/")))
    assert ids(grades) == {"seo.canonical_not_https"} and grades.seo_score == 90


def test_canonical_link_to_another_host_costs_seo_points():
    grades = grade(scan(http_result=http(canonical_url="https://other.example.org/")))
    assert ids(grades) == {"seo.canonical_other_host"}


def test_self_referencing_https_canonical_is_fine():
    assert grade(scan(http_result=http(canonical_url="/"))).findings == ()


# --- endpoints and partial scans -----------------------------------------------------------------------


def test_site_grade_is_the_worst_endpoint_and_names_the_address():
    legacy = tls(protocols=("TLSv1.0", "TLSv1.2", "TLSv1.3"))
    endpoints = (EndpointResult("192.0.2.1", tls()), EndpointResult("192.0.2.2", legacy))
    grades = grade(scan(endpoints=endpoints))
    assert grades.security == "B"
    assert "192.0.2.2 grades B" in finding(grades, "endpoint.grade_differs").detail
    assert finding(grades, "tls.protocol.tls1_0").detail.startswith("On 192.0.2.2:")


def test_unreachable_endpoint_is_named_and_does_not_hide_the_others():
    endpoints = (EndpointResult("192.0.2.1", tls()), EndpointResult("2001:db8::1", error="connection refused"))
    grades = grade(scan(endpoints=endpoints))
    assert grades.security == "A+"
    assert "2001:db8::1" in finding(grades, "endpoint.unreachable").detail


def test_partial_scan_is_graded_with_a_finding_per_probe_not_tested():
    probes = {"robot": ProbeOutcome("not_tested", "the server stalled"), "heartbleed": ProbeOutcome("ok")}
    grades = grade(scan(tls(vulnerabilities=vulnerabilities(robot=None), probes=probes)))
    assert grades.security == "A+"
    not_tested = [item for item in grades.findings if item.id == "scan.probe_not_tested"]
    assert [item.detail.split(":")[0] for item in not_tested] == ["robot"]


# --- rows added for the engine's data by the engine helper ---------------------------------------------


def test_certificates_sent_out_of_order_are_information_only():
    grades = grade(with_cert(chain_order_wrong=True))
    assert finding(grades, "cert.chain_order_wrong").severity == "info"
    assert grades.security == "A+"


def test_client_certificate_request_is_information_only():
    grades = grade(scan(tls(client_certificate_requested=True)))
    assert ids(grades) == {"tls.client_certificate_requested"} and grades.security == "A+"
