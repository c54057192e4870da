"""Where people see compliance: the site report, the overview filter, the portfolio's counts and column, and
the auditor's evidence (CSV and a PDF read back with pdftotext)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest
from django.urls import reverse

from scanner.models import Portfolio
from tests.grading_factories import scan
from tests.test_compliance_api import OLD_TLS, stored

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(alice):
    """A portfolio watching PCI DSS, with one site offering TLS 1.0 and one that does not."""
    portfolio = Portfolio.objects.create(owner=alice, name="Shops", compliance_profiles=["pci-dss-4.0.1"])
    old = stored(alice, "old.example", scan(OLD_TLS))
    portfolio.sites.add(old.site, stored(alice, "good.example").site)
    return portfolio


def test_site_report_has_one_compliance_line_per_profile(client, alice):
    old = stored(alice, "old.example", scan(OLD_TLS))
    client.force_login(alice)
    page = client.get(reverse("dashboard:site", args=[old.site_id])).content.decode()
    assert 'data-testid="compliance"' in page
    assert page.count('data-profile="') == 7
    line = page.split('data-profile="pci-dss-4.0.1"')[1].split("<details>")[0]
    assert '<span class="bad">fail</span>: 4.2.1 secure versions' in line


def test_overview_filters_on_a_failed_profile(client, alice):
    stored(alice, "old.example", scan(OLD_TLS))
    stored(alice, "good.example")
    client.force_login(alice)
    page = client.get(reverse("dashboard:overview"), {"fails": "pci-dss-4.0.1"}).content.decode()
    assert "old.example" in page and "good.example" not in page


def test_portfolio_page_counts_failing_sites_per_chosen_profile(client, alice, shops):
    client.force_login(alice)
    page = client.get(reverse("dashboard:portfolio", args=[shops.pk])).content.decode()
    assert "1 of 2 sites fails PCI DSS" in page
    assert '<th scope="col">PCI DSS</th>' in page


def test_portfolio_saves_the_chosen_profiles_from_the_form(client, alice, shops):
    client.force_login(alice)
    response = client.post(
        reverse("dashboard:portfolio_compliance", args=[shops.pk]), {"profiles": ["bsi-tr-02102-2", "anssi-tls"]}
    )
    assert response.status_code == 302
    assert Portfolio.objects.get(pk=shops.pk).compliance_profiles == ["bsi-tr-02102-2", "anssi-tls"]


def test_another_user_cannot_download_the_evidence(client, bob, shops):
    client.force_login(bob)
    assert client.get(reverse("dashboard:portfolio_evidence", args=[shops.pk, "csv"])).status_code == 404


def test_evidence_csv_names_the_scan_and_each_failed_requirement_with_its_source(client, alice, shops):
    client.force_login(alice)
    response = client.get(reverse("dashboard:portfolio_evidence", args=[shops.pk, "csv"]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_host = {row["host"]: row for row in rows}
    old_scan = shops.sites.get(hostname="old.example").latest_scan
    assert by_host["old.example"]["verdict"] == "fail"
    assert by_host["old.example"]["scan_id"] == str(old_scan.pk)
    assert (
        "4.2.1 secure versions (must not): offers TLSv1.0 [PCI DSS v4.0.1 req. 4.2.1"
        in (by_host["old.example"]["failed_requirements"])
    )
    assert by_host["good.example"]["verdict"] == "pass"


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")
def test_evidence_pdf_reads_back_with_verdicts_and_sources(client, alice, shops, tmp_path):
    client.force_login(alice)
    response = client.get(reverse("dashboard:portfolio_evidence", args=[shops.pk, "pdf"]))
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "evidence.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Compliance report: Shops" in text
    assert "1 of 2 sites fail" in text
    assert "old.example:443 PCI DSS: fail" in " ".join(text.split())
    assert "4.2.1 secure versions (must not): offers TLSv1.0" in text
    assert "Grade mix" in text
