"""Days left on a certificate are counted the same way in findings, alerts, the dashboard and exports."""

from datetime import UTC, datetime, timedelta

from scanner.expiry import whole_days_until, whole_days_until_timestamp

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_a_partial_day_left_does_not_count():
    assert whole_days_until(NOW + timedelta(days=9, hours=23), NOW) == 9


def test_days_since_expiry_are_truncated_toward_zero():
    assert whole_days_until(NOW - timedelta(days=10, hours=2), NOW) == -10


def test_iso_timestamps_from_report_documents_are_read():
    assert whole_days_until_timestamp((NOW + timedelta(days=30)).isoformat(), NOW) == 30


def test_naive_timestamps_are_taken_as_utc():
    assert whole_days_until_timestamp("2026-12-05T12:00:00", NOW) == 10


def test_missing_or_unreadable_timestamps_give_none():
    assert whole_days_until_timestamp(None, NOW) is None
    assert whole_days_until_timestamp("not a date", NOW) is None
