"""The HTTP side through the real engine against the lab: both walks, HSTS, mixed content, hostile servers."""

from __future__ import annotations

import dataclasses
import signal
import time

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from scanner.engine.http.redirects import MAX_STORED_URL, probe_http
from scanner.grading import grade
from scanner.report import build_report
from tests.conftest import LAB_SCAN_SETTINGS


def test_the_https_walk_of_a_good_site_is_one_page_read_for_content(scan_case):
    http = scan_case("good").http
    assert [(hop.url, hop.status) for hop in http.https_chain] == [("https://good.lab.test/", 200)]
    assert (http.https_downgrade, http.page_fetched, http.mixed_content, http.https_error) == (False, True, (), None)


def test_an_https_response_redirecting_to_http_is_a_downgrade(scan_case):
    http = scan_case("downgrade").http
    assert http.https_downgrade
    assert (http.https_chain[0].status, http.https_chain[0].location) == (301, "http://downgrade.lab.test/plain")


def test_a_site_without_downgrade_is_not_flagged(scan_case):
    assert not scan_case("redirect302").http.https_downgrade


def test_hsts_is_read_from_the_first_https_response(scan_case):
    http = scan_case("hstsonredirect").http
    assert [hop.status for hop in http.https_chain] == [301, 200]
    assert http.hsts is not None and http.hsts.max_age == 31536000


def test_active_mixed_content_is_listed_with_its_elements(scan_case):
    items = scan_case("mixedactive").http.mixed_content
    assert {(item.kind, item.element, item.url) for item in items} == {
        ("active", "script src", "http://cdn.lab.test/app.js"),
        ("active", "link rel=stylesheet href", "http://cdn.lab.test/site.css"),
        ("active", "iframe src", "http://widgets.lab.test/frame"),
        ("active", "form action", "http://forms.lab.test/submit"),
    }


def test_passive_mixed_content_is_listed_and_links_are_not(scan_case):
    items = scan_case("mixedpassive").http.mixed_content
    assert {item.kind for item in items} == {"passive"}
    assert {item.url for item in items} == {
        "http://cdn.lab.test/logo.png",
        "http://cdn.lab.test/poster.jpg",
        "http://cdn.lab.test/clip.mp4",
        "http://cdn.lab.test/big.png",
    }


def test_a_canonical_link_to_http_is_read(scan_case):
    http = scan_case("canonicalhttp").http
    assert (http.canonical_url, http.page_fetched) == ("http://canonicalhttp.lab.test/", True)


def test_hsts_sent_over_plain_http_is_noticed(scan_case):
    assert scan_case("hstsoverhttp").http.hsts_over_http
    assert not scan_case("good").http.hsts_over_http


def test_a_unicode_digit_in_hsts_max_age_makes_it_invalid_and_the_scan_finishes(scan_case):
    result = scan_case("unicodehsts")
    assert result.status == "done"
    assert (result.http.hsts.raw, result.http.hsts.max_age) == ("max-age=²", None)


def test_a_dripping_port_80_ends_the_http_walk_at_its_deadline_and_the_scan_finishes(scan_case):
    result = scan_case("driphttp")
    assert result.status == "done" and result.tls is not None
    assert "deadline" in result.http.error and "driphttp.lab.test" in result.http.error
    assert result.http.hsts is not None  # the HTTPS side still had its share of the budget


def test_a_dripping_https_server_gives_could_not_fetch_not_an_invalid_header(scan_case):
    http = scan_case("driphttps").http
    assert http.hsts is None
    assert http.hsts_error.startswith("could not fetch https://driphttps.lab.test/")
    assert "deadline" in http.hsts_error


def test_the_http_side_of_a_dripping_server_stays_within_its_deadline(lab, lab_policy):
    case = lab.case("driphttps")
    settings = dataclasses.replace(LAB_SCAN_SETTINGS, http_deadline=2)
    started = time.monotonic()
    http = probe_http(case.hostname, case.https_port, case.http_port, lab_policy, settings)
    assert time.monotonic() - started < settings.http_deadline + 1.0
    assert "2 s deadline" in http.https_error


def test_a_60kb_location_is_stored_once_and_cut(scan_case):
    http = scan_case("longlocation").http
    [hop] = http.chain
    assert hop.status == 302 and len(hop.location) == MAX_STORED_URL + 1 and hop.location.endswith("…")
    assert "characters long; not followed" in http.error
    assert len(repr(http)) < 3 * MAX_STORED_URL + 2000  # the 60 KB target appears once, cut, nowhere else


