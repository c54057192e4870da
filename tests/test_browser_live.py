"""Live progress in Chromium with a real Celery worker (not eager): lab sites are added and scanned, and the page
left open redraws each row (grade, top issue, SEO, web security, expiry, matrix cells), the triage cards, the grade
mix and the compliance counts as scans end, without being reloaded."""

from __future__ import annotations

import os
import re

import pytest

from tests.test_browser import CHROMIUM, lab_entry, log_in, pytestmark  # noqa: F401 - shared skip marker
from tests.test_browser_flows import page  # noqa: F401 - fixture
from tests.test_tasks_e2e import service_settings, worker  # noqa: F401 - fixtures

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# A reload would reset this marker: the assertions below only hold if the page updated itself.
MARK = "window.__drawnOnce = 'yes'"
STILL_THE_SAME_PAGE = "window.__drawnOnce"


def row_of(page, hostname: str):  # noqa: F811 - the fixture's page, passed in
    return page.locator("tr", has=page.get_by_role("link", name=hostname, exact=True))


@pytest.mark.django_db(transaction=True)
def test_the_overview_redraws_a_rows_seo_expiry_and_top_issue_when_its_scan_ends(
    live_server,
    lab,
    worker,  # noqa: F811
    django_user_model,
    page,  # noqa: F811
):
    from playwright.sync_api import expect

    django_user_model.objects.create_user("olga", password="olga-pass-123")
    good, legacy = lab.case("good"), lab.case("legacy")
    log_in(page, live_server.url, "olga", "olga-pass-123")
    page.goto(live_server.url + "/submit/")
    page.get_by_label("Domains").fill(f"{lab_entry(good)}\n{lab_entry(legacy)}")
    page.get_by_role("button", name="Scan").click()
    expect(page.get_by_text("2 domains queued for scanning.")).to_be_visible()
    expect(page.locator("#progress")).to_be_visible()
    page.evaluate(MARK)

    for case in (good, legacy):
        expect(row_of(page, case.hostname).locator("[data-site-status]")).to_have_text("done")
    expect(page.locator("#progress")).to_have_count(0)
    good_row, legacy_row = row_of(page, good.hostname), row_of(page, legacy.hostname)
    expect(good_row.locator(".badge")).to_have_text("A+")
    cells = good_row.locator("td")
    expect(cells.nth(2)).to_have_text(re.compile(r"^\d+$"))  # SEO score
    expect(cells.nth(3)).not_to_have_text("–")  # web security grade
    expect(cells.nth(4)).to_have_text(re.compile(r"in \d+ days"))  # certificate expiry
    expect(legacy_row.locator(".top-issue")).to_contain_text("caps at")
    expect(page.locator("#live-summary .distribution")).not_to_contain_text("Not graded")
    assert page.evaluate(STILL_THE_SAME_PAGE) == "yes"


@pytest.mark.django_db(transaction=True)
def test_a_portfolio_page_redraws_rows_matrix_cards_grade_mix_and_compliance_as_a_worker_scans(
    live_server,
    lab,
    worker,  # noqa: F811
    django_user_model,
    page,  # noqa: F811
):
    from playwright.sync_api import expect

    django_user_model.objects.create_user("pia", password="pia-pass-123")
    expired, mixed, legacy = lab.case("expired"), lab.case("mixedactive"), lab.case("legacy")
    log_in(page, live_server.url, "pia", "pia-pass-123")
    page.get_by_role("link", name="Portfolios").click()
    page.get_by_label("Portfolio name").fill("Agency")
    page.get_by_role("button", name="Create").click()
    lines = ["host,port,tags"] + [f"{case.hostname},{case.https_port},client" for case in (expired, mixed, legacy)]
    page.get_by_label("Sites", exact=True).fill("\n".join(lines))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("3 added, 0 already in the portfolio.")).to_be_visible()
    never = page.locator("#live-summary li").filter(has_text="never scanned").locator(".triage-number")
    expect(never).to_have_text("3")
    page.get_by_label("PCI DSS v4.0.1 requirement 4.2.1 (strong cryptography) 4.0.1").check()
    page.get_by_role("button", name="Save profiles").click()
    compliance = page.get_by_test_id("compliance-counts")
    expect(compliance).to_contain_text("of 0 sites")

    page.get_by_role("button", name="Scan portfolio now").click()
    expect(page.locator("#progress")).to_be_visible()
    page.evaluate(MARK)

    for case in (expired, mixed, legacy):
        expect(row_of(page, case.hostname).locator("[data-site-status]")).to_have_text("done")
    expect(page.locator("#progress")).to_have_count(0)
    expect(row_of(page, expired.hostname).locator(".badge")).to_have_text("T")
    expect(row_of(page, expired.hostname).locator("td").nth(-2)).to_contain_text("expired")
    mixed_cell = (
        row_of(page, mixed.hostname)
        .locator("td.cell", has_text="fail")
        .filter(has=page.get_by_text("Mixed content of", exact=False))
    )
    expect(mixed_cell).to_have_count(1)
    expect(never).to_have_text("0")
    graded = page.locator("#live-summary li").filter(has_text="graded F/T/M").locator(".triage-number")
    expect(graded).to_have_text("1")
    expect(page.locator("#live-summary .distribution")).not_to_contain_text("Not graded")
    expect(compliance).to_contain_text("of 3 sites")
    assert page.evaluate(STILL_THE_SAME_PAGE) == "yes"
