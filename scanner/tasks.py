"""Celery tasks: load by id, call a service. The database row, not the result backend, holds the status."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_postrun, task_prerun, task_received
from django.db import InterfaceError, OperationalError

from scanner import config, digest, nodes, notifications, queueing, services
from scanner.dboutage import DatabaseUnavailable, drop_broken_connection, reopen_if_broken
from scanner.engine import load_probes
from scanner.services.bulk import bulk_run, reap_stale_bulk_operations
from scanner.services.scan_runs import ResultNotStored
from webui.celery import app as _app  # noqa: F401 - the app these shared tasks belong to, wherever they are imported

# In the worker's main process, before its pool forks: every child starts with the probes loaded.
load_probes()

if TYPE_CHECKING:
    from celery.worker.consumer import Consumer
    from celery.worker.request import Request


@shared_task(
    bind=True,
    # Acknowledged only when finished, and requeued at once if its pool child dies. If the whole worker
    # dies, the reaper (services.reap_stale_scans) requeues the scan when its heartbeat stops.
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=config.task_soft_time_limit(),
    time_limit=config.task_time_limit(),
    # A database that is unreachable for longer than the outage budget (restart, failover) delays the scan,
    # it does not lose it: 5, 10, 20, 40, 60, 60... s apart, without jitter (five jittered retries could all
    # land inside one 30 s outage), about 7 minutes in all; the reaper resends it after that.
    autoretry_for=(OperationalError, InterfaceError, DatabaseUnavailable),
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=False,
    max_retries=10,
)
def run_scan(self: Task, scan_id: int, resume_as: str = "") -> str | None:
    try:
        scan = services.execute_scan(scan_id, resume_as=resume_as)
    except ResultNotStored as exc:
        # The scan ran but its outcome could not be stored: the retry runs it again in its place.
        raise self.retry(
            exc=exc,
            args=[scan_id],
            kwargs={"resume_as": exc.worker},
            countdown=min(5 * 2**self.request.retries, 60),
        ) from exc
    except SoftTimeLimitExceeded:
        # The limit hit outside the engine call (e.g. while storing): still leave a clear reason behind.
        scan = services.fail_scan(scan_id, f"The scan exceeded {config.task_soft_time_limit()} s and was stopped.")
    return scan.status if scan is not None else None


@task_prerun.connect
@task_postrun.connect
def reopen_broken_connections(sender: Task | None = None, **_: object) -> None:
    """In every pool process, around every task: drop a connection that broke (a database restart) or aged
    out, so the next task connects afresh instead of failing on it (Django does this per web request).
    Not for a task run in the caller's process (`apply`, eager mode): the caller owns that connection."""
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    reopen_if_broken()


@task_received.connect
def note_reservation(sender: Consumer | None = None, request: Request | None = None, **_: object) -> None:
    """In the worker node's main process, as a scan's message arrives (prefetched or about to run): remember
    which node holds it, so a node that dies with it does not leave the scan waiting for the broker's
    visibility timeout (services.reap_stale_scans)."""
    if request is None or request.name != run_scan.name or not request.args:
        return
    # The main process runs no tasks, so nothing else ever replaces a connection a database restart broke.
    reopen_if_broken()
    try:
        # The incarnation, not only the node name: a node restarted under the same name must not look alive
        # on behalf of the messages its previous run died with (scanner.nodes).
        services.scan_reserved(int(request.args[0]), nodes.incarnation_of(request.hostname))
    except Exception:  # bookkeeping only; the scan itself is unaffected
        drop_broken_connection()
        logging.getLogger(__name__).warning("could not note which node holds scan %s", request.args[0], exc_info=True)


