"""When each portfolio is rescanned: one django-celery-beat PeriodicTask per scheduled portfolio.

The beat entry calls scanner.tasks.rescan_portfolio with the portfolio id; beat's DatabaseScheduler
picks up changes made here without a restart.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from scanner.models import Portfolio
from scanner.services import ScanRequestError

RESCAN_TASK = "scanner.tasks.rescan_portfolio"
SCHEDULE_KINDS = ("daily", "weekly", "cron", "off")
# Fixed, quiet times for the presets: 03:00 every day, 03:00 every Monday.
PRESET_CRONS = {"daily": "0 3 * * *", "weekly": "0 3 * * 1"}
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


def set_portfolio_schedule(portfolio: Portfolio, kind: str, cron: str | None = None) -> PeriodicTask | None:
    """Create, change or (kind 'off') remove the portfolio's rescan schedule. Returns the beat entry, if any."""
    if kind not in SCHEDULE_KINDS:
        raise ScanRequestError(f"Schedule kind must be one of {', '.join(SCHEDULE_KINDS)}.", field="kind")
    if kind == "off":
        _remove_schedule(portfolio)
        return None
    if kind != "cron" and cron:
        raise ScanRequestError(f"A '{kind}' schedule takes no cron expression.", field="cron")
    crontab = _crontab_for(cron if kind == "cron" else PRESET_CRONS[kind])
    with transaction.atomic():
        task = PeriodicTask.objects.filter(name=_task_name(portfolio)).first() or PeriodicTask(task=RESCAN_TASK)
        task.name = _task_name(portfolio)
        task.crontab = crontab
        task.kwargs = json.dumps({"portfolio_id": portfolio.pk})
        task.enabled = True
        task.save()
        if portfolio.schedule_task_id != task.pk:
            portfolio.schedule_task = task
            portfolio.save(update_fields=["schedule_task"])
    return task


def describe_schedule(portfolio: Portfolio) -> dict | None:
    """{"kind": ..., "cron": "m h dom mon dow"} for display, or None when the portfolio is not scheduled."""
    task = portfolio.schedule_task
    if task is None or task.crontab is None:
        return None
    expression = " ".join(str(getattr(task.crontab, name)) for name in CRON_FIELDS)
    kind = next((name for name, preset in PRESET_CRONS.items() if preset == expression), "cron")
    return {"kind": kind, "cron": expression, "enabled": task.enabled}


def _task_name(portfolio: Portfolio) -> str:
    return f"rescan portfolio {portfolio.pk}"


def _remove_schedule(portfolio: Portfolio) -> None:
    # Looked up by name, so a stale in-memory portfolio still removes the right entry.
    PeriodicTask.objects.filter(name=_task_name(portfolio)).delete()  # SET_NULL clears schedule_task
    portfolio.schedule_task = None


def _crontab_for(expression: str | None) -> CrontabSchedule:
    parts = (expression or "").split()
    if len(parts) != len(CRON_FIELDS):
        raise ScanRequestError(
            "A cron expression has 5 fields: minute hour day-of-month month day-of-week, e.g. '0 3 * * 1'.",
            field="cron",
            code="invalid_cron",
        )
    fields = dict(zip(CRON_FIELDS, parts))
    try:
        # celery's crontab parser rejects out-of-range or malformed fields ("61", "*/0", "mon-xyz").
        CrontabSchedule(**fields, timezone=settings.CELERY_TIMEZONE).schedule  # noqa: B018 - parsing is the check
    except ValueError as exc:
        raise ScanRequestError(f"Invalid cron expression '{expression}': {exc}", field="cron", code="invalid_cron")
    crontab, _ = CrontabSchedule.objects.get_or_create(**fields, timezone=settings.CELERY_TIMEZONE)
    return crontab
