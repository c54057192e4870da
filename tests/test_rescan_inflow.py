"""A million sites a day without flooding the broker: beat's release sends every scheduled rescan (first batches
included) within SCANNER_RELEASE_LIMIT a tick, while what a person asks for goes at once; the reaper resends only
messages that can have been lost, never one still waiting its turn in the queue (docs/capacity.md).

Messages go to the real Redis broker (a queue of their own per test), rows to the real database.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import redis
from django.db import transaction
from django.utils import timezone

from scanner import services, tasks
from scanner.models import Portfolio, Scan, Site
from scanner.services import scan_dispatch
from webui.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue(settings):
    name = f"scanner-inflow-{uuid.uuid4().hex[:12]}"
    settings.SCANNER_SCAN_QUEUE = settings.SCANNER_RESCAN_QUEUE = name
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    yield lambda: client.llen(name)
    client.delete(name, f"_kombu.binding.{name}")
    client.close()


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("agency")


def portfolio_of(owner, name: str, sites: int) -> Portfolio:
    portfolio = Portfolio.objects.create(owner=owner, name=name)
    portfolio.sites.add(
        *(
            Site.objects.create(owner=owner, hostname=f"s{n}.{name}.inflow.test", https_port=443, http_port=80)
            for n in range(sites)
        )
    )
    return portfolio


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def lost_scan(site: Site, *, sent_seconds_ago: float) -> Scan:
    """A queued scan marked sent whose message is nowhere in the broker (as after a Redis restart)."""
    return Scan.objects.create(
        site=site, status=Scan.Status.QUEUED, celery_task_id=str(uuid.uuid4()), enqueued_at=ago(sent_seconds_ago)
    )


def waiting_scan(site: Site, *, sent_seconds_ago: float, portfolio: Portfolio | None = None) -> Scan:
    """A queued scan whose message really waits in the broker's queue, sent that long ago."""
    scan = Scan.objects.create(
        site=site, portfolio=portfolio, status=Scan.Status.QUEUED, celery_task_id=str(uuid.uuid4())
    )
    assert services.enqueue_scan(scan.pk, scan.celery_task_id, queue=scan_dispatch.scan_queue(scan))
    Scan.objects.filter(pk=scan.pk).update(enqueued_at=ago(sent_seconds_ago))
    return scan


def test_a_scheduled_rescan_sends_nothing_itself_and_its_first_batch_goes_with_the_release(owner, queue):
    portfolio = portfolio_of(owner, "nightly", 3)

    assert tasks.rescan_portfolio(portfolio.pk) == 3

    assert queue() == 0
    assert tasks.release_due_scans() == 3
    assert queue() == 3


def test_the_release_limit_bounds_the_first_batches_of_every_portfolio_due_at_once(owner, queue, settings):
    settings.SCANNER_RELEASE_LIMIT = 3
    for name in ("first", "second"):
        tasks.rescan_portfolio(portfolio_of(owner, name, 2).pk)

    assert tasks.release_due_scans() == 3
    assert queue() == 3
    assert tasks.release_due_scans() == 0  # the three still wait in the broker: nothing is added to them
    assert queue() == 3


def test_the_release_tops_the_queue_up_to_its_limit_as_the_workers_take_messages(owner, queue, settings):
    settings.SCANNER_RELEASE_LIMIT = 3
    tasks.rescan_portfolio(portfolio_of(owner, "nightly", 5).pk)
    assert tasks.release_due_scans() == 3

    redis.Redis.from_url(celery_app.conf.broker_url).rpop(settings.SCANNER_RESCAN_QUEUE, 2)  # workers take two

    assert tasks.release_due_scans() == 2
    assert queue() == 3


def test_the_release_sends_in_release_order_over_several_batches_each_marked_sent(owner, queue, settings, monkeypatch):
    settings.SCANNER_RELEASE_LIMIT = 5
    monkeypatch.setattr(scan_dispatch, "RELEASE_BATCH", 2)
    tasks.rescan_portfolio(portfolio_of(owner, "nightly", 6).pk)
    order = list(Scan.objects.order_by("release_at", "id").values_list("pk", flat=True))

    assert tasks.release_due_scans() == 5

    sent = Scan.objects.filter(enqueued_at__isnull=False)
    assert sorted(sent.values_list("pk", flat=True)) == sorted(order[:5])
    assert all(scan.release_at == scan.enqueued_at and scan.reserved_by == "" for scan in sent)
    waiting = redis.Redis.from_url(celery_app.conf.broker_url).lrange(settings.SCANNER_RESCAN_QUEUE, 0, -1)
    assert [json.loads(message)["headers"]["argsrepr"] for message in reversed(waiting)] == [
        f"[{pk}]" for pk in order[:5]
    ]


