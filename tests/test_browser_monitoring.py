"""Monitoring in Chromium: a matrix cell's reason is reached and opened with the keyboard alone."""

from __future__ import annotations

import os

import pytest

from tests.axe import assert_accessible
from tests.test_browser import CHROMIUM, log_in, pytestmark  # noqa: F401 - shared skip marker
from tests.test_browser_flows import page  # noqa: F401 - fixture

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.django_db(transaction=True)
def test_keyboard_reaches_and_opens_a_matrix_cells_reason(live_server, django_user_model, page):  # noqa: F811
    from playwright.sync_api import expect

    from scanner.models import Finding, Portfolio, Scan, Site
    from scanner.services import site_took_result

    user = django_user_model.objects.create_user("mo", password="mo-pass-123")
    portfolio = Portfolio.objects.create(owner=user, name="Client A")
    site = Site.objects.create(owner=user, hostname="mixed.example")
    scan = Scan.objects.create(
        site=site, status=Scan.Status.DONE, security_grade="A", score=90, result={"content": {"page_fetched": True}}
    )
    title = "The HTTPS page loads scripts, styles or frames over HTTP"
    Finding.objects.create(scan=scan, site=site, finding_id="content.mixed.active", severity="high", title=title)
    site_took_result(scan)
    portfolio.sites.add(site)
    page.set_default_timeout(20_000)
    log_in(page, live_server.url, "mo", "mo-pass-123")
    page.goto(f"{live_server.url}/portfolios/{portfolio.pk}/")

    reason = page.get_by_text(title)
    expect(reason).to_be_hidden()
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.cell-fail summary')"):
            break
    focused = page.locator(":focus")
    expect(focused).to_contain_text("fail")
    expect(focused).to_contain_text("Mixed content of mixed.example, why")
    page.keyboard.press("Enter")
    expect(reason).to_be_visible()
    assert_accessible(page, "portfolio matrix with a cell's reason open")


PHONE = {"width": 375, "height": 740}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case_name", ["legacy", "good"])
def test_a_lab_report_fits_a_375_px_phone(live_server, lab, lab_settings, django_user_model, page, case_name):  # noqa: F811
    from scanner import services

    user = django_user_model.objects.create_user("pat", password="pat-pass-123")
    case = lab.case(case_name)
    scan, _ = services.submit_scan(user, case.hostname, port=case.https_port, http_port=case.http_port)
    scan = services.execute_scan(scan.pk)
    page.set_default_timeout(20_000)
    log_in(page, live_server.url, "pat", "pat-pass-123")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/sites/{scan.site_id}/")
    page.wait_for_load_state()
    # Text overflowing its box widens the page without any element's box doing so: name the boxes whose
    # content is wider than they are (tables inside .table-wrap scroll there, which is allowed).
    too_wide = page.evaluate(
        "() => [...document.querySelectorAll('main *')].filter(e => e.scrollWidth > e.clientWidth + 1"
        " && getComputedStyle(e).overflowX === 'visible' && !e.closest('.table-wrap') && e.clientWidth)"
        ".map(e => e.tagName + '.' + e.className + ': ' + e.textContent.trim().slice(0, 60)).slice(0, 5)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], too_wide


@pytest.mark.django_db(transaction=True)
def test_live_progress_redraws_the_triage_counts_and_grade_mix_when_a_scan_ends(live_server, django_user_model, page):  # noqa: F811
    from playwright.sync_api import expect

    from scanner import services
    from scanner.models import Scan, Site

    user = django_user_model.objects.create_user("liv", password="liv-pass-123")
    scans = []
    for host in ("one.example", "two.example"):
        site = Site.objects.create(owner=user, hostname=host)
        scan = Scan.objects.create(site=site, status=Scan.Status.RUNNING)
        Site.objects.filter(pk=site.pk).update(last_scan=scan, last_scan_at=scan.requested_at)
        scans.append(scan)
    page.set_default_timeout(20_000)
    log_in(page, live_server.url, "liv", "liv-pass-123")
    graded_failing = page.locator("#live-summary li").filter(has_text="graded F/T/M").locator(".triage-number")
    expect(graded_failing).to_have_text("0")
    expect(page.locator("#live-summary .distribution")).to_contain_text("Not graded")

    Scan.objects.filter(pk=scans[0].pk).update(status=Scan.Status.DONE, security_grade="F", score=10)
    services.site_took_result(Scan.objects.get(pk=scans[0].pk))
    expect(graded_failing).to_have_text("1")
    expect(page.locator("#live-summary .distribution a", has_text="F")).to_be_visible()
    assert_accessible(page, "overview after a live summary update")
