"""When each portfolio is rescanned: a cron expression and the next run it gives, on the portfolio.

Beat's minute tick (scanner.services.due_rescans) queues scanner.tasks.rescan_portfolio for every portfolio whose
next run has come; a change made here takes effect at the next tick, without touching beat.
"""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING

from django.utils import timezone

from scanner import config, crons
from scanner.models import Portfolio
from scanner.services.errors import ScanRequestError

if TYPE_CHECKING:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule

RESCAN_TASK = "scanner.tasks.rescan_portfolio"
SCHEDULE_KINDS = ("daily", "weekly", "cron", "off")
# Fixed, quiet times for the presets: 03:00 every day, 03:00 every Monday.
PRESET_CRONS = {"daily": "0 3 * * *", "weekly": "0 3 * * 1"}
CRON_FIELDS = crons.FIELDS


def set_portfolio_schedule(portfolio: Portfolio, kind: str, cron: str | None = None) -> datetime | None:
    """Set, change or (kind 'off') remove the portfolio's rescan schedule. Returns its next run, if any."""
    if kind not in SCHEDULE_KINDS:
        raise ScanRequestError(f"Schedule kind must be one of {', '.join(SCHEDULE_KINDS)}.", field="kind")
    if kind == "off":
        remove_portfolio_schedule(portfolio)
        return None
    if kind != "cron" and cron:
        raise ScanRequestError(f"A '{kind}' schedule takes no cron expression.", field="cron")
    expression = _checked_expression(cron if kind == "cron" else PRESET_CRONS[kind])
    if expression == portfolio.rescan_cron and portfolio.next_rescan_at is not None:
        return portfolio.next_rescan_at  # saved again unchanged: a slot that is due but not yet queued stays due
    portfolio.rescan_cron = expression
    portfolio.next_rescan_at = next_rescan(expression)
    # By primary key only: a portfolio deleted meanwhile stays deleted instead of coming back through save().
    Portfolio.objects.filter(pk=portfolio.pk).update(
        rescan_cron=portfolio.rescan_cron, next_rescan_at=portfolio.next_rescan_at
    )
    return portfolio.next_rescan_at


def next_rescan(expression: str, *, after: datetime | None = None) -> datetime:
    """The schedule's first slot after `after` (now), read in CELERY_TIMEZONE as its beat entry was."""
    return crons.next_run(expression, after or timezone.now(), config.celery_timezone())


def describe_schedule(portfolio: Portfolio) -> dict | None:
    """{"kind": ..., "cron": "m h dom mon dow"} for display, or None when the portfolio is not scheduled."""
    if not portfolio.rescan_cron or portfolio.next_rescan_at is None:
        return None
    expression = portfolio.rescan_cron
    kind = next((name for name, preset in PRESET_CRONS.items() if preset == expression), "cron")
    # "enabled" stays for the API's clients: a beat entry could be switched off in the admin; a schedule is
    # now either set (enabled) or off (no schedule at all).
    return {"kind": kind, "cron": expression, "enabled": True}


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


def remove_portfolio_schedule(portfolio: Portfolio) -> None:
    portfolio.rescan_cron = ""
    portfolio.next_rescan_at = None
    Portfolio.objects.filter(pk=portfolio.pk).update(rescan_cron="", next_rescan_at=None)


def _checked_expression(expression: str | None) -> str:
    try:
        crons.parse(expression or "", config.celery_timezone())
    except crons.InvalidCron as exc:
        raise ScanRequestError(str(exc), field="cron", code="invalid_cron") from None
    minute, hour, *_ = parts = (expression or "").split()
    check_schedule_interval(minute, hour, expression=expression or "")
    return " ".join(parts)
