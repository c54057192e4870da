"""The web security score, HTTP/2 and the SEO extras (issue 23) on real nginx (Debian's package; bin/test installs
it). Every expected score is computed by hand in the test's docstring from Mozilla HTTP Observatory's published
modifiers (https://github.com/mozilla/http-observatory/blob/main/httpobs/docs/scoring.md and the current MDN
Observatory, https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring): start at 100, add every
modifier, bonuses only when the score without them is at least 90; letter from the chart (100+ A+, 90 A, 85 A-,
80 B+, 70 B, 65 B-, 60 C+, 50 C, 45 C-, 40 D+, 30 D, 25 D-, below F).
"""

from __future__ import annotations

import functools
import os

import pytest

from scanner.engine import scan
from scanner.grading import grade
from scanner.report import build_report
from scanner.targets import parse_target
from tests.conftest import LAB_SCAN_SETTINGS
from tests.nginx_sites import NGINX, NginxSite, NginxSites

pytestmark = pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason="nginx is not installed (bin/test installs it)")

HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload")
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
EVERY_HEADER = (
    HSTS,
    ("Content-Security-Policy", STRICT_CSP),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Permissions-Policy", "camera=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Cross-Origin-Embedder-Policy", "require-corp"),
    ("Set-Cookie", "__Host-sid=abc; Secure; HttpOnly; SameSite=Strict; Path=/"),
)
SECURITY_TXT = "Contact: mailto:security@example.org\nExpires: 2099-12-31T23:59:59Z\n"
GOOD_FILES = {
    "/.well-known/security.txt": ("text/plain", SECURITY_TXT),
    "/robots.txt": ("text/plain", "User-agent: *\nDisallow: /private/\n"),
}


def _with(headers: tuple[tuple[str, str], ...], **replaced: str) -> tuple[tuple[str, str], ...]:
    names = {name.lower().replace("_", "-"): value for name, value in replaced.items()}
    kept = tuple((name, value) for name, value in headers if name.lower() not in names)
    return kept + tuple((name, value) for name, value in names.items() if value)


SITES = [
    NginxSite("ngx-perfect", EVERY_HEADER, files=GOOD_FILES),
    NginxSite("ngx-bare", (), http_redirects=False),
    NginxSite(
        "ngx-unsafeinline",
        _with(
            EVERY_HEADER,
            content_security_policy=("default-src 'self'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"),
        ),
        files=GOOD_FILES,
    ),
    NginxSite("ngx-cookies", _with(EVERY_HEADER, set_cookie="sessionid=42; Path=/"), files=GOOD_FILES),
    NginxSite(
        "ngx-cors",
        EVERY_HEADER + (("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Credentials", "true")),
        files=GOOD_FILES,
    ),
    NginxSite(
        "ngx-sri",
        _with(
            EVERY_HEADER,
            content_security_policy=("default-src 'none'; script-src https://cdn.example.net; frame-ancestors 'none'"),
        ),
        files=GOOD_FILES,
        page='<!doctype html><title>sri</title><script src="https://cdn.example.net/lib.js"></script>',
    ),
    NginxSite(
        "ngx-h1",
        EVERY_HEADER,
        http2=False,
        gzip=True,
        files={
            "/.well-known/security.txt": (
                "text/plain",
                "Contact: mailto:security@example.org\nExpires: 2020-01-01T00:00:00Z\n",
            ),
            "/robots.txt": ("text/plain", "User-agent: *\nDisallow: /\n"),
        },
    ),
    NginxSite("www.ngx-canon", EVERY_HEADER, files=GOOD_FILES, aliases=("ngx-canon.lab.test",)),
    NginxSite("www.ngx-dup", EVERY_HEADER, files=GOOD_FILES, aliases=("ngx-dup.lab.test",), alias_redirects=False),
    NginxSite("www.ngx-nocert", EVERY_HEADER, files=GOOD_FILES, unserved=("ngx-nocert.lab.test",)),
]


@pytest.fixture(scope="module")
def nginx(lab):
    with NginxSites(lab, SITES) as running:
        yield running


@pytest.fixture(scope="module")
def scan_site(nginx, lab):
    policy = nginx.policy()

    @functools.cache
    def run(name: str):
        site = nginx.running[name]
        target = parse_target(site.hostname, https_port=site.https_port, http_port=site.http_port)
        result = scan(target, policy=policy, settings=LAB_SCAN_SETTINGS, ca_file=lab.ca_file)
        return result, grade(result)

    return run