@shared_task(
    # Its own limits, not a scan's: storing thousands of queued rows can take longer than one scan may,
    # and a fan-out cut by the scan soft limit silently left the rest of the portfolio unscanned.
    soft_time_limit=config.rescan_task_time_limit(),
    time_limit=config.rescan_task_time_limit() + 30,
)
def rescan_portfolio(portfolio_id: int) -> int:
    """Queued by beat's minute tick (queue_due_rescans): queue a scan of every site in the portfolio, in batches
    that beat's release_due_scans sends when due (the first one too), within SCANNER_RELEASE_LIMIT a tick."""
    from scanner.models import Portfolio

    portfolio = Portfolio.objects.filter(pk=portfolio_id).first()
    if portfolio is None:
        return 0  # deleted since the tick queued it
    outcomes = services.submit_portfolio_scans(
        portfolio,
        batch_size=config.rescan_batch_size(),
        batch_interval=config.rescan_batch_interval(),
        scheduled=True,
    )
    return sum(1 for _, scan, _ in outcomes if scan is not None)


@shared_task(ignore_result=True, time_limit=config.task_time_limit())
def queue_due_rescans() -> int:
    """Beat, every SCANNER_DUE_RESCANS_INTERVAL (a minute): queue rescan_portfolio for the portfolios whose next
    scheduled run has come (scanner.services.due_rescans)."""
    return services.queue_due_rescans(
        batch_size=config.due_rescans_batch_size(), time_budget=config.due_rescans_interval()
    )


@shared_task(ignore_result=True, time_limit=config.task_time_limit())
def release_due_scans() -> int:
    """Beat, every SCANNER_REAPER_INTERVAL: send the rescan batches whose time has come."""
    return services.release_due_scans(limit=config.release_limit())


@shared_task(ignore_result=True, time_limit=config.task_time_limit())
def reap_stale_scans() -> dict[str, int]:
    """Beat, every SCANNER_REAPER_INTERVAL: requeue scans whose worker died, resend or fail stuck ones, and
    resend bulk operations whose worker went silent."""
    return {**services.reap_stale_scans(), **reap_stale_bulk_operations()}


@shared_task(bind=True, max_retries=config.notify_max_retries(), time_limit=config.task_time_limit())
def deliver_alert(self: Task, alert_id: int) -> str | None:
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
def send_channel_test(channel_id: int) -> None:
    """ "Send test" of a channel (queued by services.channel_test_request): the outcome lands on the channel."""
    from scanner.models import Channel

    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is not None:  # deleted since the click
        notifications.send_test(channel)


@shared_task(ignore_result=True, time_limit=config.task_time_limit())
def queue_weekly_digests() -> int:
    """Beat, weekly: one digest task per portfolio that an opted-in e-mail channel hears about."""
    portfolio_ids = digest.portfolios_with_digest_readers()
    for portfolio_id in portfolio_ids:
        queueing.send_task(queueing.SEND_PORTFOLIO_DIGEST, args=[portfolio_id])
    return len(portfolio_ids)


@shared_task(ignore_result=True, time_limit=config.task_time_limit())
def send_portfolio_digest(portfolio_id: int) -> int:
    """One portfolio's weekly digest to its opted-in channels; how many it reached."""
    return len(digest.send_portfolio_digest(portfolio_id))


@shared_task(ignore_result=True, time_limit=config.task_time_limit())
def prune_old_reports() -> int:
    """Beat, daily: old scans keep their summary and findings but drop the report document (retention)."""
    return services.prune_old_reports(batch_size=config.retention_batch_size())


@shared_task(ignore_result=True)
def prune_limit_events() -> int:
    """Beat, hourly: forget abuse-limit events older than a day (the longest window any limit counts)."""
    return services.prune_limit_events()


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


@shared_task(
    # Acknowledged when finished and requeued if its pool child dies; a whole worker's death is the reaper's
    # (services.bulk.reap_stale_bulk_operations). Either way the next delivery carries on from the last batch.
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=config.rescan_task_time_limit(),
    time_limit=config.rescan_task_time_limit() + 30,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=10,
)
def run_bulk_operation(operation_id: int) -> str | None:
    """A portfolio scan or import too large for a web request, in batches with progress."""
    operation = bulk_run(operation_id)
    return operation.state if operation is not None else None
