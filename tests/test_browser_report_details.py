"""The report's per-server remediation lists and protocol details in Chromium: they open without script (the
CSP forbids inline scripts), fit a 375 px phone when open, and pass axe-core."""

from __future__ import annotations

import os

import pytest

from scanner.grading.policy import finding
from tests.test_browser import log_in, pytestmark  # noqa: F401 - shared skip marker
from tests.test_browser_flows import fits_phone, page  # noqa: F401 - fixture and the phone check
from tests.test_site_report import document, site_with

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.django_db(transaction=True)
def test_open_server_fixes_and_protocol_details_fit_a_phone(live_server, django_user_model, page):  # noqa: F811
    alice = django_user_model.objects.create_user("alice", password="alice-pass-123")
    findings = [finding(finding_id, "seen").to_dict() for finding_id in ("tls.protocol.tls1_0", "hsts.missing")]
    resumption = {
        "session_ids": "partly",
        "session_ids_resumed": 1,
        "session_ids_attempted": 2,
        "tickets": "yes",
        "tickets_resumed": 2,
        "tickets_attempted": 2,
    }
    site = site_with(alice, document(findings=findings, alpn=["h2", "http/1.1"], session_resumption=resumption))
    log_in(page, live_server.url, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/sites/{site.pk}/")

    summaries = page.locator(".server-fixes summary")
    assert summaries.count() == 2
    for index in range(2):
        summaries.nth(index).click()  # <details> opens natively: no script involved
    iis = page.locator(".server-fixes dt", has_text="Microsoft IIS").first
    assert iis.is_visible()
    assert page.locator(".protocol-details dd", has_text="Partly (1 of 2 attempts resumed)").is_visible()
    fits_phone(page)