def modifiers(grades) -> dict[str, tuple[str, int]]:
    return {item.test: (item.result, item.points) for item in grades.web_security.modifiers}


def finding_ids(grades) -> set[str]:
    return {item.id for item in grades.findings}


def test_every_header_right_scores_135_a_plus(scan_site):
    """CSP default-src 'none' +10, cookies Secure/HttpOnly/SameSite +5, CORS not implemented 0, redirection to
    https 0, Referrer-Policy no-referrer +5, HSTS two years 0, SRI no scripts 0, nosniff 0, XFO via CSP
    frame-ancestors +5, CORP same-origin +10. Penalties: none, so 100 >= 90 and the bonuses count:
    100 + 10 + 5 + 5 + 5 + 10 = 135 -> A+."""
    _, grades = scan_site("ngx-perfect")
    assert (grades.web_security.score, grades.web_security.grade) == (135, "A+")
    assert modifiers(grades)["content-security-policy"] == ("csp-implemented-with-no-unsafe-default-src-none", 10)


def test_every_header_right_leaves_the_tls_grade_and_seo_score_alone(scan_site):
    """nginx with h2, robots.txt allowing crawlers and preload-ready HSTS: SEO 100, TLS A+ as for the lab's good."""
    _, grades = scan_site("ngx-perfect")
    assert (grades.security, grades.seo_score) == ("A+", 100)
    assert not {fid for fid in finding_ids(grades) if fid.startswith(("headers.", "cookies.", "web.", "seo."))}


def test_no_headers_and_no_redirect_scores_10_f(scan_site):
    """CSP not implemented -25, cookies none 0, CORS 0, http:// serves the page (redirection missing) -20,
    Referrer-Policy none 0, HSTS not implemented -20, SRI no scripts 0, X-Content-Type-Options missing -5,
    X-Frame-Options missing -20, CORP none 0: 100 - 25 - 20 - 20 - 5 - 20 = 10 -> F."""
    _, grades = scan_site("ngx-bare")
    assert (grades.web_security.score, grades.web_security.grade) == (10, "F")
    assert {"headers.csp.missing", "headers.x_frame_options.missing", "headers.x_content_type_options.missing"} <= (
        finding_ids(grades)
    )


def test_web_findings_never_move_the_tls_grade(scan_site):
    """ngx-bare's only TLS-side faults are the missing HSTS (A- warning) and no redirect: its web F stays apart."""
    _, grades = scan_site("ngx-bare")
    assert grades.security == "A-"
    assert all(
        item.cap is None and not item.warning
        for item in grades.findings
        if item.id.startswith(("headers.", "cookies.", "web."))
    )


def test_csp_with_unsafe_inline_scores_80_b_plus(scan_site):
    """csp-implemented-with-unsafe-inline -20 makes the score without bonuses 80 < 90, so the other tests'
    bonuses (cookies +5, Referrer-Policy +5, XFO via frame-ancestors +5, CORP +10) do not count: 80 -> B+."""
    _, grades = scan_site("ngx-unsafeinline")
    assert modifiers(grades)["content-security-policy"] == ("csp-implemented-with-unsafe-inline", -20)
    assert (grades.web_security.score, grades.web_security.grade) == (80, "B+")
    assert "headers.csp.unsafe_inline" in finding_ids(grades)


def test_session_cookie_without_secure_and_httponly_scores_70_b(scan_site):
    """sessionid without Secure (HSTS protects it: -10) and without HttpOnly (-30): the worst, -30, is the
    cookies result. 100 - 30 = 70 < 90, no bonuses: 70 -> B."""
    _, grades = scan_site("ngx-cookies")
    assert modifiers(grades)["cookies"] == ("cookies-session-without-httponly-flag", -30)
    assert (grades.web_security.score, grades.web_security.grade) == (70, "B")
    assert "cookies.session_not_httponly" in finding_ids(grades)


def test_cookie_flags_are_reported(scan_site):
    result, grades = scan_site("ngx-cookies")
    cookies = build_report(result, grades)["cookies"]
    assert [(c["name"], c["secure"], c["http_only"], c["same_site"]) for c in cookies] == [
        ("sessionid", False, False, None)
    ]


