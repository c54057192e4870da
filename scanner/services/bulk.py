"""Bulk operations: a portfolio scan or import over SCANNER_BULK_INLINE_LIMIT sites (lines) is recorded by the
request, which answers at once, and done by a worker (scanner.tasks.run_bulk_operation) in batches.

Each batch is one transaction holding its sites or scans, their quota ledger rows and the operation's progress,
so a worker killed mid-batch leaves nothing of that batch behind and the next delivery (Celery's redelivery,
or the reaper's resend) carries on from the last whole batch: no site or scan is made twice, and each scan is
counted once against the quota. Scans go through the same _request_scan as every other request, so the quota
and the per-target limit hold exactly as they do inline.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from scanner import config
from scanner.imports import ImportReport, content_line_count, import_batch, import_lines
from scanner.models import BulkOperation, Portfolio, Site
from scanner.queueing import RUN_BULK_OPERATION, send_task
from scanner.services.errors import ScanRequestTooSoon
from scanner.services.scan_requests import (
    _request_scan,
    scan_permission_check,
    scan_quota_check,
    scan_quota_left,
    scan_quota_lock,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# Deliveries in a row that made no progress before the reaper gives up on an operation.
MAX_DELIVERIES = 5


def portfolio_scan_is_bulk(portfolio: Portfolio) -> bool:
    return portfolio.sites.count() > config.bulk_inline_limit()


def import_is_bulk(text: str) -> bool:
    return content_line_count(import_lines(text)) > config.bulk_inline_limit()


def bulk_scan_request(portfolio: Portfolio) -> BulkOperation:
    """Record a scan of every site of the portfolio for a worker. The same all-or-nothing quota check as an inline
    request comes first (429 now, not a failed operation later); asking again while one runs returns that one."""
    owner = portfolio.owner
    scan_permission_check(owner)
    total = portfolio.sites.count()
    scan_quota_check(owner, cost=max(1, total))
    with transaction.atomic():
        # Locking the portfolio row serialises concurrent requests, so a double click records one operation.
        Portfolio.objects.select_for_update().filter(pk=portfolio.pk).first()
        active = BulkOperation.objects.filter(
            portfolio=portfolio, kind=BulkOperation.Kind.SCAN, state__in=BulkOperation.ACTIVE_STATES
        ).first()
        if active is not None:
            return active
        operation = BulkOperation.objects.create(
            kind=BulkOperation.Kind.SCAN, portfolio=portfolio, owner=owner, total=total
        )
        transaction.on_commit(lambda: _send(operation.pk))
    return operation


def bulk_import_request(owner: User, portfolio: Portfolio, text: str) -> BulkOperation:
    """Record an import for a worker; the text is kept on the row until it is done."""
    total = content_line_count(import_lines(text))
    with transaction.atomic():
        operation = BulkOperation.objects.create(
            kind=BulkOperation.Kind.IMPORT, portfolio=portfolio, owner=owner, total=total, text=text
        )
        transaction.on_commit(lambda: _send(operation.pk))
    return operation


def _send(operation_id: int) -> None:
    try:
        # The queue of scans a person asked for: the operation is bookkeeping a person waits on, and must not
        # wait behind a rescan backlog; the scans it makes go to the portfolio queue like any portfolio scan.
        send_task(RUN_BULK_OPERATION, args=[operation_id], queue=config.scan_queue_name())
    except Exception as exc:  # broker down: say so on the row instead of leaving it queued forever
        logger.exception("could not queue bulk operation %s", operation_id)
        _fail(operation_id, f"The operation could not be queued (is the Redis broker running?): {exc}")


def _fail(operation_id: int, reason: str) -> None:
    BulkOperation.objects.filter(pk=operation_id, state__in=BulkOperation.ACTIVE_STATES).update(
        state=BulkOperation.State.FAILED, error=reason, finished_at=timezone.now(), text=""
    )


def bulk_run(operation_id: int) -> BulkOperation | None:
    """Do the operation batch by batch (the worker's job). A second delivery of the same message while the first
    still works finds the row locked and leaves it alone; one after a crash carries on from the cursor."""
    claimed = BulkOperation.objects.filter(pk=operation_id, state__in=BulkOperation.ACTIVE_STATES).update(
        state=BulkOperation.State.RUNNING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    if not claimed:
        return None  # deleted with its portfolio, or already finished by an earlier delivery
    lines: list[str] | None = None
    while True:
        with transaction.atomic():
            operation = (
                # Only the operation's row: the portfolio's and the account's stay free for other requests.
                BulkOperation.objects.select_for_update(skip_locked=True, of=("self",))
                .defer("text")
                .select_related("portfolio", "owner")
                .filter(pk=operation_id, state=BulkOperation.State.RUNNING)
                .first()
            )
            if operation is None:
                break  # finished, or another delivery holds it this very moment and carries on
            if operation.kind == BulkOperation.Kind.IMPORT:
                if lines is None:
                    lines = BulkOperation.objects.filter(pk=operation_id).values_list("text", flat=True)[0].splitlines()
                more = _import_step(operation, lines)
            else:
                more = _scan_step(operation)
            operation.attempts = 1  # progress: only deliveries in a row that get nowhere count towards giving up
            operation.updated_at = timezone.now()
            operation.save()
        if not more:
            break
    return BulkOperation.objects.defer("text").filter(pk=operation_id).first()


def _scan_step(operation: BulkOperation) -> bool:
    """Request the scans of the next batch of sites (in id order after the cursor). False when finished."""
    sites = list(
        Site.objects.filter(portfolios=operation.portfolio, pk__gt=operation.cursor).order_by("pk")[
            : config.bulk_batch_size()
        ]
    )
    if not sites:
        _finish(operation)
        return False
    # The quota is checked as scans are made, since other requests may have used it up since this operation was
    # accepted: once per batch against the ledger (under the account's lock, held to commit), then counted here.
    scan_quota_lock(operation.owner)
    left = scan_quota_left(operation.owner)
    for site in sites:
        if left is not None and left <= 0:
            try:
                scan_quota_check(operation.owner)
            except ScanRequestTooSoon as exc:
                operation.state = BulkOperation.State.FAILED
                operation.error = f"Stopped after {operation.done} of {operation.total} sites: {exc.message}"
                operation.finished_at = timezone.now()
                return False
            left = scan_quota_left(operation.owner)
        try:
            with transaction.atomic():
                # As an inline portfolio scan: no DNS here (the worker running the scan resolves under the
                # network policy), and a rescan held back for a later batch is sent now.
                _, created = _request_scan(site, address=None, portfolio=operation.portfolio, max_age=None)
        except ScanRequestTooSoon as exc:  # the target is being scanned for another account right now
            _record_error(operation, str(site), exc.message)
        else:
            if created and left is not None:
                left -= 1
        operation.cursor = site.pk
        operation.done += 1
    return True


def _import_step(operation: BulkOperation, lines: list[str]) -> bool:
    """Import the next batch of lines. False when finished."""
    start = int(operation.cursor)
    if start >= len(lines):
        _finish_import(operation)
        return False
    stop = min(len(lines), start + config.bulk_batch_size())
    report = ImportReport()
    import_batch(operation.owner, operation.portfolio, lines, start=start, stop=stop, report=report)
    for line_no, line, reason in report.errors:
        _record_error(operation, f"line {line_no}: {line[:200]}", reason)
    operation.done += report.created + report.existing + len(report.errors)
    operation.created_sites += report.created
    operation.cursor = stop
    if stop >= len(lines):
        _finish_import(operation)
        return False
    return True


def _finish_import(operation: BulkOperation) -> None:
    if operation.failed and operation.failed == operation.done:
        operation.state = BulkOperation.State.FAILED
        operation.error = "Nothing was imported: not one line named a site (the errors say why)."
        operation.finished_at = timezone.now()
    else:
        _finish(operation)
    BulkOperation.objects.filter(pk=operation.pk).update(text="")  # the input is not needed any more


def _finish(operation: BulkOperation) -> None:
    operation.state = BulkOperation.State.DONE
    operation.finished_at = timezone.now()


def _record_error(operation: BulkOperation, item: str, reason: str) -> None:
    operation.failed += 1
    if len(operation.errors) < BulkOperation.MAX_ERRORS:
        operation.errors = [*operation.errors, {"item": item, "reason": reason}]


def reap_stale_bulk_operations(*, now: datetime | None = None) -> dict[str, int]:
    """Resend operations whose worker went silent (killed, or its message lost); give up on one after
    MAX_DELIVERIES deliveries in a row that made no progress. Beat runs this with the scan reaper."""
    now = now or timezone.now()
    counts = {"operations_resent": 0, "operations_failed": 0}
    running_silent = now - timedelta(seconds=config.heartbeat_timeout())
    queued_silent = now - timedelta(seconds=config.queued_resend_after())
    stale = BulkOperation.objects.filter(
        state=BulkOperation.State.RUNNING, updated_at__lt=running_silent
    ) | BulkOperation.objects.filter(state=BulkOperation.State.QUEUED, updated_at__lt=queued_silent)
    for operation_id, attempts in stale.values_list("pk", "attempts")[:100]:
        if attempts >= MAX_DELIVERIES:
            _fail(operation_id, f"Gave up after {attempts} attempts: the worker doing it stopped each time.")
            counts["operations_failed"] += 1
            continue
        # Stamped first, so the next reaper run waits a whole period again before another resend.
        if BulkOperation.objects.filter(pk=operation_id, updated_at__lt=now).update(updated_at=now):
            logger.warning("bulk operation %s went silent; sending it again", operation_id)
            _send(operation_id)
            counts["operations_resent"] += 1
    return counts
