"""Beat's minute tick: queue the rescan of every portfolio whose next run has come.

One beat entry serves every portfolio: the tick reads the indexed `next_rescan_at` instead of beat loading and
checking a beat entry per portfolio (docs/capacity.md, item 5). Each batch is claimed, advanced and sent in one
transaction, so a tick that dies part-way leaves every portfolio either queued and advanced or untouched:

- claimed `FOR UPDATE SKIP LOCKED`: two ticks that overlap (a slow one, a second beat) take different portfolios,
  and neither waits for the other;
- advanced to the schedule's first slot after now: a portfolio whose slots passed during a beat outage is
  rescanned once when beat is back, not once per missed slot;
- its rescan_portfolio message sent before the transaction commits: a tick killed between sending and committing
  leaves the portfolio on its slot and the next tick sends it again (at least once, never lost: a second
  rescan_portfolio finds the first one's scans active and adds none); a message that cannot be sent (broker
  down) rolls the batch back onto its slots, so the next tick tries again.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from scanner import config, crons
from scanner.models import Portfolio
from scanner.queueing import send_task
from scanner.services.schedules import RESCAN_TASK, next_rescan

logger = logging.getLogger(__name__)


def queue_due_rescans(*, batch_size: int = 500, time_budget: float = 50.0) -> int:
    """Queue the due portfolios' rescans, batch after batch, until none is due or the time budget (the tick's
    interval: the next tick carries on) is spent. Returns how many were queued."""
    started, queued = time.monotonic(), 0
    while True:
        claimed = _queue_batch(batch_size)
        queued += claimed
        if claimed < batch_size or time.monotonic() - started > time_budget:
            return queued


def _queue_batch(limit: int) -> int:
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Portfolio.objects.select_for_update(skip_locked=True)
            .filter(next_rescan_at__lte=now)
            .order_by("next_rescan_at")  # the index order: no sort of a slot shared by 70,000 portfolios
            .only("pk", "rescan_cron", "next_rescan_at")[:limit]
        )
        # One `now` per batch, so one next run and one UPDATE per distinct schedule (the presets are most of them).
        by_schedule: dict[str, list[int]] = {}
        next_runs: dict[str, datetime | None] = {}
        for portfolio in due:
            if portfolio.rescan_cron not in next_runs:
                next_runs[portfolio.rescan_cron] = _advanced(portfolio, now)
            by_schedule.setdefault(portfolio.rescan_cron, []).append(portfolio.pk)
        for expression, ids in by_schedule.items():
            Portfolio.objects.filter(pk__in=ids).update(next_rescan_at=next_runs[expression])
        if not _send([portfolio.pk for portfolio in due]):
            transaction.set_rollback(True)
            return 0
    return len(due)


def _advanced(portfolio: Portfolio, now: datetime) -> datetime | None:
    try:
        return next_rescan(portfolio.rescan_cron, after=now)
    except crons.InvalidCron:  # only a row written around the services (the API and dashboard validate)
        logger.error(
            "portfolio %s has an invalid rescan schedule %r: switched off", portfolio.pk, portfolio.rescan_cron
        )
        return None


def _send(portfolio_ids: list[int]) -> bool:
    queue = config.rescan_queue_name()
    for portfolio_id in portfolio_ids:
        try:
            send_task(RESCAN_TASK, args=[portfolio_id], queue=queue)
        except Exception:
            logger.exception("could not queue the rescan of portfolio %s: the batch stays on its slots", portfolio_id)
            return False
    return True
