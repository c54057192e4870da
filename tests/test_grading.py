"""Specification of scanner.grading: one behaviour per test, each starting from a perfect site and breaking one thing."""

from __future__ import annotations

from datetime import timedelta

from scanner.grading.scoring import ssl_labs_score
from tests.grading_factories import (
    HOST,
    NOW,
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

# --- the perfect baseline ------------------------------------------------------------------------------


def test_perfect_site_gets_a_plus_and_full_seo_score():
    grades = grade(scan())
    assert grades.security == "A+"
    assert grades.security_ignoring_trust == "A+"
    assert grades.seo_score == 100 and grades.seo_grade == "A"
    assert grades.findings == ()


def test_score_follows_ssl_labs_weights():
    # protocol 100, key EC-256 -> 100 (testssl's EC table), ciphers (128-bit 80 + 256-bit 100) / 2 = 90
    assert ssl_labs_score(tls()) == round(0.3 * 100 + 0.3 * 100 + 0.4 * 90)


# --- certificate ---------------------------------------------------------------------------------------


def test_expired_certificate_gives_t_but_configuration_grade_is_kept():
    grades = grade(with_cert(expired=True, trusted=False, days_to_expiry=-3, not_after=NOW - timedelta(days=3)))
    assert grades.security == "T"
    assert grades.security_ignoring_trust == "A+"
    assert {"cert.expired", "hsts.ignored_untrusted"} <= ids(grades)
    assert "cert.untrusted" not in ids(grades)  # the expiry already explains the distrust


def test_hostname_mismatch_gives_m_even_when_also_expired():
    grades = grade(with_cert(expired=True, trusted=False, hostname_match=False, days_to_expiry=-1))
    assert grades.security == "M"


def test_untrusted_certificate_explains_the_validator_reason():
    grades = grade(with_cert(trusted=False, validation_error="unable to get local issuer certificate"))
    assert grades.security == "T"
    assert "unable to get local issuer certificate" in finding(grades, "cert.untrusted").detail


def test_incomplete_chain_caps_at_b():
    assert grade(with_cert(chain_incomplete=True)).security == "B"


def test_certificate_expiring_within_two_weeks_is_a_high_finding():
    expiring = finding(grade(with_cert(days_to_expiry=10)), "cert.expiring_very_soon")
    assert expiring.severity == "high" and expiring.cap is None and not expiring.warning


def test_rsa_1024_key_caps_at_b_and_512_at_f():
    assert grade(with_cert(key_type="RSA", key_bits=1024)).security == "B"
    assert grade(with_cert(key_type="RSA", key_bits=512)).security == "F"


def test_sha1_signed_leaf_is_untrusted():
    grades = grade(with_cert(signature_hash="sha1", signature_algorithm="sha1WithRSAEncryption"))
    assert grades.security == "T"


# --- protocols and ciphers -----------------------------------------------------------------------------


def test_tls_1_0_caps_at_b():
    grades = grade(scan(tls(protocols=("TLSv1.0", "TLSv1.2", "TLSv1.3"))))
    assert grades.security == "B"
    assert "tls.protocol.tls1_0" in ids(grades)


def test_sslv2_gives_f():
    assert grade(scan(tls(protocols=("SSLv2", "TLSv1.2", "TLSv1.3")))).security == "F"


def test_missing_tls_1_3_is_a_warning_giving_a_minus():
    grades = grade(scan(tls(protocols=("TLSv1.2",))))
    assert grades.security == "A-"
    assert finding(grades, "tls.protocol.no_tls1_3").warning


def test_tls_1_3_only_server_is_not_penalised_for_lacking_tls_1_2():
    grades = grade(scan(tls(protocols=("TLSv1.3",), suites=PERFECT_SUITES[:3])))
    assert "tls.protocol.no_tls1_2" not in ids(grades)
    assert grades.security == "A+"


def test_3des_with_tls_1_2_caps_at_c():
    weak = suite(
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA", key_bits=168, forward_secrecy=False, aead=False, kex_bits=None, kex_type=None
    )
    grades = grade(scan(tls(suites=PERFECT_SUITES + (weak,))))
    assert grades.security == "C"
    assert {"tls.cipher.sweet32", "tls.cipher.no_forward_secrecy"} <= ids(grades)


def test_weak_dh_group_caps_at_b():
    dhe = suite("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", kex_bits=1024, kex_type="DH")
    grades = grade(scan(tls(suites=PERFECT_SUITES + (dhe,))))
    assert grades.security == "B"
    assert "1024-bit" in finding(grades, "tls.kex.weak_group").detail


# --- vulnerabilities -----------------------------------------------------------------------------------


def test_heartbleed_gives_f():
    grades = grade(scan(tls(vulnerabilities=vulnerabilities(heartbleed=True))))
    assert grades.security == "F"
    assert grades.security_ignoring_trust == "F"


def test_untested_vulnerability_is_not_a_finding():
    grades = grade(scan(tls(vulnerabilities=vulnerabilities(heartbleed=None, robot=None))))
    assert grades.security == "A+"


def test_mozilla_issues_are_listed_without_capping():
    grades = grade(scan(tls(mozilla_intermediate_issues={"ciphers": "remove AES256-SHA"})))
    moz = finding(grades, "tls.mozilla.intermediate")
    assert "AES256-SHA" in moz.detail and moz.cap is None
    assert grades.security == "A+"


# --- partial or failed scans ---------------------------------------------------------------------------


def test_incomplete_tls_scan_is_never_graded_but_keeps_its_findings():
    grades = grade(scan(tls(protocols=("SSLv3", "TLSv1.2"), incomplete_reason="cipher probe timed out")))
    assert grades.security is None and grades.score is None and grades.security_ignoring_trust is None
    assert "tls.protocol.sslv3" in ids(grades)
    # absence-based conclusions are not drawn from partial data
    assert "tls.protocol.no_tls1_3" not in ids(grades)


def test_failed_scan_without_data_has_no_security_grade_and_no_seo_letter():
    grades = grade(scan(tls_result=None, http_result=None, error="DNS name does not resolve"))
    assert grades.security is None and grades.seo_grade is None


# --- HTTP redirects and SEO ----------------------------------------------------------------------------


def test_temporary_redirect_lowers_seo_score():
    hops = (HttpHop(f"http://{HOST}/", 302, f"https://{HOST}/"), HttpHop(f"https://{HOST}/", 200))
    grades = grade(scan(http_result=http(hops)))
    assert "http.redirect.temporary" in ids(grades)
    assert grades.seo_score == 90
    assert grades.security == "A+"  # SEO problems do not touch the security grade


def test_http_without_redirect_is_reported_as_missing():
    grades = grade(scan(http_result=http((HttpHop(f"http://{HOST}/", 200),))))
    assert ids(grades) == {"http.redirect.missing"}
    assert grades.seo_score == 70 and grades.seo_grade == "C"


def test_closed_port_80_is_information_only():
    grades = grade(scan(http_result=http((), http_listener=False)))
    assert ids(grades) == {"http.no_listener"}
    assert grades.seo_score == 100 and grades.security == "A+"


def test_first_redirect_to_another_host_is_off_host():
    hops = (
        HttpHop(f"http://{HOST}/", 301, f"https://www.{HOST}/"),
        HttpHop(f"https://www.{HOST}/", 200),
    )
    assert ids(grade(scan(http_result=http(hops)))) == {"http.redirect.off_host"}


def test_long_chain_and_downgrade_are_reported():
    hops = (
        HttpHop(f"http://{HOST}/", 301, f"https://{HOST}/"),
        HttpHop(f"https://{HOST}/", 301, f"http://{HOST}/a"),
        HttpHop(f"http://{HOST}/a", 301, f"https://{HOST}/b"),
        HttpHop(f"https://{HOST}/b", 301, f"https://{HOST}/c"),
        HttpHop(f"https://{HOST}/c", 200),
    )
    assert {"http.redirect.too_many", "http.redirect.https_downgrade"} <= ids(grade(scan(http_result=http(hops))))


def test_redirect_walk_error_is_unreachable():
    grades = grade(scan(http_result=http((), http_listener=False, error="timed out")))
    assert ids(grades) == {"http.unreachable"}


# --- HSTS ----------------------------------------------------------------------------------------------


def test_missing_hsts_is_a_warning_giving_a_minus():
    grades = grade(scan(http_result=http(hsts=None)))
    assert grades.security == "A-"
    assert "hsts.missing" in ids(grades) and grades.seo_score == 90


def test_short_hsts_max_age_shows_the_value():
    grades = grade(scan(http_result=http(hsts=HstsPolicy("max-age=86400", 86400, False, False))))
    assert grades.security == "A-"
    assert "max-age=86400 (1 day)" in finding(grades, "hsts.short_max_age").detail
    assert {"hsts.no_include_subdomains", "hsts.not_preload_ready"} <= ids(grades)


def test_unparsable_hsts_is_invalid():
    grades = grade(scan(http_result=http(hsts=HstsPolicy("max-age=soon", None, False, False))))
    assert ids(grades) == {"hsts.invalid"}
    assert grades.security == "A-"


def test_hsts_between_six_months_and_a_year_gives_a_plus_but_not_preload_ready():
    hsts = HstsPolicy("max-age=15552000; includeSubDomains; preload", 15552000, True, True)
    grades = grade(scan(http_result=http(hsts=hsts)))
    assert grades.security == "A+"
    assert ids(grades) == {"hsts.not_preload_ready"}


# --- findings as a whole -------------------------------------------------------------------------------


def test_every_finding_explains_how_to_fix_it():
    broken = scan(
        tls(
            protocols=("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"),
            suites=(suite("TLS_RSA_EXPORT_WITH_RC4_40_MD5", "SSLv3", 40, False, False, None, None),),
            certificate=certificate(
                expired=True,
                self_signed=True,
                trusted=False,
                hostname_match=False,
                chain_incomplete=True,
                key_type="RSA",
                key_bits=512,
                signature_hash="md5",
                ocsp_stapled=False,
                days_to_expiry=-5,
            ),
            vulnerabilities=vulnerabilities(
                heartbleed=True,
                robot=True,
                ccs_injection=True,
                insecure_renegotiation=True,
                compression=True,
                client_renegotiation_dos=True,
            ),
            mozilla_intermediate_issues={"tls_versions": "drop SSLv3"},
        ),
        http(
            (HttpHop(f"http://{HOST}/", 302, f"http://{HOST}/"),),
            loop=True,
            hsts=HstsPolicy("max-age=60", 60, False, False),
        ),
    )
    grades = grade(broken)
    assert len(grades.findings) > 20
    for item in grades.findings:
        assert item.title and item.detail and item.remediation, item.id
    # MD5 signature and a 512-bit key: the certificate itself is breakable, so F shows despite M and T.
    assert grades.security == "F" and grades.security_ignoring_trust == "F"
    assert grades.seo_score == 0 and grades.seo_grade == "F"


def test_grades_serialise_to_plain_dicts():
    data = grade(with_cert(chain_incomplete=True)).to_dict()
    assert data["security"] == "B"
    assert data["findings"][0]["id"] == "cert.chain_incomplete"
    assert data["caps"] == [{"finding_id": "cert.chain_incomplete", "cap": "B", "title": data["findings"][0]["title"]}]
