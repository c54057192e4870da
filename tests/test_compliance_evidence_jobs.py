"""A large portfolio's compliance PDF is built by a worker: asked for once, followed by its progress, then
downloaded; small portfolios keep the direct download. (tests/test_compliance_evidence_e2e.py runs the same
with a real Celery worker; these call the worker's service directly.)"""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
from django.urls import reverse

from scanner import services
from scanner.models import ComplianceEvidence, Portfolio
from tests.grading_factories import scan
from tests.test_api import client_for
from tests.test_compliance_api import OLD_TLS, stored

pytestmark = pytest.mark.django_db


@pytest.fixture
def large(alice, settings):
    """A portfolio above the inline limit: its PDF is a worker's job."""
    settings.SCANNER_EVIDENCE_INLINE_LIMIT = 1
    portfolio = Portfolio.objects.create(owner=alice, name="Shops", compliance_profiles=["pci-dss-4.0.1"])
    portfolio.sites.add(stored(alice, "old.example", scan(OLD_TLS)).site, stored(alice, "good.example").site)
    return portfolio


def test_a_portfolio_within_the_inline_limit_downloads_its_pdf_directly(client, alice, large, settings):
    settings.SCANNER_EVIDENCE_INLINE_LIMIT = 2
    client.force_login(alice)
    response = client.get(reverse("dashboard:portfolio_evidence", args=[large.pk, "pdf"]))
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
    assert not ComplianceEvidence.objects.exists()


def test_a_large_portfolio_page_offers_to_generate_the_report_instead_of_a_link(client, alice, large):
    client.force_login(alice)
    page = client.get(reverse("dashboard:portfolio", args=[large.pk])).content.decode()
    assert "Generate the compliance report (PDF)" in page
    assert reverse("dashboard:portfolio_evidence", args=[large.pk, "pdf"]) not in page


def test_generating_queues_one_report_and_the_page_shows_its_progress(client, alice, large):
    client.force_login(alice)
    url = reverse("dashboard:evidence_generate", args=[large.pk])
    assert client.post(url).status_code == 302
    client.post(url)  # a second click while it is being built queues nothing more
    [evidence] = ComplianceEvidence.objects.filter(portfolio=large)
    assert evidence.status == "queued" and evidence.sites_total == 2
    page = client.get(reverse("dashboard:portfolio", args=[large.pk])).content.decode()
    assert "Building the compliance report: 0 of 2 sites evaluated." in page
    assert reverse("dashboard:evidence_status", args=[large.pk, evidence.pk]) in page
    assert "dashboard/evidence.js" in page


def test_the_direct_pdf_link_of_a_large_portfolio_leads_to_its_page(client, alice, large):
    client.force_login(alice)
    response = client.get(reverse("dashboard:portfolio_evidence", args=[large.pk, "pdf"]))
    assert response.status_code == 302 and response["Location"].endswith("#evidence")


def test_the_worker_stores_the_pdf_with_full_progress(large):
    evidence = services.evidence_request(large)
    built = services.evidence_build(evidence.pk)
    assert built.status == "done" and built.progress == 100 and built.sites_done == 2
    assert bytes(built.content).startswith(b"%PDF-") and built.finished_at is not None


def test_a_delivered_again_message_does_not_build_a_finished_report_twice(large):
    evidence = services.evidence_request(large)
    services.evidence_build(evidence.pk)
    assert services.evidence_build(evidence.pk) is None


def test_a_portfolio_keeps_only_its_newest_finished_report(large):
    first = services.evidence_request(large)
    services.evidence_build(first.pk)
    second = services.evidence_request(large)
    services.evidence_build(second.pk)
    assert list(ComplianceEvidence.objects.filter(portfolio=large).values_list("pk", flat=True)) == [second.pk]


def test_a_report_whose_worker_was_lost_is_asked_again(large, settings):
    stuck = services.evidence_request(large)
    ComplianceEvidence.objects.filter(pk=stuck.pk).update(
        created_at=stuck.created_at - timedelta(seconds=settings.SCANNER_RESCAN_TASK_TIME_LIMIT + 120)
    )
    fresh = services.evidence_request(large)
    assert fresh.pk != stuck.pk
    assert ComplianceEvidence.objects.get(pk=stuck.pk).status == "failed"


