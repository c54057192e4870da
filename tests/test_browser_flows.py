"""The issue's flows as a person does them, in Debian's Chromium, with axe-core checking every page
(zero serious or critical violations), at 1280 px and 375 px.

- sign up with an e-mail, confirm it from the message, add a Slack channel pointed at a local receiver and
  press "Send test";
- create a portfolio, import a CSV with tags, scan it from the button, filter by tag, read a full report,
  share it and open the public link logged out, then delete a site;
- a row's grade appears when its own scan ends while another row is still running.
"""

from __future__ import annotations

import json
import os
import re

import pytest
from django.core import mail

from tests.axe import assert_accessible
from tests.receivers import Receiver
from tests.test_browser import CHROMIUM, lab_entry, log_in, pytestmark  # noqa: F401 - shared skip marker

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 375, "height": 740}


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=WIDE)
    tab = context.new_page()
    tab.set_default_timeout(120_000)
    yield tab
    context.close()


def fits_phone(page) -> None:
    """At 375 px the page itself never scrolls sideways (wide tables scroll inside their own box)."""
    page.set_viewport_size(PHONE)
    wide = page.evaluate(
        "(limit) => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > limit + 1"
        " && !e.closest('.table-wrap')).slice(0, 5).map(e => e.tagName + '.' + e.className)",
        PHONE["width"],
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{page.url}: {wide}"
    assert_accessible(page, page.url + " at 375 px")
    page.set_viewport_size(WIDE)


def hosts_never_break_mid_word(page) -> None:
    broken = page.evaluate(
        "() => [...document.querySelectorAll('.host')].filter(e => e.getClientRects().length > 1"
        " || e.getBoundingClientRect().height > 2 * parseFloat(getComputedStyle(e).lineHeight || 20)).length"
    )
    assert broken == 0


@pytest.mark.django_db(transaction=True)
def test_sign_up_with_email_then_send_a_test_to_slack(live_server, settings, page, screenshot_dir):
    from playwright.sync_api import expect

    settings.SCANNER_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the receiver below listens on loopback
    settings.SCANNER_PUBLIC_URL = live_server.url  # links in mails start with it
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no worker: the queued "Send test" runs as soon as it is queued
    page.set_default_timeout(20_000)
    page.goto(live_server.url + "/signup/")
    assert_accessible(page, "signup")
    page.get_by_label("Username").fill("hana")
    page.get_by_label("E-mail for alerts").fill("hana@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-pass-123")
    page.get_by_label("Password confirmation").fill("a-long-pass-123")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("We sent a confirmation link to hana@example.com")).to_be_visible()

    [message] = mail.outbox
    link = re.search(r"https?://\S+/verify-email/\S+|/verify-email/\S+", message.body).group(0)
    page.goto(link if link.startswith("http") else live_server.url + link)
    expect(page.get_by_text("hana@example.com is confirmed")).to_be_visible()
    assert_accessible(page, "verify e-mail")

    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_text("confirmed")).to_be_visible()
    assert_accessible(page, "settings")

    with Receiver() as slack:
        page.get_by_role("link", name="Channels").click()
        page.get_by_label("Kind").select_option("slack")
        page.get_by_label("E-mail address or webhook URL").fill(slack.url)
        page.get_by_label("Name (optional)").fill("#ops")
        page.get_by_role("button", name="Add channel").click()
        expect(page.get_by_text("Channel added.")).to_be_visible()
        page.get_by_role("button", name="Send test to #ops").click()
        expect(page.get_by_text("Test queued for #ops")).to_be_visible()
        expect(page.locator("[data-channel-test]").filter(has_text="sent")).to_be_visible()
        body = json.loads(slack.requests[0][1])
    assert "Test notification" in body["text"]
    assert body["blocks"][0]["type"] == "header"
    assert_accessible(page, "channels")
    page.screenshot(path=str(screenshot_dir / "channels.png"), full_page=True)

    page.get_by_role("link", name="Alerts").first.click()
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()
    assert_accessible(page, "alerts")
    fits_phone(page)


