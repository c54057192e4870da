"""The site report's certificate section shows revocation, CT timestamps and CAA (issue 21 item 6)."""

from __future__ import annotations

import re

import pytest

from tests.test_site_report import certificate, document, report_html, site_with

pytestmark = pytest.mark.django_db

REVOKED = {
    "status": "revoked",
    "source": "ocsp-staple",
    "checked_at": "2026-12-06T20:00:00+00:00",
    "detail": "stapled OCSP response: revoked on 2026-12-01 00:00 UTC",
    "revoked_at": None,
    "staple_problem": None,
    "staple_problem_detail": None,
}
CAA = {
    "status": "found",
    "domain": "shop.example",
    "error": None,
    "records": [{"flags": 0, "tag": "issue", "value": "letsencrypt.org"}],
}


@pytest.fixture
def viewer(client, alice):
    client.force_login(alice)
    return client


def dd(html: str, testid: str) -> str:
    return re.search(rf'data-testid="{testid}">(.*?)</dd>', html, re.DOTALL).group(1)


def test_a_revoked_certificate_shows_its_revocation_and_is_not_trusted(viewer, alice):
    doc = document(grade="T", certificate=certificate(revocation=REVOKED))
    html = report_html(viewer, site_with(alice, doc))
    assert "revoked" in dd(html, "revocation") and "ocsp-staple" in dd(html, "revocation")
    assert "revoked" in dd(html, "trusted") and ">yes<" not in dd(html, "trusted")


def test_sct_counts_and_caa_records_are_shown(viewer, alice):
    doc = document(certificate=certificate(scts={"embedded": 2, "ocsp": None, "tls_extension": None}, caa=CAA))
    html = report_html(viewer, site_with(alice, doc))
    assert dd(html, "scts").startswith("2 embedded")
    assert 'issue "letsencrypt.org"' in dd(html, "caa") and "shop.example" in dd(html, "caa")


def test_an_older_report_without_these_fields_still_renders(viewer, alice):
    html = report_html(viewer, site_with(alice, document()))
    assert 'data-testid="revocation"' not in html and 'data-testid="caa"' not in html


def test_suites_are_listed_in_the_servers_order_with_weak_marks(viewer, alice):
    cbc = {
        "name": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "protocol": "TLSv1.2",
        "key_bits": 128,
        "forward_secrecy": True,
        "aead": False,
        "kex_bits": 253,
        "kex_type": "X25519",
    }
    gcm = {**cbc, "name": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "aead": True}
    doc = document(
        cipher_suites=[cbc, gcm],
        cipher_preference={
            "server_enforced": True,
            "preferred_suites": {"TLSv1.2": gcm["name"]},
            "suite_order": {"TLSv1.2": [gcm["name"], cbc["name"]]},
        },
    )
    html = report_html(viewer, site_with(alice, doc))
    assert "in the server&#x27;s order" in html or "in the server's order" in html
    suites = html[html.index('<table class="suites">') :]  # other sections (compliance) may name suites too
    suites = suites[: suites.index("</table>")]
    assert suites.index(gcm["name"]) < suites.index(cbc["name"])
    rows = re.findall(r"<tr><th scope=\"row\"><code class=\"wrap\">(\w+)</code>(.*?)</th>", suites)
    assert {name: "WEAK" in marks for name, marks in rows} == {gcm["name"]: False, cbc["name"]: True}


def test_the_score_breakdown_reads_a_current_report(scan_case):
    from scanner.grading import grade
    from scanner.report import build_report
    from webui.dashboard.full_report import score_breakdown

    result = scan_case("good")
    parts = score_breakdown(build_report(result, grade(result)))
    assert parts is not None and all(part["score"] is not None for part in parts)


def test_without_the_whole_server_order_the_servers_first_choice_still_leads_its_protocol(viewer, alice):
    # Two nassl builds shared the enumeration, so only the server's first choice is known, not its whole order.
    rsa = {
        "name": "TLS_RSA_WITH_AES_256_GCM_SHA384",
        "protocol": "TLSv1.2",
        "key_bits": 256,
        "forward_secrecy": False,
        "aead": True,
    }
    ecdhe = {**rsa, "name": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "forward_secrecy": True}
    doc = document(
        cipher_suites=[rsa, ecdhe],
        cipher_preference={"server_enforced": True, "preferred_suites": {"TLSv1.2": ecdhe["name"]}},
    )
    html = report_html(viewer, site_with(alice, doc))
    suites = html[html.index('<table class="suites">') :]
    suites = suites[: suites.index("</table>")]
    assert suites.index(ecdhe["name"]) < suites.index(rsa["name"])
    assert "(2 suites, the server's first choice first)" in html
