"""The full report page: it never contradicts itself, shows every section its data allows, keeps lists
whole, prints no raw Python values, draws the history chart, and can be shared by an unguessable link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from scanner import services
from scanner.models import Scan, Site

pytestmark = pytest.mark.django_db


def certificate(**overrides) -> dict:
    now = timezone.now()
    cert = {
        "subject": "CN=shop.example",
        "issuer": "CN=Lab CA",
        "san_dns_names": ["shop.example"],
        "not_before": (now - timedelta(days=10)).isoformat(),
        "not_after": (now + timedelta(days=80)).isoformat(),
        "key_type": "RSA",
        "key_bits": 2048,
        "signature_algorithm": "sha256WithRSAEncryption",
        "signature_hash": "sha256",
        "trusted": True,
        "chain_trusted": True,
        "hostname_match": True,
        "self_signed": False,
        "expired": False,
        "not_yet_valid": False,
        "chain_incomplete": False,
        "chain_length": 2,
        "ocsp_stapled": False,
        "validation_error": None,
        "sha256_fingerprint": "ab" * 32,
        "chain": [
            {
                "subject": "CN=shop.example",
                "issuer": "CN=Lab Intermediate",
                "key_type": "RSA",
                "key_bits": 2048,
                "signature_algorithm": "sha256WithRSAEncryption",
                "signature_hash": "sha256",
                "is_ca": False,
                "self_signed": False,
                "source": "sent",
            },
            {
                "subject": "CN=Lab Intermediate",
                "issuer": "CN=Lab Root",
                "key_type": "RSA",
                "key_bits": 2048,
                "signature_algorithm": "sha256WithRSAEncryption",
                "signature_hash": "sha256",
                "is_ca": True,
                "self_signed": False,
                "source": "aia",
            },
            {
                "subject": "CN=Lab Root",
                "issuer": "CN=Lab Root",
                "key_type": "RSA",
                "key_bits": 4096,
                "signature_algorithm": "sha256WithRSAEncryption",
                "signature_hash": "sha256",
                "is_ca": True,
                "self_signed": True,
                "source": "trust_store",
            },
        ],
    }
    cert.update(overrides)
    return cert


def suite(name: str, protocol: str, bits: int = 128, fs: bool = True) -> dict:
    return {
        "name": name,
        "protocol": protocol,
        "key_bits": bits,
        "forward_secrecy": fs,
        "aead": True,
        "kex_bits": 253,
        "kex_type": "X25519",
    }


def document(grade="A", **overrides) -> dict:
    doc = {
        "status": "done",
        "grade": {"security": grade, "score": 90, "seo_score": 85, "seo_grade": "B", "caps": [], "warnings": []},
        "certificate": certificate(),
        "protocols": {
            "SSLv2": False,
            "SSLv3": False,
            "TLSv1.0": False,
            "TLSv1.1": False,
            "TLSv1.2": True,
            "TLSv1.3": True,
        },
        "cipher_suites": [suite(f"TLS_SUITE_{n}", "TLSv1.2") for n in range(12)]
        + [suite("TLS_AES_128_GCM_SHA256", "TLSv1.3")],
        "vulnerabilities": {
            "heartbleed": False,
            "robot": False,
            "robot_detail": None,
            "ccs_injection": False,
            "insecure_renegotiation": False,
            "client_renegotiation_dos": None,
            "compression": False,
            "fallback_scsv": True,
        },
        "curves": ["X448", "secp521r1"],
        "redirects": {
            "http_listener": True,
            "chain": [{"url": "http://shop.example/", "status": 301, "location": "https://shop.example/"}],
            "final_url": "https://shop.example/",
            "loop": False,
            "too_many": False,
            "error": None,
        },
        "hsts": {
            "present": True,
            "raw": "max-age=31536000",
            "max_age": 31536000,
            "include_subdomains": False,
            "preload": False,
            "error": None,
        },
        "findings": [],
    }
    doc.update(overrides)
    return doc


def site_with(owner, doc: dict, grade: str | None = None) -> Site:
    site = Site.objects.create(owner=owner, hostname="shop.example")
    scan = Scan.objects.create(
        site=site,
        status=Scan.Status.DONE,
        security_grade=grade or doc["grade"]["security"],
        score=90,
        seo_score=85,
        finished_at=timezone.now(),
        result=doc,
    )
    Site.objects.filter(pk=site.pk).update(last_scan=scan, last_scan_at=scan.requested_at)
    services.site_took_result(scan)
    site.refresh_from_db()
    return site


def report_html(client, site: Site) -> str:
    response = client.get(reverse("dashboard:site", args=[site.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def test_a_t_grade_never_stands_next_to_trusted_yes(as_alice, alice):
    doc = document(grade="T", certificate=certificate(expired=True, trusted=True))
    html = report_html(as_alice, site_with(alice, doc))
    trusted = re.search(r'data-testid="trusted">(.*?)</dd>', html, re.DOTALL).group(1)
    assert "no" in trusted and "expired" in trusted
    assert ">yes<" not in trusted


def test_a_not_yet_valid_certificate_never_reads_as_days_left(as_alice, alice):
    later = (timezone.now() + timedelta(days=5)).isoformat()
    doc = document(grade="T", certificate=certificate(not_yet_valid=True, not_before=later))
    html = report_html(as_alice, site_with(alice, doc))
    assert "days left" not in html
    assert f"not valid until {later[:10]}" in html


def test_a_site_that_does_not_answer_has_no_seo_score(as_alice, alice):
    doc = document(findings=[{"id": "http.unreachable", "area": "http", "severity": "high", "title": "No answer"}])
    html = report_html(as_alice, site_with(alice, doc))
    summary = html[html.index('class="summary"') : html.index("</section>", html.index('class="summary"'))]
    assert 'data-testid="seo-not-measured"' in summary
    assert ">85<" not in summary


def test_a_redirect_loop_is_shown_next_to_the_grade(as_alice, alice):
    doc = document(grade="A+")
    doc["redirects"]["loop"] = True
    html = report_html(as_alice, site_with(alice, doc))
    attention = html.index('data-testid="attention"')
    assert "The redirects loop" in html[attention : attention + 600]
    assert html.index('data-testid="security-grade"') < attention


def test_every_cipher_suite_is_listed_per_protocol_with_fs_marks(as_alice, alice):
    doc = document(cipher_preference={"server_enforced": True, "preferred_suites": {"TLSv1.2": "TLS_SUITE_3"}})
    html = report_html(as_alice, site_with(alice, doc))
    assert "The server chooses the suite" in html
    assert 'TLS_SUITE_3</code> <span class="tag">preferred</span>' in html
    for n in range(12):
        assert f"TLS_SUITE_{n}<" in html
    assert "TLS 1.2 (12 suites, the server's first choice first)" in html and "TLS 1.3 (1 suite)" in html
    assert ">FS<" in html
    assert "and 1 more" not in html


def test_no_raw_python_values_appear_in_the_report(as_alice, alice):
    doc = document(
        findings=[
            {
                "id": "tls.mozilla.intermediate",
                "area": "protocol",
                "severity": "info",
                "title": "Not compliant",
                "detail": "tls_curves: TLS curves {'secp521r1', 'X448'} are supported, but should be rejected.",
                "remediation": "Use the intermediate profile.",
            }
        ]
    )
    doc["vulnerabilities"]["robot_detail"] = "NOT_VULNERABLE_RSA_NOT_SUPPORTED"
    html = report_html(as_alice, site_with(alice, doc))
    text = re.sub(r"<[^>]+>", " ", html)
    for raw in ("{'", "None", "True", "False", "[]", "set()"):
        assert raw not in text, raw
    assert "TLS curves X448, secp521r1 are supported" in text
    assert "not vulnerable rsa not supported" in text


def test_both_chains_vulnerabilities_and_score_breakdown_are_shown(as_alice, alice):
    html = report_html(as_alice, site_with(alice, document()))
    served = html[html.index('data-testid="chain-served"') : html.index('data-testid="chain-built"')]
    assert "CN=shop.example" in served and "CN=Lab Root" not in served
    assert "fetched via AIA" in html and "from the trust store" in html
    assert "Heartbleed" in html and "not vulnerable" in html
    assert "Protocol support" in html and "Cipher strength" in html


def test_simulations_endpoints_and_mixed_content_show_when_present(as_alice, alice):
    doc = document(
        simulations=[
            {
                "client": "Chrome 131 / Windows 11",
                "protocol": "TLSv1.3",
                "suite": "TLS_AES_128_GCM_SHA256",
                "forward_secrecy": True,
                "error": None,
            },
            {
                "client": "Java 8",
                "protocol": None,
                "suite": None,
                "forward_secrecy": None,
                "error": "no common protocol",
            },
        ],
        endpoints=[
            {
                "ip": "192.0.2.1",
                "status": "done",
                "error": None,
                "grade": {"security": "A", "score": 90},
                "protocols": {"TLSv1.3": True},
                "certificate_fingerprint": "ab" * 32,
                "findings": [],
            },
            {
                "ip": "192.0.2.2",
                "status": "failed",
                "error": "timed out",
                "grade": {"security": None},
                "protocols": None,
                "certificate_fingerprint": None,
                "findings": [],
            },
        ],
        content={
            "page_fetched": True,
            "url": "https://shop.example/",
            "canonical_url": None,
            "mixed_content": [{"url": "http://cdn.example/app.js", "kind": "active", "element": "script src"}],
        },
    )
    html = report_html(as_alice, site_with(alice, doc))
    assert "Chrome 131 / Windows 11" in html and "no common protocol" in html
    assert "192.0.2.2" in html and "not scanned: timed out" in html
    assert "A (90)" in html
    assert "http://cdn.example/app.js" in html


def test_the_history_chart_is_an_inline_svg_with_one_point_per_scan(as_alice, alice):
    site = site_with(alice, document())
    for grade, score in (("B", 70), ("A", 90)):
        Scan.objects.create(
            site=site,
            status=Scan.Status.DONE,
            security_grade=grade,
            score=score,
            seo_score=60,
            finished_at=timezone.now(),
            result=document(grade=grade),
        )
    html = report_html(as_alice, site)
    svg = html[html.index('<svg class="history-svg"') :]
    svg = svg[: svg.index("</svg>")]
    assert svg.count('class="line-score-dot"') == 3
    assert "<script" not in svg


def test_a_share_link_shows_the_report_logged_out_until_revoked(client, alice):
    site = site_with(alice, document())
    services.site_share(site, enabled=True)
    token = site.share_token
    assert len(token) >= 40
    shared = client.get(reverse("dashboard:shared_report", args=[token]))
    assert shared.status_code == 200
    assert "shop.example" in shared.content.decode()
    assert "Rescan now" not in shared.content.decode()

    services.site_share(site, enabled=False)
    assert client.get(reverse("dashboard:shared_report", args=[token])).status_code == 404


def test_a_guessed_share_token_finds_nothing(client, alice):
    site_with(alice, document())
    assert client.get(reverse("dashboard:shared_report", args=["a" * 43])).status_code == 404


def test_the_badge_snippet_links_to_the_shared_report(as_alice, alice):
    site = site_with(alice, document())
    services.site_set_badge_public(site, public=True)
    services.site_share(site, enabled=True)
    html = report_html(as_alice, site)
    assert f"/r/{site.share_token}/" in html
    assert "&lt;a href=" in html


def test_a_finding_that_shortens_a_list_links_to_the_full_list(as_alice, alice):
    doc = document(
        findings=[
            {
                "id": "tls.cipher.no_forward_secrecy",
                "area": "protocol",
                "severity": "medium",
                "title": "No FS",
                "detail": "A, B, C, D, E and 1 more do not offer FS.",
            }
        ]
    )
    html = report_html(as_alice, site_with(alice, doc))
    assert '<a href="#suites-heading">See the full list</a>' in html
    assert 'id="suites-heading"' in html


def test_findings_are_listed_worst_first_whatever_their_area(as_alice, alice):
    doc = document(
        findings=[
            {"id": "cert.chain_order_wrong", "area": "certificate", "severity": "info", "title": "Chain out of order"},
            {"id": "hsts.short_max_age", "area": "hsts", "severity": "medium", "title": "HSTS max-age is short"},
            {"id": "tls.protocol.tls1_0", "area": "protocol", "severity": "high", "title": "TLS 1.0 is on"},
        ]
    )
    html = report_html(as_alice, site_with(alice, doc))
    findings = html[html.index('id="findings-heading"') :]
    assert (
        findings.index("TLS 1.0 is on") < findings.index("HSTS max-age is short") < findings.index("Chain out of order")
    )
    assert '<span class="finding-area muted">Redirects and HSTS</span>' in findings
