"""Retention: after SCANNER_REPORT_RETENTION_DAYS a finished scan keeps its summary row and findings but
drops its report document; a site's current result keeps its document whatever its age."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from scanner import services
from scanner.models import Finding, Scan, Site

pytestmark = pytest.mark.django_db


def finished_scan(site: Site, *, days_ago: int) -> Scan:
    finished = timezone.now() - timedelta(days=days_ago)
    scan = Scan.objects.create(
        site=site,
        status="done",
        security_grade="B",
        score=70,
        started_at=finished,
        finished_at=finished,
        result={"host": site.hostname, "tls": {"big": "x" * 1000}},
    )
    Finding.objects.create(scan=scan, site=site, finding_id="hsts.missing", severity="medium")
    return scan


def test_old_scans_drop_their_report_but_keep_summary_and_findings(alice, settings):
    settings.SCANNER_REPORT_RETENTION_DAYS = 90
    site = Site.objects.create(owner=alice, hostname="old.example")
    old, recent, current = (finished_scan(site, days_ago=days) for days in (200, 10, 120))
    Site.objects.filter(pk=site.pk).update(latest_scan=current)

    assert services.prune_old_reports(batch_size=1) == 1  # batches of one: the loop runs until none is left

    old.refresh_from_db()
    assert old.result is None and old.security_grade == "B" and old.score == 70
    assert list(old.findings.values_list("finding_id", flat=True)) == ["hsts.missing"]
    assert Scan.objects.get(pk=recent.pk).result is not None  # inside the window
    assert Scan.objects.get(pk=current.pk).result is not None  # the site's current result, however old


def test_the_prune_task_is_scheduled_on_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["scanner-prune-old-reports"]
    assert entry["task"] == "scanner.tasks.prune_old_reports"
    from scanner.tasks import prune_old_reports

    assert prune_old_reports.name == entry["task"]