@pytest.mark.django_db(transaction=True)
def test_import_a_portfolio_scan_it_filter_read_share_and_delete(
    live_server, lab, lab_settings, django_user_model, browser, page, screenshot_dir
):
    from playwright.sync_api import expect

    lab_settings.CELERY_TASK_ALWAYS_EAGER = True  # no worker: the scans run inside the button's request
    lab_settings.SCANNER_RESCAN_MIN_INTERVAL = 0
    django_user_model.objects.create_user("ines", password="ines-pass-123")
    good, expired, loop = lab.case("good"), lab.case("expired"), lab.case("loop")
    log_in(page, live_server.url, "ines", "ines-pass-123")

    page.get_by_role("link", name="Portfolios").click()
    page.get_by_label("Portfolio name").fill("Client A")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Client A")).to_be_visible()
    csv_text = "\n".join(
        [
            "host,port,tags",
            f"{good.hostname},{good.https_port},shop;prod",
            f"{expired.hostname},{expired.https_port},blog",
            f"{loop.hostname},{loop.https_port},blog",
        ]
    )
    page.get_by_label("Sites", exact=True).fill(csv_text)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("3 added, 0 already in the portfolio.")).to_be_visible()
    assert_accessible(page, "portfolio after import")

    page.get_by_role("button", name="Scan portfolio now").click()
    expect(page.get_by_text("3 scans queued.")).to_be_visible()
    good_row = page.locator("tr", has=page.get_by_role("link", name=good.hostname, exact=True))
    expect(good_row.locator(".badge")).to_have_text("A+")
    expect(good_row.locator(".cell-pass").first).to_be_visible()
    expired_row = page.locator("tr", has=page.get_by_role("link", name=expired.hostname, exact=True))
    expect(expired_row.locator(".cell .cell-word").first).to_have_text("fail")
    assert_accessible(page, "portfolio matrix")
    hosts_never_break_mid_word(page)
    page.screenshot(path=str(screenshot_dir / "portfolio.png"), full_page=True)
    fits_phone(page)

    # The overview filters by the stored tag.
    page.get_by_role("link", name="Sites", exact=True).click()
    page.get_by_label("Tag").select_option("shop")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("link", name=good.hostname, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=expired.hostname, exact=True)).to_have_count(0)
    page.get_by_role("link", name="Clear filters").click()
    assert_accessible(page, "overview")
    hosts_never_break_mid_word(page)
    page.screenshot(path=str(screenshot_dir / "overview.png"), full_page=True)
    fits_phone(page)

    # A redirect loop is said next to the grade, not hidden below a big letter.
    page.get_by_role("link", name=loop.hostname, exact=True).click()
    expect(page.get_by_test_id("attention")).to_contain_text("loop")
    assert_accessible(page, "loop report")

    # The full report of the good host: every section the scan filled.
    page.get_by_role("link", name="Sites", exact=True).click()
    page.get_by_role("link", name=good.hostname, exact=True).click()
    expect(page.get_by_test_id("security-grade")).to_have_text("A+")
    for heading in ("Certificate", "Protocols", "Cipher suites", "Redirects and HSTS", "Score breakdown"):
        expect(page.get_by_role("heading", name=heading, exact=True, level=2)).to_be_visible()
    expect(page.get_by_test_id("trusted")).to_contain_text("yes")
    assert_accessible(page, "full report")
    page.screenshot(path=str(screenshot_dir / "report.png"), full_page=True)
    fits_phone(page)

    # Rescan once so the history chart has two points.
    page.get_by_role("button", name="Rescan now").click()
    expect(page.locator("svg.history-svg .line-score-dot")).to_have_count(2)
    page.locator("#chart-heading").scroll_into_view_if_needed()
    page.locator(".chart-box").screenshot(path=str(screenshot_dir / "history.png"))

    # Share it and open the link logged out.
    page.get_by_role("button", name="Create a share link").click()
    share_url = page.get_by_label("Share link").input_value()
    stranger = browser.new_context(viewport=WIDE)
    public = stranger.new_page()
    public.goto(share_url)
    expect(public.get_by_test_id("security-grade")).to_have_text("A+")
    expect(public.get_by_role("button", name="Rescan now")).to_have_count(0)
    assert_accessible(public, "shared report")
    page.get_by_role("button", name="Revoke the link").click()
    assert public.goto(share_url).status == 404
    stranger.close()

    # Delete a site with its history.
    page.get_by_role("link", name="Sites", exact=True).click()
    page.get_by_role("link", name=expired.hostname, exact=True).click()
    page.get_by_role("link", name="Delete site").click()
    assert_accessible(page, "delete confirmation")
    page.get_by_role("button", name=f"Delete {expired.hostname} and its history").click()
    expect(page.get_by_text(f"{expired.hostname} and its history were deleted.")).to_be_visible()
    expect(page.get_by_role("link", name=expired.hostname, exact=True)).to_have_count(0)


