"""When a portfolio is rescanned: the fields scanner.models.Portfolio takes from this abstract model.
Kept apart because models.py is at its size limit; scanner.services.schedules writes them."""

from __future__ import annotations

from django.db import models


class RescanSchedule(models.Model):
    """A schedule is a cron expression read in CELERY_TIMEZONE; beat's minute tick (scanner.services.due_rescans)
    queues the portfolios whose next run has come. One indexed column replaces a beat entry per portfolio,
    which beat loaded and checked one by one (docs/capacity.md, item 5)."""

    # "m h dom mon dow" as the user gave it or as a preset spells it; empty when the portfolio is not scheduled.
    rescan_cron = models.CharField(max_length=100, blank=True, default="")
    # The next slot of `rescan_cron`, advanced by the tick as it queues the rescan; null = not scheduled.
    next_rescan_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        abstract = True
