"""End to end: real sslyze scans of the lab, graded. Each case's defect must drive its grade."""

import pytest

from scanner.grading import grade
from scanner.grading.policy import POLICY
from scanner.report import build_report

# The lab's Python servers speak HTTP/1.1 only (no ALPN h2): that one SEO extra (issue 23) costs every lab site
# these points; tests/test_web_posture_nginx.py has a real nginx with h2 at a full 100.
LAB_FULL_SEO = 100 - POLICY["seo.no_http2"].seo_penalty


def finding_ids(scan_case, name):
    return {finding.id for finding in grade(scan_case(name)).findings}


def test_well_configured_site_gets_a_plus(scan_case):
    assert grade(scan_case("good")).security == "A+"


def test_well_configured_site_has_full_seo_score(scan_case):
    assert grade(scan_case("good")).seo_score == LAB_FULL_SEO


@pytest.mark.parametrize(
    ("case", "security", "finding"),
    [
        ("expired", "T", "cert.expired"),
        ("notyetvalid", "T", "cert.not_yet_valid"),
        ("selfsigned", "T", "cert.self_signed"),
        ("wronghost", "M", "cert.hostname_mismatch"),
        ("nointermediate", "B", "cert.chain_incomplete"),
        ("legacy", "B", "tls.protocol.tls1_0"),
        ("weakciphers", "B", "tls.cipher.no_forward_secrecy"),
        ("nohsts", "A-", "hsts.missing"),
        ("shorthsts", "A-", "hsts.short_max_age"),
        # An expiring certificate is a finding and an alert, not a rating rule (issue 11: no longer A-).
        ("expiring", "A+", "cert.expiring_very_soon"),
    ],
)
def test_security_defect_sets_grade_and_is_itemised(scan_case, case, security, finding):
    grades = grade(scan_case(case))
    assert grades.security == security
    assert finding in {f.id for f in grades.findings}


def test_trust_failure_still_reports_the_grade_ignoring_trust(scan_case):
    assert grade(scan_case("expired")).security_ignoring_trust == "A+"


@pytest.mark.parametrize(
    ("case", "finding"),
    [
        ("redirect302", "http.redirect.temporary"),
        ("longchain", "http.redirect.too_many"),
        ("loop", "http.redirect.loop"),
        ("offhost", "http.redirect.off_host"),
        ("downgrade", "http.redirect.https_downgrade"),
    ],
)
def test_redirect_problem_is_itemised_and_costs_seo_points(scan_case, case, finding):
    grades = grade(scan_case(case))
    assert finding in {f.id for f in grades.findings}
    assert grades.seo_score < 100


@pytest.mark.parametrize("case", ["tarpit", "closed"])
def test_unreachable_site_gets_no_security_grade(scan_case, case):
    assert grade(scan_case(case)).security is None


def test_every_lab_finding_says_how_to_fix_it(scan_case, lab):
    for case in lab.cases:
        for finding in grade(scan_case(case.name)).findings:
            assert finding.remediation.strip(), finding.id


def test_closed_port_80_is_itemised_without_seo_cost(scan_case):
    # Observatory, internet.nl and hstspreload all accept a site with no HTTP listener.
    grades = grade(scan_case("nohttp"))
    assert "http.no_listener" in {f.id for f in grades.findings}
    assert grades.seo_score == LAB_FULL_SEO


def test_tls_1_2_server_preferring_ecdhe_but_accepting_static_rsa_is_a_minus(scan_case):
    # Issue 11 "done when": modern simulated clients all get ECDHE, so the accepted static-RSA suite costs no cap;
    # the A- is the missing TLS 1.3 warning.
    grades = grade(scan_case("ecdhepref"))
    assert grades.security == "A-"
    assert "tls.cipher.non_fs_accepted" in {f.id for f in grades.findings}


def test_tls_1_3_only_server_gets_a_plus(scan_case):
    assert grade(scan_case("tls13only")).security == "A+"


def test_missing_hsts_with_port_80_closed_is_still_a_minus(scan_case):
    grades = grade(scan_case("nohstsnohttp"))
    assert grades.security == "A-"
    assert {"hsts.missing", "http.no_listener"} <= {f.id for f in grades.findings}


def test_site_with_nothing_listening_has_seo_0_and_no_seo_letter(scan_case):
    grades = grade(scan_case("closed"))
    assert grades.seo_score == 0 and grades.seo_grade is None


# --- the HTTP side (data from the `http` helper's probe) ---


def finding_costs(scan_case, case):
    grades = grade(scan_case(case))
    return grades, {f.id: f for f in grades.findings}


@pytest.mark.parametrize(
    ("case", "finding", "absent"),
    [
        ("mixedactive", "content.mixed.active", None),
        ("mixedpassive", "content.mixed.passive", "content.mixed.active"),
        ("canonicalhttp", "seo.canonical_not_https", None),
    ],
)
def test_page_problem_costs_seo_points_but_not_the_security_grade(scan_case, case, finding, absent):
    grades, found = finding_costs(scan_case, case)
    assert finding in found and absent not in found
    assert grades.seo_score == LAB_FULL_SEO - found[finding].seo_penalty
    assert grades.security == "A+"


def test_hsts_sent_over_plain_http_is_reported_without_grade_effect(scan_case):
    grades, found = finding_costs(scan_case, "hstsoverhttp")
    assert "hsts.sent_over_http" in found
    assert grades.security == "A+" and grades.seo_score == LAB_FULL_SEO


def test_https_page_that_cannot_be_fetched_is_could_not_fetch_not_missing_hsts(scan_case):
    grades, found = finding_costs(scan_case, "driphttps")
    assert "hsts.not_checked" in found
    assert not {"hsts.missing", "hsts.invalid"} & set(found)
    assert grades.security == "A"  # no A+ without a header seen, but no HSTS warning either


def test_report_json_of_a_capped_lab_site_lists_its_caps_and_warnings(scan_case):
    result = scan_case("legacy")
    summary = build_report(result, grade(result))["grade"]
    assert {"finding_id": "tls.protocol.tls1_0", "cap": "B"} in [
        {key: cap[key] for key in ("finding_id", "cap")} for cap in summary["caps"]
    ]
    assert "tls.protocol.no_tls1_3" in {warning["finding_id"] for warning in summary["warnings"]}