@pytest.mark.django_db(transaction=True)
def test_a_row_shows_its_grade_when_its_own_scan_ends_while_another_still_runs(live_server, django_user_model, page):
    from playwright.sync_api import expect

    from scanner import services
    from scanner.models import Scan, Site

    user = django_user_model.objects.create_user("jo", password="jo-pass-123")
    fast = Site.objects.create(owner=user, hostname="fast.example")
    slow = Site.objects.create(owner=user, hostname="slow.example")
    fast_scan = Scan.objects.create(site=fast, status=Scan.Status.RUNNING)
    slow_scan = Scan.objects.create(site=slow, status=Scan.Status.RUNNING)
    for scan in (fast_scan, slow_scan):
        Site.objects.filter(pk=scan.site_id).update(last_scan=scan, last_scan_at=scan.requested_at)
    page.set_default_timeout(20_000)
    log_in(page, live_server.url, "jo", "jo-pass-123")
    expect(page.locator("#progress")).to_contain_text("2 sites on this page are being scanned")

    Scan.objects.filter(pk=fast_scan.pk).update(status=Scan.Status.DONE, security_grade="A", score=90)
    services.site_took_result(Scan.objects.get(pk=fast_scan.pk))
    expect(page.locator(f'[data-site-status="{fast.pk}"]')).to_have_text("done")
    expect(page.locator(f'[data-site-grade="{fast.pk}"] .badge')).to_have_text("A")
    expect(page.locator(f'[data-site-status="{slow.pk}"]')).to_have_text("running")
    expect(page.locator("#progress")).to_contain_text("1 site on this page is being scanned")
    assert_accessible(page, "overview with a scan running")


@pytest.mark.django_db(transaction=True)
def test_every_grade_badge_has_its_own_colour_with_aa_contrast(live_server, django_user_model, page):
    from scanner import services
    from scanner.models import Scan, Site

    user = django_user_model.objects.create_user("kai", password="kai-pass-123")
    for index, grade in enumerate(("A+", "A", "A-", "B", "C", "D", "E", "F", "T", "M")):
        site = Site.objects.create(owner=user, hostname=f"site{index}.example")
        scan = Scan.objects.create(site=site, status=Scan.Status.DONE, security_grade=grade, score=50)
        services.site_took_result(scan)
    log_in(page, live_server.url, "kai", "kai-pass-123")
    colours = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('table .badge')]"
        ".map(b => [b.textContent.trim(), getComputedStyle(b).backgroundColor]))"
    )
    assert len({colours["A+"], colours["A"], colours["A-"]}) == 3
    assert_accessible(page, "overview with every grade")  # includes colour-contrast for each badge


@pytest.mark.django_db(transaction=True)
def test_keyboard_reaches_the_filters_and_the_skip_link(live_server, django_user_model, page):
    from playwright.sync_api import expect

    from scanner.models import Site

    user = django_user_model.objects.create_user("lou", password="lou-pass-123")
    Site.objects.create(owner=user, hostname="k.example")
    log_in(page, live_server.url, "lou", "lou-pass-123")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_q":
            break
    expect(page.get_by_label("Search")).to_be_focused()
    page.keyboard.type("k.exa")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="k.example")).to_be_visible()