def test_the_status_says_where_to_download_once_done(client, alice, large):
    evidence = services.evidence_request(large)
    client.force_login(alice)
    status_url = reverse("dashboard:evidence_status", args=[large.pk, evidence.pk])
    assert client.get(status_url).json()["download_url"] == ""
    services.evidence_build(evidence.pk)
    body = client.get(status_url).json()
    assert body["status"] == "done" and body["progress"] == 100
    download = client.get(body["download_url"])
    assert download["Content-Type"] == "application/pdf" and download.content.startswith(b"%PDF-")


def test_another_user_cannot_follow_or_download_the_report(client, bob, large):
    evidence = services.evidence_request(large)
    services.evidence_build(evidence.pk)
    client.force_login(bob)
    assert client.get(reverse("dashboard:evidence_status", args=[large.pk, evidence.pk])).status_code == 404
    assert client.get(reverse("dashboard:evidence_download", args=[large.pk, evidence.pk])).status_code == 404
    assert client.post(reverse("dashboard:evidence_generate", args=[large.pk])).status_code == 404
    assert client_for(bob).get(f"/api/v1/portfolios/{large.pk}/evidence/{evidence.pk}.pdf").status_code == 404


def test_the_api_answers_202_with_a_status_url_for_a_large_portfolio(alice, large):
    api = client_for(alice)
    response = api.get(f"/api/v1/portfolios/{large.pk}/compliance.pdf")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["file_url"] is None
    assert response["Location"] == body["url"] and body["url"].endswith(f"/evidence/{body['id']}")
    again = api.get(f"/api/v1/portfolios/{large.pk}/compliance.pdf").json()
    assert again["id"] == body["id"]


def test_the_api_file_is_409_until_the_report_is_built(alice, large):
    api = client_for(alice)
    body = api.get(f"/api/v1/portfolios/{large.pk}/compliance.pdf").json()
    early = api.get(f"/api/v1/portfolios/{large.pk}/evidence/{body['id']}.pdf")
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_ready"
    services.evidence_build(body["id"])
    status = api.get(body["url"]).json()
    assert status["status"] == "done" and status["file_url"].endswith(f"/evidence/{body['id']}.pdf")
    assert api.get(status["file_url"]).content.startswith(b"%PDF-")


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")
def test_the_worker_built_pdf_names_each_site_and_its_verdict(tmp_path, large):
    evidence = services.evidence_build(services.evidence_request(large).pk)
    path = tmp_path / "evidence.pdf"
    path.write_bytes(bytes(evidence.content))
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "Compliance report: Shops" in text and "1 of 2 sites fail" in text
    assert "old.example:443 PCI DSS: fail" in text and "good.example:443 PCI DSS: pass" in text


def test_the_pdf_wraps_long_lines_within_the_page_and_keeps_every_word():
    from fpdf import FPDF

    from scanner.compliance_pdf import _wrapped

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=8)
    text = (
        "- ciphersuites (must not): accepts " + ", ".join(f"TLS_SUITE_NUMBER_{n}" for n in range(40)) + " " + "x" * 400
    )
    lines = _wrapped(pdf, text, 150)
    assert len(lines) > 5
    assert all(pdf.get_string_width(line) <= 150 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_a_report_lost_with_its_worker_lets_the_page_ask_again(client, alice, large, settings):
    stuck = services.evidence_request(large)
    ComplianceEvidence.objects.filter(pk=stuck.pk).update(
        created_at=stuck.created_at - timedelta(seconds=settings.SCANNER_RESCAN_TASK_TIME_LIMIT + 120)
    )
    client.force_login(alice)
    page = client.get(reverse("dashboard:portfolio", args=[large.pk])).content.decode()
    assert "was not finished (its worker stopped); generate it again." in page
    assert "data-evidence-button>" in page and "disabled data-evidence-button" not in page
    assert "dashboard/evidence.js" not in page
