"""Keeping scans moving: sending their messages, releasing held-back rescans, and the reaper that resends or
fails scans whose message or worker was lost."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from scanner import config
from scanner.models import Scan
from scanner.queueing import RUN_SCAN, send_task
from scanner.services.scan_results import fail_scan, finish_failed

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# A reaper tick handles at most REAP_LIMIT scans, REAP_BATCH to a transaction (one row lock and commit per batch,
# not per scan); what is left over waits for the next tick.
REAP_LIMIT = 1000
REAP_BATCH = 100
# Scans the release marks sent in one transaction (one UPDATE); a tick releases several batches up to its limit.
RELEASE_BATCH = 100


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
    return queue_for_portfolio(scan.portfolio_id)


def queue_for_portfolio(portfolio_id: int | None) -> str:
    """Portfolio-wide scans (bulk requests, scheduled rescans) wait in their own queue, so a 10,000-site
    rescan never stands between a person and the one scan they just asked for."""
    return config.rescan_queue_name() if portfolio_id is not None else config.scan_queue_name()


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
    """Send the held-back rescans whose release time has come (beat calls this every few seconds), topping the
    rescans queue up to `limit` waiting messages rather than adding `limit` each tick: however far the workers
    fall behind, the broker holds at most one tick's worth and the rest waits here, in release order."""
    limit -= _messages_waiting(config.rescan_queue_name())
    sent = 0
    while sent < limit:
        wanted = min(RELEASE_BATCH, limit - sent)
        released = _release_batch(wanted)
        sent += released
        if released < wanted:
            break  # nothing more is due (or the rest is being released by another beat)
    return sent


def _release_batch(size: int) -> int:
    """Release up to `size` due scans in one transaction: claimed in release order (rows another release or a
    person's request holds are skipped), marked sent in one UPDATE, their messages sent once it commits, as
    release() does for one. A message is never sent for a row a worker cannot see as sent; a release that dies
    between the commit and the sends leaves sent rows without messages, which the reaper resends as it resends
    any lost message (SCANNER_QUEUED_RESEND_AFTER)."""
    with transaction.atomic():
        due = list(
            # release_at null and never sent: rows queued before this bookkeeping existed.
            Scan.objects.select_for_update(skip_locked=True)
            .filter(status=Scan.Status.QUEUED, enqueued_at__isnull=True)
            .filter(Q(release_at__lte=timezone.now()) | Q(release_at__isnull=True))
            .order_by("release_at", "id")
            .values_list("pk", "celery_task_id", "portfolio_id")[:size]
        )
        if not due:
            return 0
        now = timezone.now()
        # From its first message on, release_at says when the scan was sent (the queued limit counts from there).
        Scan.objects.filter(pk__in=[scan_id for scan_id, _, _ in due]).update(
            enqueued_at=now, release_at=now, reserved_by=""
        )
        transaction.on_commit(lambda: _send_released(due))
    return len(due)


def _send_released(released: list[tuple[int, str, int | None]]) -> None:
    for scan_id, task_id, portfolio_id in released:
        enqueue_scan(scan_id, task_id, queue=queue_for_portfolio(portfolio_id))


def _messages_waiting(queue: str) -> int:
    """Messages waiting in the broker's queue; 0 when it cannot be read (the release then sends its full limit,
    as it would have before looking)."""
    from redis import RedisError

    from scanner.nodes import broker_client

    client = broker_client()
    try:
        return client.llen(queue)
    except (RedisError, OSError):
        return 0
    finally:
        client.close()


def scan_reserved(scan_id: int, node: str) -> None:
    """A worker node took the queued scan's message from the broker (Celery's task_received, in that node's
    main process): remembered, so the reaper can tell when the message died with the node."""
    Scan.objects.filter(pk=scan_id, status=Scan.Status.QUEUED).update(reserved_by=node[:255])