def test_a_first_hop_that_is_not_http_is_a_bad_response_not_no_listener(scan_case):
    http = scan_case("garbagehttp").http
    assert http.http_listener
    assert "bad response" in http.error


def test_a_1_gib_https_page_is_read_only_up_to_the_page_cap(scan_case):
    result = scan_case("hugepage")
    assert result.status == "done"
    assert result.http.page_fetched and result.http.https_error is None


def test_the_report_carries_the_https_walk_and_content(scan_case):
    result = scan_case("mixedactive")
    report = build_report(result, grade(result))
    assert report["redirects"]["https_chain"] == [
        {"url": "https://mixedactive.lab.test/", "status": 200, "location": None}
    ]
    assert report["content"]["page_fetched"] is True
    assert {"url": "http://cdn.lab.test/app.js", "kind": "active", "element": "script src"} in report["content"][
        "mixed_content"
    ]
    assert report["hsts"]["over_http"] is False


def test_the_report_says_why_hsts_could_not_be_read(scan_case):
    result = scan_case("driphttps")
    report = build_report(result, grade(result))
    assert report["hsts"]["present"] is False
    assert report["hsts"]["error"].startswith("could not fetch")


def test_a_soft_time_limit_during_a_dripping_read_propagates_out_of_the_probe(lab, lab_policy):
    # Celery's soft limit is a signal whose handler raises SoftTimeLimitExceeded (an Exception subclass) in
    # the middle of whatever runs: here, a socket read from a dripping server. The probe must not swallow it.
    def soft_limit(signum, frame):
        raise SoftTimeLimitExceeded()

    case = lab.case("driphttp")
    settings = dataclasses.replace(LAB_SCAN_SETTINGS, http_deadline=20)
    previous = signal.signal(signal.SIGALRM, soft_limit)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    started = time.monotonic()
    try:
        with pytest.raises(SoftTimeLimitExceeded):
            probe_http(case.hostname, case.https_port, case.http_port, lab_policy, settings)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 3


def test_a_soft_time_limit_raised_while_resolving_propagates_out_of_the_probe():
    def resolver(host: str) -> str:
        raise SoftTimeLimitExceeded()

    with pytest.raises(SoftTimeLimitExceeded):
        probe_http("example.test", 443, 80, resolver, LAB_SCAN_SETTINGS)


# --- graded (the rules themselves live in scanner/grading: these check the engine feeds them) ---------------


def findings_by_id(result):
    return {finding.id: finding for finding in grade(result).findings}


def test_an_https_to_http_redirect_is_graded_as_a_high_https_downgrade(scan_case):
    finding = findings_by_id(scan_case("downgrade"))["http.redirect.https_downgrade"]
    assert finding.severity == "high"
    assert "http://downgrade.lab.test/plain" in finding.detail


def test_active_mixed_content_is_a_high_finding_naming_the_urls(scan_case):
    found = findings_by_id(scan_case("mixedactive"))
    assert found["content.mixed.active"].severity == "high"
    assert "http://cdn.lab.test/app.js" in found["content.mixed.active"].detail
    assert "content.mixed.passive" not in found


def test_passive_mixed_content_is_a_medium_finding(scan_case):
    found = findings_by_id(scan_case("mixedpassive"))
    assert found["content.mixed.passive"].severity == "medium"
    assert "content.mixed.active" not in found


def test_a_canonical_link_to_http_is_an_seo_finding(scan_case):
    assert "seo.canonical_not_https" in findings_by_id(scan_case("canonicalhttp"))


def test_a_failed_hsts_fetch_is_not_graded_as_an_invalid_header(scan_case):
    found = findings_by_id(scan_case("driphttps"))
    assert "hsts.invalid" not in found and "hsts.missing" not in found


def test_a_unicode_digit_hsts_max_age_is_graded_as_an_invalid_header(scan_case):
    assert "hsts.invalid" in findings_by_id(scan_case("unicodehsts"))


def test_a_canonical_link_to_another_host_is_an_seo_finding(scan_case):
    result = scan_case("canonicalother")
    assert result.http.canonical_url == "https://good.lab.test/"
    assert "seo.canonical_other_host" in findings_by_id(result)


def test_a_clean_site_has_no_http_side_findings(scan_case):
    found = findings_by_id(scan_case("good"))
    assert not {"http.redirect.https_downgrade", "content.mixed.active", "content.mixed.passive"} & set(found)
