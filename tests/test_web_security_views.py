"""The web security score (issue 23) beside the security grade and the SEO score: API scan detail, portfolio
export, overview list and site report page, from a real lab scan stored through the scan service."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from scanner import services
from scanner.grading import grade
from scanner.models import Portfolio, Scan, Site
from scanner.report import build_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(alice, scan_case):
    """cspreportonly scores 30 (D): see tests/test_web_security.py for the hand computation."""
    result = scan_case("cspreportonly")
    grades = grade(result)
    site = Site.objects.create(owner=alice, hostname="cspreportonly.lab.test")
    portfolio = Portfolio.objects.create(owner=alice, name="web")
    portfolio.sites.add(site)
    scan = Scan.objects.create(site=site, status=Scan.Status.RUNNING)
    services.store_outcome(scan, result, grades, build_report(result, grades))
    return site, scan, portfolio


def test_api_scan_detail_has_the_web_security_score(alice, stored):
    _, scan, _ = stored
    api = APIClient()
    api.force_authenticate(alice)
    body = api.get(f"/api/v1/scans/{scan.pk}").json()
    assert (body["web_security"]["score"], body["web_security"]["grade"]) == (30, "D")
    assert body["result"]["grade"]["web_security_grade"] == "D"


def test_export_has_the_web_security_score_and_grade(alice, stored):
    _, _, portfolio = stored
    api = APIClient()
    api.force_authenticate(alice)
    response = api.get(f"/api/v1/portfolios/{portfolio.pk}/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert (rows[0]["web_security_score"], rows[0]["web_security_grade"]) == ("30", "D")


def test_overview_lists_the_web_security_grade(client, alice, stored):
    site, _, _ = stored
    client.force_login(alice)
    html = client.get(reverse("dashboard:overview")).content.decode()
    assert f'<td data-web-grade="{site.pk}">D</td>' in html


def test_site_report_shows_the_web_security_score_with_its_modifiers(client, alice, stored):
    site, _, _ = stored
    client.force_login(alice)
    html = client.get(reverse("dashboard:site", args=[site.pk])).content.decode()
    assert "Web security: 30 (D)" in html
    assert "csp-not-implemented-but-reporting-enabled" in html


def test_the_matrix_has_headers_and_cookies_cells_from_the_web_findings(client, alice, stored):
    """cspreportonly: headers.csp.report_only and the other header findings are medium (warn); its anti-CSRF
    cookie without SameSite is cookies.samesite_invalid, medium too."""
    _, _, portfolio = stored
    client.force_login(alice)
    html = client.get(reverse("dashboard:portfolio", args=[portfolio.pk])).content.decode()
    assert '<th scope="col">Headers</th><th scope="col">Cookies</th>' in html
    assert 'title="The Content-Security-Policy is report-only' in html
    assert 'title="A cookie&#x27;s SameSite is invalid or missing where it matters"' in html
