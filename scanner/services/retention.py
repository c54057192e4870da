"""Retention: old scans keep their summary and findings but drop the report document."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from scanner import config
from scanner.models import Scan, Site
from scanner.services.scan_documents import scan_documents_forget


def prune_old_reports(*, older_than_days: int | None = None, batch_size: int = 500, now: datetime | None = None) -> int:
    """Drop the full report document of finished scans older than the retention window, in batches.

    The scan row (grades, scores, times, error) and its findings stay, so history, trends and "which sites had
    finding X" keep working; only the JSON document (most of the bytes) goes. A site's latest result keeps its
    document whatever its age: the site page shows it. Returns how many documents were dropped.
    """
    days = config.report_retention_days() if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    current = Site.objects.filter(latest_scan__isnull=False).values("latest_scan_id")
    dropped = 0
    while True:
        with transaction.atomic():
            batch = list(
                Scan.objects.filter(finished_at__lt=cutoff, result__isnull=False)
                .exclude(status__in=Scan.ACTIVE_STATUSES)
                .exclude(pk__in=current)
                .order_by("finished_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                return dropped
            dropped += Scan.objects.filter(pk__in=batch).update(result=None)
            scan_documents_forget(batch)
