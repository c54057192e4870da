"""Celery tasks: load by id, call a service. The database row, not the result backend, holds the status."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError

from scanner import alerts, services
from scanner.models import Alert


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


@shared_task
def rescan_portfolio(portfolio_id: int) -> int:
    """Scheduled by celery beat (scanner.schedules): queue a scan of every site in the portfolio, in batches."""
    from scanner.models import Portfolio

    portfolio = Portfolio.objects.filter(pk=portfolio_id).first()
    if portfolio is None:
        return 0  # deleted since beat read its schedule
    outcomes = services.submit_portfolio_scans(
        portfolio,
        batch_size=settings.SCANNER_RESCAN_BATCH_SIZE,
        batch_interval=settings.SCANNER_RESCAN_BATCH_INTERVAL,
    )
    return sum(1 for _, scan, _ in outcomes if scan is not None)


@shared_task(
    bind=True,
    # A receiver that is down or answering 5xx gets the alert later: 2, 4, 8, 16, 32 s (capped), then give up.
    autoretry_for=(alerts.WebhookServerError, alerts.WebhookUnreachable),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=False,
    max_retries=5,
)
def deliver_alert(self, alert_id: int) -> str:
    alert = Alert.objects.select_related("site__owner").filter(pk=alert_id).first()
    if alert is None or alert.delivered_at is not None:
        return "skipped"
    if self.request.retries == 0:
        try:
            alerts.email_alert(alert)  # once; only the webhooks are retried
        except Exception as exc:  # noqa: BLE001 - a broken mail setup must not stop the webhooks
            alerts.mark_failed(alert, exc)
    try:
        alerts.deliver_webhooks(alert)
    except alerts.WebhookRefused as exc:
        alerts.mark_refused(alert, exc)  # not raised: the policy will refuse it again on every retry
        return "refused"
    except Exception as exc:
        alerts.mark_failed(alert, exc)
        raise
    alerts.mark_delivered(alert)
    return "delivered"
