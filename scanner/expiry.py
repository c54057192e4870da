"""Days left on a certificate, counted one way everywhere (findings, alerts, dashboard, exports)."""

from __future__ import annotations

from datetime import UTC, datetime

_SECONDS_PER_DAY = 86400


def whole_days_until(moment: datetime, now: datetime) -> int:
    """Whole days from `now` to `moment`, truncated toward zero.

    9 days 23 hours left reads 9; expired 10 days and 2 hours ago reads -10, as a person would say it.
    """
    return int((moment - now).total_seconds() / _SECONDS_PER_DAY)


def whole_days_until_timestamp(iso_timestamp: str | None, now: datetime) -> int | None:
    """The same for an ISO 8601 timestamp as stored in report documents; None when missing or unreadable."""
    if not iso_timestamp:
        return None
    try:
        moment = datetime.fromisoformat(str(iso_timestamp))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return whole_days_until(moment, now)
