"""Celery tasks: load by id, call a service. The database row, not the result backend, holds the status."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError

from scanner import services


@shared_task(
    bind=True,
    # Acknowledged only when finished, and requeued if the worker process dies: a killed worker's scan
    # is redelivered and run again (services.execute_scan re-runs a scan it finds 'running').
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    # A database that is briefly unreachable (restart, failover) should delay the scan, not lose it.
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    max_retries=5,
)
def run_scan(self, scan_id: int) -> str | None:
    try:
        scan = services.execute_scan(scan_id)
    except SoftTimeLimitExceeded:
        # The limit hit outside the engine call (e.g. while storing): still leave a clear reason behind.
        scan = services.fail_scan(
            scan_id, f"The scan exceeded {settings.CELERY_TASK_SOFT_TIME_LIMIT} s and was stopped."
        )
    return scan.status if scan is not None else None
