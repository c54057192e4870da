"""Beat's minute tick queues each scheduled portfolio's rescan once per slot, from the portfolio's next-run time.

The messages go to the real Redis broker (a queue of this test's own) and are read back from it; the clock is
django.utils.timezone.now, set by each test to the minute it is about.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu.exceptions import OperationalError

from scanner.models import Portfolio
from scanner.services.due_rescans import queue_due_rescans
from scanner.services.schedules import describe_schedule, set_portfolio_schedule
from webui.celery import app as celery_app

MONDAY = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """The time every service reads; tests move it."""

    class Clock:
        now = MONDAY

        def at(self, moment: datetime) -> None:
            self.now = moment

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


@pytest.fixture
def rescans_sent(settings):
    """The portfolio ids of the rescan_portfolio messages in the broker, in the order sent."""
    name = f"scanner-due-rescans-{uuid.uuid4().hex[:12]}"
    settings.SCANNER_RESCAN_QUEUE = name
    client = redis.Redis.from_url(celery_app.conf.broker_url)

    def sent() -> list[int]:
        ids = []
        for raw in reversed(client.lrange(name, 0, -1)):  # kombu pushes on the left
            message = json.loads(raw)
            assert message["headers"]["task"] == "scanner.tasks.rescan_portfolio"
            args, _kwargs, _ = json.loads(base64.b64decode(message["body"]))
            ids.extend(args)
        return ids

    yield sent
    client.delete(name, f"_kombu.binding.{name}")
    client.close()


def tick(django_capture_on_commit_callbacks, **kwargs) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return queue_due_rescans(**kwargs)


@pytest.fixture
def portfolio(alice):
    return Portfolio.objects.create(owner=alice, name="clients")


@pytest.mark.django_db
def test_a_due_portfolio_is_queued_once_per_slot(portfolio, clock, rescans_sent, django_capture_on_commit_callbacks):
    clock.at(MONDAY + timedelta(hours=1))
    set_portfolio_schedule(portfolio, "daily")
    clock.at(MONDAY + timedelta(hours=2, minutes=59))
    assert tick(django_capture_on_commit_callbacks) == 0

    clock.at(MONDAY + timedelta(hours=3, seconds=5))
    assert tick(django_capture_on_commit_callbacks) == 1
    clock.at(MONDAY + timedelta(hours=3, minutes=1, seconds=5))
    assert tick(django_capture_on_commit_callbacks) == 0

    assert rescans_sent() == [portfolio.pk]
    portfolio.refresh_from_db()
    assert portfolio.next_rescan_at == MONDAY + timedelta(days=1, hours=3)


@pytest.mark.django_db
def test_a_missed_slot_is_run_once_when_beat_is_back(
    portfolio, clock, rescans_sent, django_capture_on_commit_callbacks
):
    clock.at(MONDAY + timedelta(hours=9, minutes=30))
    set_portfolio_schedule(portfolio, "cron", "0 * * * *")  # hourly: slots at 10:00, 11:00 ... 15:00 pass unseen

    clock.at(MONDAY + timedelta(hours=15, minutes=30))
    assert tick(django_capture_on_commit_callbacks) == 1

    assert rescans_sent() == [portfolio.pk]
    portfolio.refresh_from_db()
    assert portfolio.next_rescan_at == MONDAY + timedelta(hours=16)


@pytest.mark.django_db
def test_a_changed_schedule_takes_effect_at_the_next_tick(
    portfolio, clock, rescans_sent, django_capture_on_commit_callbacks
):
    clock.at(MONDAY + timedelta(hours=1))
    set_portfolio_schedule(portfolio, "weekly")  # next Monday
    set_portfolio_schedule(portfolio, "cron", "30 1 * * *")

    clock.at(MONDAY + timedelta(hours=1, minutes=30, seconds=2))
    assert tick(django_capture_on_commit_callbacks) == 1
    assert rescans_sent() == [portfolio.pk]


@pytest.mark.django_db
def test_a_portfolio_switched_off_is_never_queued(
    portfolio, alice, clock, rescans_sent, django_capture_on_commit_callbacks
):
    never_scheduled = Portfolio.objects.create(owner=alice, name="never")
    set_portfolio_schedule(portfolio, "daily")
    set_portfolio_schedule(portfolio, "off")

    for day in range(8):
        clock.at(MONDAY + timedelta(days=day, hours=3, seconds=1))
        assert tick(django_capture_on_commit_callbacks) == 0

    assert rescans_sent() == []
    assert describe_schedule(Portfolio.objects.get(pk=portfolio.pk)) is None
    assert describe_schedule(never_scheduled) is None


@pytest.mark.django_db
def test_the_tick_claims_in_batches_until_none_is_due(alice, clock, rescans_sent, django_capture_on_commit_callbacks):
    portfolios = [Portfolio.objects.create(owner=alice, name=f"p{n}") for n in range(7)]
    for portfolio in portfolios:
        set_portfolio_schedule(portfolio, "daily")

    clock.at(MONDAY + timedelta(hours=3, seconds=1))
    assert tick(django_capture_on_commit_callbacks, batch_size=3) == 7

    assert sorted(rescans_sent()) == sorted(portfolio.pk for portfolio in portfolios)


@pytest.mark.django_db
def test_the_schedule_is_read_in_the_configured_timezone_across_daylight_saving(settings, portfolio, clock):
    settings.CELERY_TIMEZONE = "Europe/Berlin"
    clock.at(datetime(2026, 3, 28, 12, tzinfo=UTC))  # Saturday: 03:00 in Berlin is 02:00 UTC (CET)
    assert set_portfolio_schedule(portfolio, "daily") == datetime(2026, 3, 29, 1, tzinfo=UTC)  # 03:00 CEST
    set_portfolio_schedule(portfolio, "off")
    clock.at(datetime(2026, 10, 24, 12, tzinfo=UTC))
    assert set_portfolio_schedule(portfolio, "daily") == datetime(2026, 10, 25, 2, tzinfo=UTC)  # 03:00 CET


@pytest.mark.django_db
def test_the_api_and_dashboard_show_the_schedule_as_before(portfolio):
    set_portfolio_schedule(portfolio, "cron", "15 2 * * 1-5")
    assert describe_schedule(Portfolio.objects.get(pk=portfolio.pk)) == {
        "kind": "cron",
        "cron": "15 2 * * 1-5",
        "enabled": True,
    }
    set_portfolio_schedule(portfolio, "weekly")
    assert describe_schedule(Portfolio.objects.get(pk=portfolio.pk))["kind"] == "weekly"


# --- Racing ticks (real PostgreSQL row locks) ------------------------------------------------------------------


def _due_portfolios(owner, count: int) -> list[int]:
    due = timezone.now() - timedelta(minutes=1)
    created = Portfolio.objects.bulk_create(
        Portfolio(owner=owner, name=f"race {n}", rescan_cron="0 3 * * *", next_rescan_at=due) for n in range(count)
    )
    return [portfolio.pk for portfolio in created]


def _skip_on_sqlite() -> None:
    if connection.vendor == "sqlite":
        pytest.skip("row locks need PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)")


@pytest.mark.django_db(transaction=True)
def test_two_ticks_racing_queue_every_due_portfolio_exactly_once(alice, rescans_sent):
    _skip_on_sqlite()
    due = _due_portfolios(alice, 300)
    start = threading.Barrier(2)
    queued: list[int] = []

    def run_tick() -> None:
        try:
            start.wait()
            queued.append(queue_due_rescans(batch_size=20))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run_tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(queued) == len(due)
    assert Counter(rescans_sent()) == Counter(due)


@pytest.mark.django_db(transaction=True)
def test_a_tick_skips_the_portfolios_another_tick_holds_without_waiting(alice, rescans_sent):
    _skip_on_sqlite()
    held, free = _due_portfolios(alice, 2)
    holding, release = threading.Event(), threading.Event()

    def other_tick_holding_a_row() -> None:
        try:
            with transaction.atomic():
                Portfolio.objects.select_for_update().filter(pk=held).get()
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    other = threading.Thread(target=other_tick_holding_a_row)
    other.start()
    try:
        assert holding.wait(timeout=10)
        assert queue_due_rescans() == 1
    finally:
        release.set()
        other.join(timeout=30)

    assert rescans_sent() == [free]
    assert Portfolio.objects.get(pk=held).next_rescan_at <= timezone.now()  # still due: the next tick takes it


@pytest.mark.django_db
def test_the_tick_reads_the_due_portfolios_in_index_order_without_sorting_a_shared_slot(alice):
    # 70,000 portfolios share the 03:00 slot at 10 M sites: a sort of the slot per batch made the tick quadratic.
    _skip_on_sqlite()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO scanner_portfolio (owner_id, name, created_at, notify_all_channels, compliance_profiles, "
            "rescan_cron, next_rescan_at) SELECT %s, 'p' || n, now(), true, '[]', '0 3 * * *', "
            "CASE WHEN n %% 3 = 0 THEN date_trunc('hour', now()) ELSE now() + interval '1 day' END "
            "FROM generate_series(1, 6000) n",
            [alice.pk],
        )
        cursor.execute("ANALYZE scanner_portfolio")
    with CaptureQueriesContext(connection) as queries:
        queue_due_rescans(batch_size=500)  # in the test's transaction: nothing is committed or sent
    claim = next(query["sql"] for query in queries.captured_queries if "FOR UPDATE" in query["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {claim}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Scan using scanner_portfolio_next_rescan_at" in plan
    assert "Sort" not in plan


@pytest.mark.django_db
def test_a_rescan_that_cannot_be_sent_stays_due_for_the_next_tick(
    portfolio, clock, rescans_sent, monkeypatch, django_capture_on_commit_callbacks
):
    clock.at(MONDAY + timedelta(hours=1))
    set_portfolio_schedule(portfolio, "daily")
    clock.at(MONDAY + timedelta(hours=3, seconds=5))
    with monkeypatch.context() as broker_down:  # publishing fails as kombu fails when nothing listens
        broker_down.setattr(celery_app, "send_task", refused)
        tick(django_capture_on_commit_callbacks)
    assert Portfolio.objects.get(pk=portfolio.pk).next_rescan_at == MONDAY + timedelta(hours=3)

    clock.at(MONDAY + timedelta(hours=3, minutes=1, seconds=5))
    assert tick(django_capture_on_commit_callbacks) == 1
    assert rescans_sent() == [portfolio.pk]


def refused(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.mark.django_db
def test_saving_the_same_schedule_again_keeps_a_due_slot(
    portfolio, clock, rescans_sent, django_capture_on_commit_callbacks
):
    clock.at(MONDAY + timedelta(hours=1))
    set_portfolio_schedule(portfolio, "daily")
    clock.at(MONDAY + timedelta(hours=3, seconds=20))  # due, the tick not yet run
    set_portfolio_schedule(Portfolio.objects.get(pk=portfolio.pk), "daily")

    assert tick(django_capture_on_commit_callbacks) == 1
    assert rescans_sent() == [portfolio.pk]


class TickKilled(BaseException):
    """What a kill between the tick's sends and its commit looks like from the database: no commit."""


