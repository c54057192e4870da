"""Keeping scans moving: sending their messages, releasing held-back rescans, and the reaper that resends or
fails scans whose message or worker was lost."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scanner import config
from scanner.models import Scan
from scanner.queueing import RUN_SCAN, send_task
from scanner.services.scan_results import fail_scan, finish_failed

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


def release(scan: Scan) -> None:
    """Mark the scan sent and send its message once the surrounding transaction commits."""
    now = timezone.now()
    if scan.enqueued_at is None or scan.release_at is None:
        # From its first message on, release_at says when the scan was sent: the queued limit counts from there,
        # not from the request, which for a late batch of a large rescan can be hours earlier.
        scan.release_at = now
    scan.enqueued_at = now
    scan.reserved_by = ""
    Scan.objects.filter(pk=scan.pk).update(enqueued_at=now, release_at=scan.release_at, reserved_by="")
    # After commit, so a worker never picks up a scan id whose row it cannot see yet.
    queue = scan_queue(scan)
    transaction.on_commit(lambda: enqueue_scan(scan.pk, scan.celery_task_id, queue=queue))


def scan_queue(scan: Scan) -> str:
    """Portfolio-wide scans (bulk requests, scheduled rescans) wait in their own queue, so a 10,000-site
    rescan never stands between a person and the one scan they just asked for."""
    return config.rescan_queue_name() if scan.portfolio_id is not None else config.scan_queue_name()


def enqueue_scan(scan_id: int, task_id: str, *, queue: str | None = None) -> bool:
    try:
        send_task(RUN_SCAN, args=[scan_id], task_id=task_id, queue=queue or config.scan_queue_name())
    except Exception as exc:  # broker down: say so on the scan instead of leaving it queued forever
        logger.exception("could not enqueue scan %s", scan_id)
        fail_scan(scan_id, f"The scan could not be queued (is the Redis broker running?): {exc}")
        return False
    return True


def stale_reason(scan: Scan, *, now: datetime | None = None) -> str | None:
    """Why an active scan can no longer be trusted to finish on its own, or None while it is healthy."""
    now = now or timezone.now()
    if scan.status == Scan.Status.QUEUED:
        if scan.enqueued_at is None:
            return None  # held back for a later batch: release_due_scans sends it, however far behind it runs
        waiting_since = scan.release_at or scan.requested_at
        if now - waiting_since > timedelta(seconds=config.queued_limit()):
            return f"The scan was never started: it waited in the queue for more than {config.queued_limit():g} s."
        return None
    if scan.status != Scan.Status.RUNNING:
        return None
    started = scan.started_at or scan.requested_at
    if now - started > timedelta(seconds=config.task_time_limit() + config.heartbeat_timeout()):
        return f"The scan exceeded the {config.task_time_limit()} s time limit and was stopped."
    if not heartbeat_lost(scan, now):
        return None
    last_beat = scan.heartbeat_at or started
    if last_beat - started >= timedelta(seconds=config.task_soft_time_limit()):
        # Alive past its soft limit, then silent: the hard limit killed it. Running it again would only
        # end the same way.
        return f"The scan exceeded the {config.task_time_limit()} s time limit and was stopped."
    if scan.attempts >= MAX_ATTEMPTS:
        return f"Gave up after {scan.attempts} attempts: the worker running it stopped each time."
    return None


def heartbeat_lost(scan: Scan, now: datetime) -> bool:
    last_sign_of_life = scan.heartbeat_at or scan.started_at or scan.requested_at
    return now - last_sign_of_life > timedelta(seconds=config.heartbeat_timeout())


def release_due_scans(*, limit: int = 500) -> int:
    """Send the held-back rescans whose release time has come (beat calls this every few seconds)."""
    due = list(
        # release_at null and never sent: rows queued before this bookkeeping existed.
        Scan.objects.filter(status=Scan.Status.QUEUED, enqueued_at__isnull=True)
        .filter(Q(release_at__lte=timezone.now()) | Q(release_at__isnull=True))
        .order_by("release_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for scan_id in due:
        with transaction.atomic():
            scan = (
                Scan.objects.select_for_update(skip_locked=True)
                .filter(pk=scan_id, status=Scan.Status.QUEUED, enqueued_at__isnull=True)
                .first()
            )
            if scan is None:
                continue  # another beat or a user request released it meanwhile
            release(scan)
        sent += 1
    return sent


def scan_reserved(scan_id: int, node: str) -> None:
    """A worker node took the queued scan's message from the broker (Celery's task_received, in that node's
    main process): remembered, so the reaper can tell when the message died with the node."""
    Scan.objects.filter(pk=scan_id, status=Scan.Status.QUEUED).update(reserved_by=node[:255])


def reap_stale_scans() -> dict[str, int]:
    """Unstick scans whose message or worker was lost. Returns how many were resent, requeued and failed.

    - queued, never sent: left to release_due_scans; queued and sent long ago: sent again (a Redis restart
      without persistence loses messages); queued and taken by a node whose heartbeat stopped: sent again
      at once (the message waited in that node's prefetch and would only come back after the broker's
      visibility timeout); queued past SCANNER_QUEUED_LIMIT after its first message: failed with the reason.
    - running without a heartbeat for SCANNER_HEARTBEAT_TIMEOUT: its worker died, so it is queued again
      (failed after MAX_ATTEMPTS); running past the hard time limit: failed.
    A second message for a scan is harmless: execute_scan runs a scan only once at a time.
    """
    now = timezone.now()
    counts = {"resent": 0, "requeued": 0, "failed": 0}
    gone = _gone_reserving_nodes()
    queued_limit = timedelta(seconds=config.queued_limit())
    candidates = Scan.objects.filter(status__in=Scan.ACTIVE_STATUSES).filter(
        Q(status=Scan.Status.RUNNING, heartbeat_at__lt=now - timedelta(seconds=config.heartbeat_timeout()))
        | Q(status=Scan.Status.RUNNING, heartbeat_at__isnull=True)
        | Q(status=Scan.Status.QUEUED, enqueued_at__lt=now - timedelta(seconds=config.queued_resend_after()))
        | Q(status=Scan.Status.QUEUED, enqueued_at__isnull=False, release_at__lt=now - queued_limit)
        | Q(
            status=Scan.Status.QUEUED,
            enqueued_at__isnull=False,
            release_at__isnull=True,
            requested_at__lt=now - queued_limit,
        )
        | Q(status=Scan.Status.QUEUED, enqueued_at__isnull=False, reserved_by__in=gone)
    )
    for scan_id in candidates.values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            scan = Scan.objects.select_for_update(skip_locked=True).filter(pk=scan_id).first()
            if scan is None or not scan.is_active:
                continue
            reason = stale_reason(scan, now=now)
            if reason is not None:
                finish_failed(scan, reason)
                counts["failed"] += 1
            elif scan.status == Scan.Status.RUNNING and heartbeat_lost(scan, now):
                logger.warning("scan %s lost its worker %s; queueing it again", scan.pk, scan.worker or "?")
                scan.status = Scan.Status.QUEUED
                scan.worker = ""
                scan.save(update_fields=["status", "worker"])
                release(scan)
                counts["requeued"] += 1
            elif (
                scan.status == Scan.Status.QUEUED
                and scan.enqueued_at is not None
                and (
                    now - scan.enqueued_at > timedelta(seconds=config.queued_resend_after()) or scan.reserved_by in gone
                )
            ):
                if scan.reserved_by in gone:
                    logger.warning(
                        "scan %s waited in the prefetch of %s, which stopped; sending it again",
                        scan.pk,
                        scan.reserved_by,
                    )
                release(scan)
                counts["resent"] += 1
    return counts


def _gone_reserving_nodes() -> set[str]:
    """The nodes holding queued scans' messages whose heartbeat stopped."""
    from scanner.nodes import gone_nodes

    holders = set(
        # Only a sent scan is ever reserved; saying so lets the query read the sent scans' index, not every
        # held-back row of a large rescan.
        Scan.objects.filter(status=Scan.Status.QUEUED, enqueued_at__isnull=False)
        .exclude(reserved_by="")
        .values_list("reserved_by", flat=True)
        .distinct()[:1000]
    )
    return gone_nodes(holders)