def test_a_release_rolled_back_sends_nothing_and_leaves_its_scans_held(owner, queue):
    tasks.rescan_portfolio(portfolio_of(owner, "nightly", 3).pk)

    with pytest.raises(RuntimeError), transaction.atomic():
        assert services.release_due_scans() == 3
        raise RuntimeError("the release's transaction failed after marking them sent")

    assert queue() == 0
    assert Scan.objects.filter(enqueued_at__isnull=True).count() == 3


def test_a_persons_portfolio_scan_is_sent_at_once_without_waiting_for_the_release(owner, queue):
    services.submit_portfolio_scans(portfolio_of(owner, "mine", 3))

    assert queue() == 3
    assert not Scan.objects.filter(enqueued_at__isnull=True).exists()


def test_a_scan_whose_message_still_waits_in_the_broker_is_not_sent_again(owner, queue, settings):
    [site] = portfolio_of(owner, "backlog", 1).sites.all()
    waiting = waiting_scan(site, sent_seconds_ago=settings.SCANNER_QUEUED_RESEND_AFTER + 5)

    assert services.reap_stale_scans() == {"resent": 0, "requeued": 0, "failed": 0}
    assert queue() == 1
    waiting.refresh_from_db()
    assert waiting.enqueued_at < ago(settings.SCANNER_QUEUED_RESEND_AFTER)


def test_a_scan_sent_before_the_oldest_waiting_message_was_lost_and_is_sent_again(owner, queue, settings):
    first, second = portfolio_of(owner, "restart", 2).sites.order_by("pk")
    lost = lost_scan(first, sent_seconds_ago=settings.SCANNER_QUEUED_RESEND_AFTER + 60)
    waiting_scan(second, sent_seconds_ago=settings.SCANNER_QUEUED_RESEND_AFTER + 5)

    assert services.reap_stale_scans()["resent"] == 1
    lost.refresh_from_db()
    assert lost.enqueued_at > ago(5)
    assert queue() == 2


def test_a_reaper_tick_resends_at_most_its_limit_in_batches_and_the_next_tick_the_rest(
    owner, queue, settings, monkeypatch
):
    monkeypatch.setattr(scan_dispatch, "REAP_LIMIT", 3)
    monkeypatch.setattr(scan_dispatch, "REAP_BATCH", 2)
    for site in portfolio_of(owner, "lost", 5).sites.all():
        lost_scan(site, sent_seconds_ago=settings.SCANNER_QUEUED_RESEND_AFTER + 5)

    assert services.reap_stale_scans()["resent"] == 3
    assert services.reap_stale_scans()["resent"] == 2
    assert queue() == 5


def test_a_queue_whose_oldest_messages_are_not_scans_does_not_hold_back_a_lost_scans_resend(owner, queue, settings):
    from scanner.queueing import SEND_CHANNEL_TEST, send_task

    [site] = portfolio_of(owner, "other-task", 1).sites.all()
    send_task(SEND_CHANNEL_TEST, args=[0], queue=settings.SCANNER_SCAN_QUEUE)
    lost_scan(site, sent_seconds_ago=settings.SCANNER_QUEUED_RESEND_AFTER + 5)

    assert services.reap_stale_scans()["resent"] == 1
    assert queue() == 2


def test_a_backlog_in_the_rescans_queue_does_not_hold_back_a_lost_interactive_scan(owner, queue, settings):
    settings.SCANNER_SCAN_QUEUE = f"{settings.SCANNER_RESCAN_QUEUE}-interactive"
    portfolio = portfolio_of(owner, "two-queues", 2)
    first, second = portfolio.sites.order_by("pk")
    waiting_scan(second, sent_seconds_ago=settings.SCANNER_QUEUED_RESEND_AFTER + 60, portfolio=portfolio)
    lost = lost_scan(first, sent_seconds_ago=settings.SCANNER_QUEUED_RESEND_AFTER + 5)  # no portfolio: scans queue

    client = redis.Redis.from_url(celery_app.conf.broker_url)
    try:
        assert services.reap_stale_scans()["resent"] == 1
        assert client.llen(settings.SCANNER_SCAN_QUEUE) == 1
    finally:
        client.delete(settings.SCANNER_SCAN_QUEUE, f"_kombu.binding.{settings.SCANNER_SCAN_QUEUE}")
        client.close()
    lost.refresh_from_db()
    assert lost.enqueued_at > ago(5)
    assert queue() == 1
