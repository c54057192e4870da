"""Celery tasks: load by id, call a service. The database row, not the result backend, holds the status."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_received
from django.db import OperationalError

from scanner import config, notifications, services


@shared_task(
    bind=True,
    # Acknowledged only when finished, and requeued at once if its pool child dies. If the whole worker
    # dies, the reaper (services.reap_stale_scans) requeues the scan when its heartbeat stops.
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=config.task_soft_time_limit(),
    time_limit=config.task_time_limit(),
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
            scan_id, f"The scan exceeded {config.task_soft_time_limit()} s and was stopped."
        )
    return scan.status if scan is not None else None


@task_received.connect
def note_reservation(sender=None, request=None, **_):
    """In the worker node's main process, as a scan's message arrives (prefetched or about to run): remember
    which node holds it, so a node that dies with it does not leave the scan waiting for the broker's
    visibility timeout (services.reap_stale_scans)."""
    if request is None or request.name != run_scan.name or not request.args:
        return
    try:
        services.scan_reserved(int(request.args[0]), request.hostname)
    except Exception:  # bookkeeping only; the scan itself is unaffected
        logging.getLogger(__name__).warning("could not note which node holds scan %s", request.args[0], exc_info=True)


@shared_task(
    # Its own limits, not a scan's: storing thousands of queued rows can take longer than one scan may,
    # and a fan-out cut by the scan soft limit silently left the rest of the portfolio unscanned.
    soft_time_limit=config.rescan_task_time_limit(),
    time_limit=config.rescan_task_time_limit() + 30,
)
def rescan_portfolio(portfolio_id: int) -> int:
    """Scheduled by celery beat (scanner.schedules): queue a scan of every site in the portfolio, in batches."""
    from scanner.models import Portfolio

    portfolio = Portfolio.objects.filter(pk=portfolio_id).first()
    if portfolio is None:
        return 0  # deleted since beat read its schedule
    outcomes = services.submit_portfolio_scans(
        portfolio,
        batch_size=config.rescan_batch_size(),
        batch_interval=config.rescan_batch_interval(),
        scheduled=True,
    )
    return sum(1 for _, scan, _ in outcomes if scan is not None)


@shared_task(ignore_result=True, time_limit=config.task_time_limit())
def release_due_scans() -> int:
    """Beat, every SCANNER_REAPER_INTERVAL: send the rescan batches whose time has come."""
    return services.release_due_scans()


@shared_task(ignore_result=True, time_limit=config.task_time_limit())
def reap_stale_scans() -> dict[str, int]:
    """Beat, every SCANNER_REAPER_INTERVAL: requeue scans whose worker died, resend or fail stuck ones."""
    return services.reap_stale_scans()


@shared_task(bind=True, max_retries=config.notify_max_retries(), time_limit=config.task_time_limit())
def deliver_alert(self, alert_id: int) -> str | None:
    """Send an alert to its channels. Channels that failed in a retryable way (5xx, 429, network trouble) are
    tried again with exponential backoff; channels that already have it are not sent it twice."""
    final = self.request.retries >= self.max_retries
    outcome = notifications.deliver(alert_id, final_attempt=final)
    if outcome is None:
        return None
    if outcome.retry:
        base = config.notify_retry_base()
        raise self.retry(countdown=min(base * 2**self.request.retries, 300))
    return outcome.status


@shared_task(ignore_result=True, time_limit=config.task_time_limit())
def prune_old_reports() -> int:
    """Beat, daily: old scans keep their summary and findings but drop the report document (retention)."""
    return services.prune_old_reports(batch_size=config.retention_batch_size())



@shared_task(
    # Acknowledged when finished and requeued if its pool child dies, like a scan: the row says queued/running
    # until a worker has stored the file.
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=config.rescan_task_time_limit(),
    time_limit=config.rescan_task_time_limit() + 30,
)
def build_compliance_evidence(evidence_id: int) -> str | None:
    """A large portfolio's compliance report (PDF), asked for from the dashboard or the API."""
    evidence = services.evidence_build(evidence_id)
    return evidence.status if evidence is not None else None
