"""The portfolio export carries each site's revocation and CAA status from its latest report (issue 21 item 6)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from scanner import services
from scanner.exports import export_rows
from scanner.models import Portfolio, Scan, Site

pytestmark = pytest.mark.django_db


def test_export_rows_carry_revocation_and_caa_status(django_user_model):
    owner = django_user_model.objects.create_user("exporter", password="x-pass-123456")
    portfolio = Portfolio.objects.create(owner=owner, name="certs")
    site = Site.objects.create(owner=owner, hostname="shop.example")
    portfolio.sites.add(site)
    unscanned = Site.objects.create(owner=owner, hostname="new.example")
    portfolio.sites.add(unscanned)
    report = {"status": "done", "certificate": {"revocation": {"status": "revoked"}, "caa": {"status": "none"}}}
    scan = Scan.objects.create(
        site=site,
        status=Scan.Status.DONE,
        security_grade="T",
        score=90,
        seo_score=60,
        finished_at=timezone.now(),
        result=report,
    )
    Site.objects.filter(pk=site.pk).update(last_scan=scan, last_scan_at=scan.requested_at)
    services.site_took_result(scan)

    rows = {row["host"]: row for row in export_rows(portfolio)}
    assert (rows["shop.example"]["revocation"], rows["shop.example"]["caa"]) == ("revoked", "none")
    assert (rows["new.example"]["revocation"], rows["new.example"]["caa"]) == (None, None)
