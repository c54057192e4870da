"""Compliance as a person uses it, in Debian's Chromium with axe-core: choose PCI DSS for a portfolio of lab
sites, read the count and the matrix column, filter the failing sites, read a site's compliance lines and
download the PDF evidence, read back with pdftotext; and a large portfolio's report, built by a real worker
while the page shows its progress."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.axe import assert_accessible
from tests.test_browser import log_in, pytestmark  # noqa: F401 - shared skip marker
from tests.test_browser_flows import fits_phone, page  # noqa: F401 - fixture
from tests.test_compliance_evidence_e2e import evidence_queue, payments, pdf_text, run_worker  # noqa: F401


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")
def test_choose_pci_dss_read_the_counts_and_download_the_pdf(
    live_server,
    lab,
    lab_settings,
    django_user_model,
    page,  # noqa: F811 - the fixture imported above
    tmp_path,
    screenshot_dir,
):
    from playwright.sync_api import expect

    lab_settings.CELERY_TASK_ALWAYS_EAGER = True  # no worker: the scans run inside the button's request
    lab_settings.SCANNER_RESCAN_MIN_INTERVAL = 0
    django_user_model.objects.create_user("pia", password="pia-pass-123")
    good, legacy = lab.case("good"), lab.case("legacy")
    log_in(page, live_server.url, "pia", "pia-pass-123")

    page.get_by_role("link", name="Portfolios").click()
    page.get_by_label("Portfolio name").fill("Payments")
    page.get_by_role("button", name="Create").click()
    page.get_by_label("Sites", exact=True).fill(
        f"{good.hostname},{good.https_port}\n{legacy.hostname},{legacy.https_port}"
    )
    page.get_by_role("button", name="Import").click()
    page.get_by_role("button", name="Scan portfolio now").click()
    expect(page.get_by_text("2 scans queued.")).to_be_visible()

    page.get_by_label("PCI DSS v4.0.1 requirement 4.2.1 (strong cryptography) 4.0.1").check()
    page.get_by_role("button", name="Save profiles").click()
    expect(page.get_by_text("Compliance profiles saved.")).to_be_visible()
    expect(page.get_by_role("link", name="1 of 2 sites fails PCI DSS")).to_be_visible()
    expect(page.get_by_role("columnheader", name="PCI DSS")).to_be_visible()
    assert_accessible(page, "portfolio with a compliance column")
    page.locator("#compliance-heading").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "compliance.png"), full_page=True)
    fits_phone(page)

    page.get_by_role("link", name="1 of 2 sites fails PCI DSS").click()
    expect(page.get_by_role("link", name=legacy.hostname, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=good.hostname, exact=True)).to_have_count(0)

    page.get_by_role("link", name=legacy.hostname, exact=True).click()
    pci_line = page.locator('[data-profile="pci-dss-4.0.1"]')
    expect(pci_line).to_contain_text("fail: 4.2.1 secure versions")
    assert_accessible(page, "report with compliance")
    page.locator("#compliance-heading").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "compliance-report.png"))

    page.go_back()
    page.go_back()
    with page.expect_download() as download:
        page.get_by_role("link", name="Compliance report (PDF)").click()
    path = tmp_path / "evidence.pdf"
    download.value.save_as(path)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Compliance report: Payments" in text
    assert "1 of 2 sites fail" in text
    assert f"{legacy.hostname}:{legacy.https_port} PCI DSS: fail" in " ".join(text.split())


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")
def test_a_large_portfolio_report_shows_its_progress_then_downloads(
    live_server,
    django_user_model,
    evidence_queue,  # noqa: F811 - the fixture imported above
    page,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    from playwright.sync_api import expect

    owner = django_user_model.objects.create_user("ada", password="ada-pass-123")
    portfolio = payments(owner)
    log_in(page, live_server.url, "ada", "ada-pass-123")
    page.goto(f"{live_server.url}/portfolios/{portfolio.pk}/")

    # No worker yet: the report waits in the queue and the page says so.
    page.get_by_role("button", name="Generate the compliance report (PDF)").click()
    expect(page.get_by_text("Building the compliance report: 0 of 3 sites evaluated.")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Progress of the compliance report")).to_be_visible()
    expect(page.get_by_role("button", name="Generate the compliance report (PDF)")).to_be_disabled()
    assert_accessible(page, "portfolio with a compliance report being built")

    # A worker starts: the page, polling, offers the download without a reload.
    with run_worker(evidence_queue):
        link = page.get_by_role("link", name="Download the compliance report (PDF)")
        expect(link).to_be_visible(timeout=60_000)
    with page.expect_download() as download:
        link.click()
    path = tmp_path / "evidence.pdf"
    download.value.save_as(path)
    text = pdf_text(path)
    assert "Compliance report: Payments" in text and "1 of 3 sites fail" in text
    assert "old.example:443 PCI DSS: fail" in text
