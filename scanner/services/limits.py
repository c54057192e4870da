"""Counted abuse limits: a ledger of events (scans requested, sign-ups, confirmation mails), each limit a count
of one kind of event for one key over a sliding window. The ledger is the database, so the limits are exact
across web processes and survive a Redis outage; rows are kept a day, the longest window."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from scanner.models import LimitEvent
from scanner.services.errors import ScanRequestTooSoon

KEEP = timedelta(days=1)

_PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


def parse_rate(rate: str | None) -> tuple[int | None, int | None]:
    """'3/hour' -> (3, 3600). None, '' or a 0 count means no limit: (None, None)."""
    if not rate:
        return None, None
    count, _, period = str(rate).partition("/")
    if not int(count):
        return None, None
    return int(count), _PERIODS[period.strip().lower()]


def limit_record(kind: str, key: object, *, cost: int = 1) -> None:
    if cost > 0:
        LimitEvent.objects.create(kind=kind, key=str(key)[:255], cost=cost, at=timezone.now())


def limit_record_each(kind: str, keys: list[object]) -> None:
    """One event of `kind` for each key (a key listed twice counts twice), written in one statement."""
    now = timezone.now()
    LimitEvent.objects.bulk_create(LimitEvent(kind=kind, key=str(key)[:255], cost=1, at=now) for key in keys)


def limit_wait(kind: str, key: object, *, limit: int | None, window: int | None, cost: int = 1) -> int | None:
    """Seconds until `cost` more events of `kind` for `key` fit in `limit` per `window` seconds; None: now."""
    if not limit or not window:
        return None
    now = timezone.now()
    events = list(
        LimitEvent.objects.filter(kind=kind, key=str(key)[:255], at__gte=now - timedelta(seconds=window))
        .order_by("at")
        .values_list("at", "cost")
    )
    used = sum(event_cost for _, event_cost in events)
    if used + cost <= limit:
        return None
    if cost > limit:
        return window  # more than a whole quota at once never fits; say when the quota is fresh
    # Wait until enough of the oldest events leave the window to make room for this one.
    to_free, freed = used + cost - limit, 0
    for at, event_cost in events:
        freed += event_cost
        if freed >= to_free:
            return max(1, math.ceil((at + timedelta(seconds=window) - now).total_seconds()))
    return window


def limit_check(
    kind: str, key: object, *, rate: str | None, message: str, code: str, field: str, cost: int = 1
) -> None:
    """Refuse (ScanRequestTooSoon, a 429) when `cost` more events would go over `rate`; the message gets the wait
    appended."""
    limit, window = parse_rate(rate)
    wait = limit_wait(kind, key, limit=limit, window=window, cost=cost)
    if wait is not None:
        raise ScanRequestTooSoon(f"{message} Try again in {minutes(wait)}.", retry_after=wait, code=code, field=field)


def limit_used(kind: str, key: object, *, window: int) -> int:
    since = timezone.now() - timedelta(seconds=window)
    total = LimitEvent.objects.filter(kind=kind, key=str(key)[:255], at__gte=since).aggregate(n=Sum("cost"))["n"]
    return total or 0


def prune_limit_events(*, now: datetime | None = None) -> int:
    """Forget events older than a day (beat, daily)."""
    deleted, _ = LimitEvent.objects.filter(at__lt=(now or timezone.now()) - KEEP).delete()
    return deleted


def minutes(seconds: int) -> str:
    count = max(1, math.ceil(seconds / 60))
    return "1 minute" if count == 1 else f"{count} minutes"
