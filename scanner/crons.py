"""Cron expressions of rescan schedules: parsing, and the next time one fires.

Parsed and computed by the same code celery beat used when each portfolio had a beat entry of its own
(django-celery-beat's timezone-aware crontab): the fields mean what they meant then (day of month AND day of
week, Sunday = 0), and the wall-clock time is read in the schedule's timezone, so a 03:00 schedule stays at
03:00 local time across daylight-saving changes. No Django here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from django_celery_beat.tzcrontab import TzAwareCrontab

FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


class InvalidCron(ValueError):
    pass


def parse(expression: str, timezone_name: str) -> TzAwareCrontab:
    """The crontab of a five-field expression ("m h dom mon dow"), or InvalidCron saying what is wrong."""
    # Imported here, not with the module: celery's schedules import its whole app, about a sixth of the set-up of
    # a process that only stores a command-line scan (it imports the services, and so this module).
    from celery.schedules import ParseException
    from django_celery_beat.tzcrontab import TzAwareCrontab

    parts = expression.split()
    if len(parts) != len(FIELDS):
        raise InvalidCron(
            "A cron expression has 5 fields: minute hour day-of-month month day-of-week, e.g. '0 3 * * 1'."
        )
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    try:
        return TzAwareCrontab(minute, hour, day_of_week, day_of_month, month_of_year, tz=ZoneInfo(timezone_name))
    except (ValueError, ParseException) as exc:  # ParseException is not a ValueError: '0 3 * * *,' was a 500
        raise InvalidCron(f"Invalid cron expression '{expression}': {exc}") from exc


def next_run(expression: str, after: datetime, timezone_name: str) -> datetime:
    """The first time the schedule fires strictly after `after` (aware), in UTC.

    Beat asked a crontab "how long from the last run until the next one?" with the last run and the clock both
    at `after`; this asks the same question once, so a run at 03:00:20 of a daily 03:00 schedule gives tomorrow
    03:00, and a schedule that was missed for hours gives its next slot after `after`, not every missed one.
    """
    schedule = parse(expression, timezone_name)
    local = after.astimezone(schedule.tz)
    schedule.nowfun = lambda: local
    start, delta, _ = schedule.remaining_delta(local)
    # Wall-clock arithmetic in the schedule's zone, then the zone's offset at that wall time: what celery's
    # remaining() does, so a slot inside a daylight-saving gap fires when beat fired it.
    return (start + delta).astimezone(UTC)


def expression_of(fields: dict[str, str]) -> str:
    return " ".join(str(fields[name]) for name in FIELDS)