def test_any_origin_with_credentials_scores_50_c(scan_site):
    """Access-Control-Allow-Origin * with Access-Control-Allow-Credentials true: universal access -50;
    100 - 50 = 50 < 90, no bonuses: 50 -> C."""
    _, grades = scan_site("ngx-cors")
    assert modifiers(grades)["cross-origin-resource-sharing"] == (
        "cross-origin-resource-sharing-implemented-with-universal-access",
        -50,
    )
    assert (grades.web_security.score, grades.web_security.grade) == (50, "C")
    assert "web.cors.any_origin_with_credentials" in finding_ids(grades)


def test_external_script_without_sri_scores_130_a_plus(scan_site):
    """An https script from another site without integrity: -5. 100 - 5 = 95 >= 90, so the bonuses count:
    CSP default-src 'none' +10, cookies +5, Referrer-Policy +5, XFO via CSP +5, CORP +10: 95 + 35 = 130 -> A+."""
    _, grades = scan_site("ngx-sri")
    assert modifiers(grades)["subresource-integrity"] == (
        "sri-not-implemented-but-external-scripts-loaded-securely",
        -5,
    )
    assert (grades.web_security.score, grades.web_security.grade) == (130, "A+")
    assert "web.sri.missing" in finding_ids(grades)


def test_alpn_lists_h2_when_nginx_has_http2_on(scan_site):
    result, grades = scan_site("ngx-perfect")
    assert build_report(result, grades)["alpn"] == ["h2", "http/1.1"]


def test_without_http2_alpn_is_http1_only_and_costs_seo_points(scan_site):
    result, grades = scan_site("ngx-h1")
    assert build_report(result, grades)["alpn"] == ["http/1.1"]
    assert "seo.no_http2" in finding_ids(grades)


def test_expired_security_txt_is_a_finding_not_a_score(scan_site):
    """security.txt is not an Observatory test: the expired file is a finding and the score stays 135 (A+)."""
    result, grades = scan_site("ngx-h1")
    assert "web.security_txt.expired" in finding_ids(grades)
    assert build_report(result, grades)["security_txt"]["expires"] == "2020-01-01T00:00:00Z"
    assert grades.web_security.score == 135


def test_valid_security_txt_is_not_a_finding(scan_site):
    _, grades = scan_site("ngx-perfect")
    assert not {fid for fid in finding_ids(grades) if fid.startswith("web.security_txt")}


def test_http_compression_over_https_is_an_information_finding(scan_site):
    result, grades = scan_site("ngx-h1")
    assert build_report(result, grades)["web_page"]["content_encoding"] == "gzip"
    assert "web.http_compression" in finding_ids(grades)
    assert "web.http_compression" not in finding_ids(scan_site("ngx-perfect")[1])


def test_robots_txt_disallowing_everything_costs_seo_points(scan_site):
    _, grades = scan_site("ngx-h1")
    assert "seo.robots_disallow_all" in finding_ids(grades)
    assert grades.seo_score < 100


def test_report_headers_have_present_value_verdict_and_notes(scan_site):
    result, grades = scan_site("ngx-perfect")
    headers = build_report(result, grades)["headers"]
    assert headers["content-security-policy"]["verdict"] == "good"
    assert headers["content-security-policy"]["value"] == STRICT_CSP
    assert "frame-ancestors present" in headers["content-security-policy"]["notes"]
    assert headers["permissions-policy"] == {
        "present": True,
        "value": "camera=(), geolocation=()",
        "verdict": "info",
        "notes": [],
    }
    assert headers["x-frame-options"]["present"] and headers["x-frame-options"]["verdict"] == "good"


def test_apex_redirecting_to_the_submitted_www_name_is_one_canonical_host(scan_site):
    result, grades = scan_site("www.ngx-canon")
    www_apex = build_report(result, grades)["www_apex"]
    assert (www_apex["host"], www_apex["https_ok"], www_apex["status"]) == ("ngx-canon.lab.test", True, 301)
    assert not {"seo.www_apex_duplicate", "seo.www_apex_no_https"} & finding_ids(grades)
    assert grades.seo_score == 100


def test_apex_serving_its_own_copy_beside_www_is_a_duplicate(scan_site):
    _, grades = scan_site("www.ngx-dup")
    assert "seo.www_apex_duplicate" in finding_ids(grades)


def test_apex_without_a_valid_certificate_for_its_name_is_no_https(scan_site):
    """nginx answers ngx-nocert.lab.test with the www. certificate (its first server block): a name mismatch."""
    result, grades = scan_site("www.ngx-nocert")
    assert "seo.www_apex_no_https" in finding_ids(grades)
    assert build_report(result, grades)["www_apex"]["https_ok"] is False
