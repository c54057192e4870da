"""The HTTP side's trust corrections (issue 21 item 5), on the lab: a redirect hop's certificate is verified,
and CSP upgrade-insecure-requests turns passive mixed content into information."""

from __future__ import annotations

from scanner.engine.http.http_trust import upgrades_insecure_requests
from scanner.grading import grade
from tests.test_grades_lab import LAB_FULL_SEO


def ids(result) -> set[str]:
    return {item.id for item in grade(result).findings}


def test_a_redirect_hop_with_an_expired_certificate_is_a_finding(scan_case):
    result = scan_case("hopbadcert")
    hop = next(hop for hop in result.http.chain if hop.url.startswith("https://expired."))
    assert "certificate" in hop.certificate_error.lower()
    assert "http.redirect.hop_certificate_invalid" in ids(result)


def test_a_redirect_hop_with_a_valid_certificate_is_not_a_finding(scan_case):
    result = scan_case("offhost")
    assert all(hop.certificate_error is None for hop in result.http.chain)
    assert "http.redirect.hop_certificate_invalid" not in ids(result)


def test_upgrade_insecure_requests_makes_passive_mixed_content_information(scan_case):
    result = scan_case("mixedupgraded")
    assert result.http.upgrade_insecure_requests
    found = ids(result)
    assert "content.mixed.passive_upgraded" in found
    assert "content.mixed.passive" not in found
    assert grade(result).seo_score == LAB_FULL_SEO  # no SEO cost for the upgraded resources


def test_passive_mixed_content_without_the_directive_still_costs_seo_points(scan_case):
    assert "content.mixed.passive" in ids(scan_case("mixedpassive"))


def test_the_directive_is_found_among_others_in_any_case():
    assert upgrades_insecure_requests(["default-src 'self'; Upgrade-Insecure-Requests; img-src *"])
    assert not upgrades_insecure_requests(["default-src 'self'", "block-all-mixed-content"])


def test_hop_and_upgrade_cases_keep_their_security_grade(scan_case):
    assert grade(scan_case("hopbadcert")).security == "A+"
    assert grade(scan_case("mixedupgraded")).security == "A+"
