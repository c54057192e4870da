"""Every page of the dashboard at 375 px in Chromium: the page never scrolls sideways and no element reaches past
the viewport (wide tables scroll inside their own .table-wrap box, which is allowed). The pages hold real lab
reports, real alerts and the longest names a user can give, and the test checks it walked every page route."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from tests.test_browser import CHROMIUM, log_in, pytestmark  # noqa: F401 - shared skip marker

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PHONE = {"width": 375, "height": 740}
# Dashboard routes that are not pages: form actions (POST only), JSON polled by scripts, downloads.
NOT_PAGES = {
    "rescan": "POST",
    "toggle_badge": "POST",
    "toggle_share": "POST",
    "toggle_mute": "POST",
    "portfolio_schedule": "POST",
    "portfolio_import": "POST (its answer is the portfolio page, measured there)",
    "portfolio_scan": "POST",
    "portfolio_channels": "POST",
    "portfolio_export": "a CSV/JSON download",
    "portfolio_compliance": "POST",
    "portfolio_evidence": "a CSV download",
    "evidence_generate": "POST",
    "evidence_status": "JSON",
    "evidence_download": "a PDF download",
    "acknowledge_alert": "POST",
    "test_channel": "POST",
    "channel_test_status": "JSON",
    "resend_verification": "POST",
    "delete_channel": "POST",
    "channel_digest": "POST",
    "token_revoke": "POST",
    "scan_status": "JSON",
    "bulk_operation_status": "JSON polled by the operation's page",
    "summary": "a fragment of the overview and portfolio pages, measured there",
}
# The widest a user can make a name: a 63-character DNS label, a 32-character tag, a 100-character name.
LONG_HOST = "a-very-long-subdomain-label-that-uses-all-sixty-three-character.example"
LONG_TAG = "client-with-a-very-long-tag-name"
LONG_NAME = "An agency client whose portfolio name is long enough to wrap on any phone at all, yes 100"

OVERFLOW = """(limit) => {
  const outside = [...document.querySelectorAll('body *')].filter(e => !e.closest('.table-wrap')
    && e.getClientRects().length && e.getBoundingClientRect().right > limit + 1);
  const spilling = [...document.querySelectorAll('body *')].filter(e => !e.closest('.table-wrap')
    && e.clientWidth && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible');
  return {
    width: document.documentElement.scrollWidth,
    culprits: [...outside, ...spilling].slice(0, 4).map(e => e.tagName.toLowerCase()
      + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().replace(/\\s+/g, '.') : '')
      + ' "' + e.textContent.replace(/\\s+/g, ' ').trim().slice(0, 40) + '"'),
  };
}"""


def measure(page, url: str) -> list[str]:
    """What overflows `url` at 375 px, as readable lines (empty when it fits)."""
    response = page.goto(url)
    assert response is not None and response.status < 500, f"{url}: {response and response.status}"
    page.wait_for_load_state("networkidle")
    found = page.evaluate(OVERFLOW, PHONE["width"])
    if found["width"] <= PHONE["width"] and not found["culprits"]:
        return []
    return [f"{urlsplit(url).path} is {found['width']} px wide: {'; '.join(found['culprits'])}"]


@pytest.mark.django_db(transaction=True)
def test_every_dashboard_page_fits_a_375_px_phone(live_server, lab, lab_settings, django_user_model, browser):
    from django.urls import resolve

    from scanner import services
    from scanner.imports import import_sites
    from scanner.models import Alert, BulkOperation, Channel, Scan, Site
    from webui.api.tokens import token_create
    from webui.dashboard import urls as dashboard_urls

    lab_settings.CELERY_TASK_ALWAYS_EAGER = True  # the scans run as they are submitted, in this thread
    lab_settings.SCANNER_RESCAN_MIN_INTERVAL = 0
    user = django_user_model.objects.create_user("phone", email="phone@example.com", password="phone-pass-123")
    sites = {}
    for name in ("legacy", "expired", "mixedactive"):
        case = lab.case(name)
        services.submit_scan(user, case.hostname, port=case.https_port, http_port=case.http_port)
        sites[name] = Site.objects.get(owner=user, hostname=case.hostname)
    long_site = Site.objects.create(owner=user, hostname=LONG_HOST)
    failed = Scan.objects.create(site=long_site, status=Scan.Status.FAILED, error="Connection refused by " + LONG_HOST)
    Site.objects.filter(pk=long_site.pk).update(last_scan=failed, last_scan_at=failed.requested_at)
    portfolio = services.portfolio_create(owner=user, name=LONG_NAME)
    for site in sites.values():
        portfolio.sites.add(site)
    import_sites(user, portfolio, f"{LONG_HOST},443,{LONG_TAG}")
    services.portfolio_set_compliance_profiles(portfolio, profiles=["pci-dss-4.0.1"])
    Channel.objects.create(
        owner=user,
        kind=Channel.Kind.SLACK,
        name=LONG_NAME,
        target="https://hooks.slack.com/services/T0000000000/B0000000000/" + "x" * 60,
    )
    Channel.objects.create(
        owner=user, kind=Channel.Kind.WEBHOOK, target="https://" + LONG_HOST + "/hooks/scanner-alerts"
    )
    token_create(user=user, name=LONG_NAME[:50])
    services.site_share(sites["legacy"], enabled=True)
    assert Alert.objects.filter(site__owner=user).exists()  # the expired site's first scan alerted
    # A finished import with long failed lines, as the worker leaves one (its page lists the failures).
    operation = BulkOperation.objects.create(
        kind=BulkOperation.Kind.IMPORT,
        portfolio=portfolio,
        owner=user,
        state=BulkOperation.State.DONE,
        total=40,
        done=40,
        failed=1,
        errors=[{"item": "line 3", "reason": f"{LONG_HOST}{LONG_HOST}: not a valid host name"}],
    )

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(60_000)
    base = live_server.url
    try:
        public = [
            f"{base}/accounts/login/",
            f"{base}/signup/",
            f"{base}/r/{sites['legacy'].share_token}/",
            f"{base}/verify-email/not-a-token/",
            f"{base}/no-such-page/",
        ]
        problems = [line for url in public for line in measure(page, url)]
        log_in(page, base, "phone", "phone-pass-123")
        pages = [
            f"{base}/",
            f"{base}/?sort=name",
            f"{base}/submit/",
            f"{base}/portfolios/",
            f"{base}/portfolios/{portfolio.pk}/",
            f"{base}/portfolios/{portfolio.pk}/operations/{operation.pk}/",
            f"{base}/alerts/",
            f"{base}/channels/",
            f"{base}/settings/",
            f"{base}/tokens/",
            f"{base}/api/docs/",
        ]
        for site in (*sites.values(), long_site):
            pages += [
                f"{base}/sites/{site.pk}/",
                f"{base}/sites/{site.pk}/?history=all",
                f"{base}/sites/{site.pk}/delete/",
            ]
        problems += [line for url in pages for line in measure(page, url)]
    finally:
        context.close()

    walked = {resolve(urlsplit(url).path).url_name for url in public + pages if "no-such-page" not in url}
    routes = {pattern.name for pattern in dashboard_urls.urlpatterns}
    assert routes - set(NOT_PAGES) - walked == set(), "dashboard pages this test does not measure"
    assert problems == [], "\n".join(problems)
