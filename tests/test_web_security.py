"""The web security score's parts (issue 23): the parsers on strings, Observatory's scoring rules on hand-built
facts, and two cases on the lab's own servers. Observatory's published modifiers:
https://github.com/mozilla/http-observatory/blob/main/httpobs/docs/scoring.md and
https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from scanner.engine.http.headers import parse_csp, parse_set_cookie, robots_disallows_all, security_txt_fields
from scanner.engine.web_results import WebFacts
from scanner.grading import grade
from scanner.grading.websecurity import MODIFIERS, grade_for, total, web_security
from scanner.grading.websecurity_tests import content_security_policy
from tests.grading_factories import http, scan

PAGE = "https://example.test/"


def facts(**changes) -> WebFacts:
    return replace(WebFacts(page_url=PAGE, page_status=200, page_is_html=True, headers={}), **changes)


def csp_result(policy: str) -> tuple[str, int]:
    outcome = content_security_policy(scan(), facts(csp=parse_csp(policy)))
    return outcome.result, MODIFIERS[outcome.result].points


# --- parsers -------------------------------------------------------------------------------------------------


def test_csp_directives_are_lower_cased_and_a_repeated_directive_is_ignored():
    (policy,) = parse_csp("Default-Src 'SELF'; script-src https://a.test; script-src *")
    assert policy.directives == {"default-src": ("'self'",), "script-src": ("https://a.test",)}
    assert policy.duplicates == ("script-src",)


def test_a_comma_separates_two_policies():
    assert [p.directives for p in parse_csp("default-src 'none', script-src 'self'")] == [
        {"default-src": ("'none'",)},
        {"script-src": ("'self'",)},
    ]


def test_a_directive_name_that_is_not_a_token_makes_the_policy_invalid():
    assert parse_csp("default-src 'self'; scr!pt-src *")[0].invalid_reason


def test_set_cookie_attributes_are_read_case_insensitively():
    cookie = parse_set_cookie("SID=1; secure; HTTPONLY; SameSite=Lax; Path=/; Domain=example.test", PAGE)
    assert (cookie.name, cookie.secure, cookie.http_only, cookie.same_site, cookie.path, cookie.domain) == (
        "SID",
        True,
        True,
        "Lax",
        "/",
        "example.test",
    )


def test_set_cookie_without_a_name_value_pair_is_ignored():
    assert parse_set_cookie("Secure; HttpOnly", PAGE) is None


@pytest.mark.parametrize(
    ("robots", "blocked"),
    [
        ("User-agent: *\nDisallow: /\n", True),
        ("User-agent: *\nDisallow: /\nAllow: /public/\n", False),
        ("User-agent: badbot\nDisallow: /\n\nUser-agent: *\nDisallow: /tmp/\n", False),
        ("User-agent: googlebot\nUser-agent: *\nDisallow: /\n", True),
        ("User-agent: *\nDisallow:\n", False),
        ("", False),
    ],
)
def test_robots_disallow_all_reads_only_the_star_group(robots, blocked):
    assert robots_disallows_all(robots) is blocked


def test_security_txt_contact_and_expires_are_read_and_comments_skipped():
    text = (
        "# hello\nContact: mailto:a@example.test\nContact: https://example.test/report\nExpires: 2030-01-01T00:00:00Z\n"
    )
    assert security_txt_fields(text) == (
        ("mailto:a@example.test", "https://example.test/report"),
        "2030-01-01T00:00:00Z",
    )


# --- Observatory's CSP results ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("default-src 'none'", ("csp-implemented-with-no-unsafe-default-src-none", 10)),
        ("default-src 'self'", ("csp-implemented-with-no-unsafe", 5)),
        ("default-src 'self'; script-src 'self' 'unsafe-inline'", ("csp-implemented-with-unsafe-inline", -20)),
        ("default-src 'self'; script-src 'nonce-abc' 'unsafe-inline'", ("csp-implemented-with-no-unsafe", 5)),
        ("script-src 'self'", ("csp-implemented-with-unsafe-inline", -20)),  # object-src unset: plugins from anywhere
        ("default-src 'self'; script-src 'self' 'unsafe-eval'", ("csp-implemented-with-unsafe-eval", -10)),
        ("default-src 'self' http://cdn.test", ("csp-implemented-with-insecure-scheme", -20)),
        (
            "default-src 'self'; img-src http://img.test",
            ("csp-implemented-with-insecure-scheme-in-passive-content-only", -10),
        ),
        (
            "default-src 'self'; style-src 'self' 'unsafe-inline'",
            ("csp-implemented-with-unsafe-inline-in-style-src-only", 0),
        ),
        ("default-src 'self'; script-src 'strict-dynamic'", ("csp-header-invalid", -25)),
    ],
)
def test_csp_gets_observatorys_result(policy, expected):
    assert csp_result(policy) == expected


def test_report_only_csp_scores_like_no_csp():
    outcome = content_security_policy(scan(), facts(csp_report_only=parse_csp("default-src 'none'", report_only=True)))
    assert outcome.result == "csp-not-implemented-but-reporting-enabled"


# --- the score and the letter ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "letter"),
    [
        (135, "A+"),
        (100, "A+"),
        (99, "A"),
        (90, "A"),
        (89, "A-"),
        (84, "B+"),
        (79, "B"),
        (69, "B-"),
        (64, "C+"),
        (59, "C"),
        (49, "C-"),
        (44, "D+"),
        (39, "D"),
        (29, "D-"),
        (24, "F"),
        (0, "F"),
    ],
)
def test_letter_follows_observatorys_chart_after_rounding_down_to_five(score, letter):
    assert grade_for(score) == letter


def test_bonuses_count_only_from_90_without_them():
    assert total([-10, 5, 10]) == 105  # 90 without bonuses: they count
    assert total([-15, 5, 10]) == 85  # 85: they do not


def test_the_score_never_goes_below_zero():
    assert total([-50, -50, -25]) == 0


def test_a_result_without_web_facts_has_no_web_score():
    assert web_security(scan()) is None
    assert grade(scan()).web_security is None


def test_web_findings_do_not_change_the_tls_grade_of_a_perfect_site():
    result = scan(http_result=http(web=facts()))
    grades = grade(result)
    assert grades.security == "A+"
    assert grades.web_security.score == 100 - 25 - 5 - 20  # no CSP, no nosniff, no XFO; HSTS 2 years: 0
    assert {"headers.csp.missing", "headers.x_frame_options.missing"} <= {f.id for f in grades.findings}


# --- the lab's own servers -------------------------------------------------------------------------------------


def test_report_only_csp_and_anticsrf_cookie_without_samesite_score_30_d(scan_case):
    """CSP only as Report-Only -25, csrftoken without SameSite (anti-CSRF) -20, CORS 0, redirection 0,
    Referrer-Policy none 0, HSTS two years 0, SRI no scripts 0, X-Content-Type-Options missing -5,
    X-Frame-Options missing -20, CORP none 0: 100 - 25 - 20 - 5 - 20 = 30 -> D."""
    web = grade(scan_case("cspreportonly")).web_security
    assert (web.score, web.grade) == (30, "D")
    assert {m.test: m.result for m in web.modifiers}["cookies"] == "cookies-anticsrf-without-samesite-flag"


def test_http_script_from_another_site_without_sri_scores_0_f(scan_case):
    """CSP missing -25, SRI: external script over http without integrity -50, X-Content-Type-Options -5,
    X-Frame-Options -20, everything else 0: 100 - 25 - 50 - 5 - 20 = 0 -> F."""
    grades = grade(scan_case("twocanonicals"))
    assert (grades.web_security.score, grades.web_security.grade) == (0, "F")
    assert "web.sri.insecure_script" in {f.id for f in grades.findings}


def test_two_different_canonical_links_are_an_seo_finding(scan_case):
    assert "seo.canonical_multiple" in {f.id for f in grade(scan_case("twocanonicals")).findings}