def reap_stale_scans() -> dict[str, int]:
    """Unstick scans whose message or worker was lost. Returns how many were resent, requeued and failed.

    - queued, never sent: left to release_due_scans; queued and sent long ago: sent again (a Redis restart
      without persistence loses messages), unless its message is still waiting in the broker's queue (a
      backlog, not a loss: a second copy would only lengthen it); queued and taken by a node whose heartbeat
      stopped: sent again at once (the message waited in that node's prefetch and would only come back after
      the broker's visibility timeout); queued past SCANNER_QUEUED_LIMIT after its first message: failed with
      the reason.
    - running without a heartbeat for SCANNER_HEARTBEAT_TIMEOUT: its worker died, so it is queued again
      (failed after MAX_ATTEMPTS); running past the hard time limit: failed.
    A second message for a scan is harmless: execute_scan runs a scan only once at a time. At most REAP_LIMIT
    scans a tick, REAP_BATCH to a transaction, so a tick stays short of beat's interval whatever piled up.
    """
    now = timezone.now()
    counts = {"resent": 0, "requeued": 0, "failed": 0}
    gone = _gone_reserving_nodes()
    resend_before = _resend_cutoffs(now)
    queued_limit = timedelta(seconds=config.queued_limit())
    candidates = Scan.objects.filter(status__in=Scan.ACTIVE_STATUSES).filter(
        Q(status=Scan.Status.RUNNING, heartbeat_at__lt=now - timedelta(seconds=config.heartbeat_timeout()))
        | Q(status=Scan.Status.RUNNING, heartbeat_at__isnull=True)
        | Q(status=Scan.Status.QUEUED, portfolio__isnull=True, enqueued_at__lt=resend_before[config.scan_queue_name()])
        | Q(
            status=Scan.Status.QUEUED,
            portfolio__isnull=False,
            enqueued_at__lt=resend_before[config.rescan_queue_name()],
        )
        | Q(status=Scan.Status.QUEUED, enqueued_at__isnull=False, release_at__lt=now - queued_limit)
        | Q(
            status=Scan.Status.QUEUED,
            enqueued_at__isnull=False,
            release_at__isnull=True,
            requested_at__lt=now - queued_limit,
        )
        | Q(status=Scan.Status.QUEUED, enqueued_at__isnull=False, reserved_by__in=gone)
    )
    scan_ids = list(candidates.values_list("pk", flat=True)[:REAP_LIMIT])
    for start in range(0, len(scan_ids), REAP_BATCH):
        with transaction.atomic():
            batch = (
                Scan.objects.select_for_update(skip_locked=True)
                .filter(pk__in=scan_ids[start : start + REAP_BATCH], status__in=Scan.ACTIVE_STATUSES)
                .order_by("pk")
            )
            for scan in batch:
                outcome = _reap(scan, now, gone=gone, resend_before=resend_before[scan_queue(scan)])
                if outcome is not None:
                    counts[outcome] += 1
    return counts


def _reap(scan: Scan, now: datetime, *, gone: set[str], resend_before: datetime) -> str | None:
    """Fail, requeue or resend one stale scan (its row locked): which of them, or None when it is healthy."""
    reason = stale_reason(scan, now=now)
    if reason is not None:
        finish_failed(scan, reason)
        return "failed"
    if scan.status == Scan.Status.RUNNING and heartbeat_lost(scan, now):
        logger.warning("scan %s lost its worker %s; queueing it again", scan.pk, scan.worker or "?")
        scan.status = Scan.Status.QUEUED
        scan.worker = ""
        scan.save(update_fields=["status", "worker"])
        release(scan)
        return "requeued"
    if scan.status != Scan.Status.QUEUED or scan.enqueued_at is None:
        return None
    if scan.reserved_by in gone:
        logger.warning(
            "scan %s waited in the prefetch of %s, which stopped; sending it again", scan.pk, scan.reserved_by
        )
        release(scan)
        return "resent"
    if scan.enqueued_at < resend_before:
        release(scan)
        return "resent"
    return None


def _resend_cutoffs(now: datetime) -> dict[str, datetime]:
    """Per queue, the send time before which a queued scan's message may be lost: SCANNER_QUEUED_RESEND_AFTER
    ago, or earlier while older messages still wait in that queue (a backlog, not a loss). A queue whose oldest
    messages cannot be read (the broker does not answer) gets the plain delay: a copy too many rather than a
    scan lost."""
    delay = now - timedelta(seconds=config.queued_resend_after())
    cutoffs = {}
    for queue in {config.scan_queue_name(), config.rescan_queue_name()}:
        waiting_since = _oldest_waiting_send(queue)
        cutoffs[queue] = min(delay, waiting_since) if waiting_since is not None else delay
    return cutoffs


def _oldest_waiting_send(queue: str) -> datetime | None:
    """No later than when the oldest scan message still waiting in `queue` was sent: every scan sent since is
    still in the queue behind it (scanner.broker_backlog). Each waiting scan's enqueued_at (its last send) is at
    or after its message's, and so after the oldest's: the earliest of them is a safe bound. None when nothing
    waits, or nothing can be said."""
    from redis import RedisError

    from scanner.broker_backlog import oldest_waiting_scan_ids
    from scanner.nodes import broker_client

    client = broker_client()
    try:
        scan_ids = oldest_waiting_scan_ids(client, queue)
    except (RedisError, OSError):
        logger.warning("could not read the broker's queue %s; resending by age alone", queue, exc_info=True)
        return None
    finally:
        client.close()
    if not scan_ids:
        return None
    return (
        Scan.objects.filter(pk__in=scan_ids, enqueued_at__isnull=False)
        .aggregate(earliest=Min("enqueued_at"))
        .get("earliest")
    )


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
