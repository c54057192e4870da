"""The dashboard in real headless Chromium (Debian's package, no browser download): log in, submit two lab
hosts, see them finish on the overview, read the reports. Screenshots go to a temporary directory, or to
$SCREENSHOT_DIR when bin/screenshots regenerates the README's pictures."""

from __future__ import annotations

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread, which makes Django's ORM refuse to run here.
# The ORM calls below are plain test setup, so the guard is lifted for this module.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.conftest import CHROMIUM

# Submitting runs both scans inside the request (eager Celery), so pages may take several seconds.
PAGE_TIMEOUT_MS = 120_000

pytestmark = pytest.mark.skipif(
    not shutil.which(CHROMIUM),
    reason=f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)",
)


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()


def lab_entry(case) -> str:
    """What a user would type; the port is only needed when the lab could not bind 443 (not root)."""
    return case.hostname if case.https_port == 443 else f"{case.hostname}:{case.https_port}"


@pytest.mark.django_db(transaction=True)  # the scans are enqueued on commit, which a wrapping transaction would stop
def test_submit_two_lab_hosts_and_read_their_reports(
    live_server, lab, lab_settings, django_user_model, browser_page, screenshot_dir
):
    from playwright.sync_api import expect

    lab_settings.CELERY_TASK_ALWAYS_EAGER = True  # no worker: scans run in the live server thread
    lab_settings.SCANNER_RESCAN_MIN_INTERVAL = 0
    django_user_model.objects.create_user("dana", password="dana-pass-123")
    good, expired = lab.case("good"), lab.case("expired")
    page = browser_page

    # Anonymous visitors land on the login form; logging in returns to the overview.
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill("dana-pass-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your sites")).to_be_visible()
    expect(page.get_by_text("No sites yet")).to_be_visible()

    page.get_by_role("link", name="Add your first domain").click()
    page.get_by_label("Domains").fill(f"{lab_entry(good)}\n{lab_entry(expired)}")
    page.get_by_role("button", name="Scan").click()

    expect(page.get_by_text("2 domains queued for scanning.")).to_be_visible()
    for case in (good, expired):
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=case.hostname))
        expect(row.locator("[data-site-status]")).to_have_text("done")
    expect(page.locator("#progress")).to_have_count(0)
    good_row = page.get_by_role("row").filter(has=page.get_by_role("link", name=good.hostname))
    expect(good_row.locator(".badge")).to_have_text("A+")
    page.screenshot(path=str(screenshot_dir / "overview.png"), full_page=True)

    page.get_by_role("link", name=good.hostname).click()
    expect(page.get_by_role("heading", name=good.hostname)).to_be_visible()
    expect(page.get_by_test_id("security-grade")).to_have_text("A+")
    expect(page.get_by_role("rowheader", name="TLSv1.3", exact=True)).to_be_visible()

    page.get_by_role("link", name="Sites").click()
    page.get_by_role("link", name=expired.hostname).click()
    expect(page.get_by_test_id("security-grade")).to_have_text("T")
    remediation = page.locator(".remediation").first
    expect(remediation).to_be_visible()
    expect(remediation).to_contain_text("How to fix:")
    assert len(remediation.inner_text().strip()) > len("How to fix:") + 10
    page.screenshot(path=str(screenshot_dir / "report-expired.png"), full_page=True)

    # Keyboard: the skip link is the first stop and takes focus to the main content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # The click only starts the navigation: keys pressed before the next page has loaded go to the old one.
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_a_running_scan_updates_in_place_and_ends_on_its_grade(live_server, django_user_model, browser_page):
    """progress.js: the status cell follows the scan without a manual reload, then the grade appears."""
    from playwright.sync_api import expect

    from scanner import services
    from scanner.models import Scan, Site

    user = django_user_model.objects.create_user("erin", password="erin-pass-123")
    site = Site.objects.create(owner=user, hostname="pending.example")
    scan = Scan.objects.create(site=site, status=Scan.Status.QUEUED)
    Site.objects.filter(pk=site.pk).update(last_scan=scan, last_scan_at=scan.requested_at)  # as services records it
    page = browser_page
    page.set_default_timeout(20_000)
    log_in(page, live_server.url, "erin", "erin-pass-123")

    status = page.locator(f'[data-site-status="{site.pk}"]')
    expect(status).to_have_text("queued")
    expect(page.locator("#progress")).to_be_visible()

    # Stand in for the worker: the page must notice each change by polling.
    Scan.objects.filter(pk=scan.pk).update(status=Scan.Status.RUNNING)
    expect(status).to_have_text("running")
    Scan.objects.filter(pk=scan.pk).update(status=Scan.Status.DONE, security_grade="B", score=70)
    services.site_took_result(Scan.objects.get(pk=scan.pk))
    expect(status).to_have_text("done")
    expect(page.locator("#progress")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="pending.example").locator(".badge")).to_have_text("B")


@pytest.mark.django_db(transaction=True)
def test_overview_is_usable_at_phone_width(live_server, django_user_model, browser_page):
    from playwright.sync_api import expect

    django_user_model.objects.create_user("finn", password="finn-pass-123")
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, live_server.url, "finn", "finn-pass-123")
    expect(page.get_by_role("heading", name="Your sites")).to_be_visible()
    # Nothing may force the page wider than the phone (tables scroll inside their own box instead).
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.django_db(transaction=True)
def test_a_queued_channel_test_shows_its_result_when_the_worker_records_it(
    live_server, django_user_model, settings, browser_page
):
    """channel-test.js: "Send test" is queued (the real broker; no worker here), the row says sending…, and the
    outcome appears without a reload once the worker (here: its task, called directly) records it."""
    from playwright.sync_api import expect

    from scanner import services, tasks
    from scanner.models import Channel
    from tests.receivers import Receiver

    settings.SCANNER_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    user = django_user_model.objects.create_user("fay", password="fay-pass-123")
    with Receiver(statuses=[404]) as hook:
        channel = services.channel_create(owner=user, kind="slack", target=hook.url, name="#ops")
        page = browser_page
        page.set_default_timeout(20_000)
        log_in(page, live_server.url, "fay", "fay-pass-123")
        page.goto(live_server.url + "/channels/")
        page.get_by_role("button", name="Send test to #ops").click()
        cell = page.locator(f'[data-channel-test="{channel.pk}"]')
        expect(cell).to_have_text("sending…")
        assert Channel.objects.get(pk=channel.pk).test_pending and not hook.requests

        tasks.send_channel_test(channel.pk)  # what the worker does with the message
        expect(cell).to_contain_text("failed: the receiver answered HTTP 404")