@pytest.mark.django_db(transaction=True)
def test_a_tick_killed_after_sending_leaves_the_slot_due_and_the_second_send_adds_no_scans(
    portfolio, clock, rescans_sent, monkeypatch
):
    from scanner.models import Scan, Site
    from scanner.services import due_rescans
    from scanner.tasks import rescan_portfolio

    for host in ("shop.example", "blog.example"):
        portfolio.sites.add(Site.objects.create(owner=portfolio.owner, hostname=host))
    clock.at(MONDAY + timedelta(hours=1))
    set_portfolio_schedule(portfolio, "daily")
    clock.at(MONDAY + timedelta(hours=3, seconds=5))
    sent_then_killed = due_rescans._send

    def send_and_die(portfolio_ids):
        sent_then_killed(portfolio_ids)
        raise TickKilled

    with monkeypatch.context() as killed:
        killed.setattr(due_rescans, "_send", send_and_die)
        with pytest.raises(TickKilled):
            queue_due_rescans()
    assert rescans_sent() == [portfolio.pk]  # the message left before the kill
    assert Portfolio.objects.get(pk=portfolio.pk).next_rescan_at == MONDAY + timedelta(hours=3)

    assert queue_due_rescans() == 1  # the next tick sends it again: at least once, never lost
    assert rescans_sent() == [portfolio.pk, portfolio.pk]
    for _ in rescans_sent():
        rescan_portfolio(portfolio.pk)
    assert Scan.objects.filter(portfolio=portfolio).count() == 2  # one per site, not one per message
