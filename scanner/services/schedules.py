"""When each portfolio is rescanned: one django-celery-beat PeriodicTask per scheduled portfolio.

The beat entry calls scanner.tasks.rescan_portfolio with the portfolio id; beat's DatabaseScheduler
picks up changes made here without a restart.
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import TYPE_CHECKING

from celery.schedules import ParseException
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from scanner import config
from scanner.models import Portfolio
from scanner.services.errors import ScanRequestError

if TYPE_CHECKING:
    from django_celery_beat.models import IntervalSchedule

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
        remove_portfolio_schedule(portfolio)
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


def shortest_gap_minutes(minute: str, hour: str) -> int:
    """The shortest time between two firings of a crontab with these minute and hour fields, in minutes.

    Computed over one day, wrapping to the next: day-of-month and day-of-week fields only remove days, so
    this is a lower bound on the real gap whatever they say.
    """
    from celery.schedules import crontab

    parsed = crontab(minute=minute, hour=hour)
    times = sorted(h * 60 + m for h in parsed.hour for m in parsed.minute)
    if len(times) == 1:
        return 24 * 60
    gaps = [later - earlier for earlier, later in pairwise(times)]
    gaps.append(times[0] + 24 * 60 - times[-1])
    return min(gaps)


def check_schedule_interval(minute: str, hour: str, *, expression: str = "") -> None:
    """Refuse a rescan schedule firing more often than SCANNER_MIN_SCHEDULE_INTERVAL: each firing scans
    every site of the portfolio, hundreds of TLS connections per site."""
    minimum = config.min_schedule_interval()
    if not minimum:
        return
    gap = shortest_gap_minutes(minute, hour)
    if gap * 60 < minimum:
        raise ScanRequestError(
            f"The schedule '{expression or f'{minute} {hour} ...'}' would rescan every {gap} minutes; "
            f"rescans may run at most once every {_duration(minimum)}.",
            field="cron",
            code="schedule_too_frequent",
        )


def check_beat_schedule(*, crontab: CrontabSchedule | None = None, interval: IntervalSchedule | None = None) -> None:
    """The same minimum for a beat entry edited directly (the admin): a crontab or an interval schedule."""
    minimum = config.min_schedule_interval()
    if crontab is not None:
        check_schedule_interval(crontab.minute, crontab.hour, expression=_expression(crontab))
    if interval is not None and minimum:
        from datetime import timedelta

        seconds = timedelta(**{interval.period: interval.every}).total_seconds()
        if seconds < minimum:
            raise ScanRequestError(
                f"Rescans may run at most once every {_duration(minimum)}; this interval is {int(seconds)} s.",
                field="interval",
                code="schedule_too_frequent",
            )


def _expression(crontab: CrontabSchedule) -> str:
    return " ".join(str(getattr(crontab, name)) for name in CRON_FIELDS)


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "hour" if hours == 1 else f"{hours} hours"
    minutes = max(1, seconds // 60)
    return "minute" if minutes == 1 else f"{minutes} minutes"


def _task_name(portfolio: Portfolio) -> str:
    return f"rescan portfolio {portfolio.pk}"


def remove_portfolio_schedule(portfolio: Portfolio) -> None:
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
        CrontabSchedule(**fields, timezone=config.celery_timezone()).schedule  # noqa: B018 - parsing is the check
    except (ValueError, ParseException) as exc:  # ParseException is not a ValueError: '0 3 * * *,' was a 500
        raise ScanRequestError(f"Invalid cron expression '{expression}': {exc}", field="cron", code="invalid_cron")
    check_schedule_interval(fields["minute"], fields["hour"], expression=expression or "")
    crontab, _ = CrontabSchedule.objects.get_or_create(**fields, timezone=config.celery_timezone())
    return crontab
