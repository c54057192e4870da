"""Scans never get stuck: the reaper, dedup that skips dead scans, held-back rescan batches, 503 on a dead broker.

Messages go to the real Redis broker (a queue of their own per test), rows to the real database; the
worker-side behaviour under kill -9 and Redis restarts is in tests/faults/.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from datetime import timedelta

import pytest
import redis
from django.utils import timezone
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from scanner import nodes, services
from scanner.models import Portfolio, Scan, Site
from webui.api.tokens import token_create
from webui.celery import app as celery_app


@pytest.fixture
def queue(settings, lab_settings):
    name = f"scanner-lifecycle-{uuid.uuid4().hex[:12]}"
    settings.SCANNER_SCAN_QUEUE = settings.SCANNER_RESCAN_QUEUE = name  # interactive and portfolio scans alike
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    yield lambda: client.llen(name)
    client.delete(name, f"_kombu.binding.{name}")
    client.close()


@pytest.fixture
def site(django_user_model, lab):
    user = django_user_model.objects.create_user("owner")
    case = lab.case("good")
    return Site.objects.create(owner=user, hostname=case.hostname, https_port=case.https_port, http_port=case.http_port)


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def _scan(site, **fields) -> Scan:
    return Scan.objects.create(site=site, celery_task_id=str(uuid.uuid4()), **fields)


@pytest.mark.django_db(transaction=True)
def test_a_running_scan_whose_heartbeat_stopped_is_queued_again_and_sent(site, queue, settings):
    scan = _scan(
        site, status=Scan.Status.RUNNING, attempts=1, started_at=ago(90), heartbeat_at=ago(80), worker="elsewhere:1"
    )

    counts = services.reap_stale_scans()

    scan.refresh_from_db()
    assert counts["requeued"] == 1
    assert (scan.status, scan.worker) == (Scan.Status.QUEUED, "")
    assert queue() == 1


@pytest.mark.django_db(transaction=True)
def test_a_running_scan_with_a_fresh_heartbeat_is_left_alone(site, queue):
    scan = _scan(
        site, status=Scan.Status.RUNNING, attempts=1, started_at=ago(90), heartbeat_at=ago(1), worker="elsewhere:1"
    )

    assert services.reap_stale_scans() == {"resent": 0, "requeued": 0, "failed": 0}
    scan.refresh_from_db()
    assert scan.status == Scan.Status.RUNNING
    assert queue() == 0


@pytest.mark.django_db(transaction=True)
def test_a_scan_silent_after_its_soft_limit_is_failed_as_over_the_time_limit(site, queue, settings):
    started = ago(settings.SCANNER_TASK_SOFT_TIME_LIMIT + 100)
    scan = _scan(
        site,
        status=Scan.Status.RUNNING,
        attempts=1,
        started_at=started,
        heartbeat_at=started + timedelta(seconds=settings.SCANNER_TASK_SOFT_TIME_LIMIT + 5),
    )

    services.reap_stale_scans()

    scan.refresh_from_db()
    assert scan.status == Scan.Status.FAILED
    assert f"{settings.SCANNER_TASK_TIME_LIMIT} s time limit" in scan.error
    assert queue() == 0


@pytest.mark.django_db(transaction=True)
def test_a_queued_scan_whose_message_was_lost_is_sent_again(site, queue, settings):
    scan = _scan(site, status=Scan.Status.QUEUED, enqueued_at=ago(settings.SCANNER_QUEUED_RESEND_AFTER + 5))

    assert services.reap_stale_scans()["resent"] == 1
    scan.refresh_from_db()
    assert scan.status == Scan.Status.QUEUED
    assert scan.enqueued_at > ago(5)
    assert queue() == 1


@pytest.fixture
def node_heartbeats(monkeypatch, settings):
    """A heartbeat set of this test's own: node name -> seconds since its last beat."""
    key = f"scanner:test-heartbeats:{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(nodes, "HEARTBEAT_KEY", key)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    def beat(node: str, seconds_ago: float) -> None:
        client.zadd(key, {node: timezone.now().timestamp() - seconds_ago})

    yield beat
    client.delete(key)
    client.close()


@pytest.mark.django_db(transaction=True)
def test_a_queued_scan_held_by_a_node_that_stopped_beating_is_sent_again_at_once(
    site, queue, settings, node_heartbeats
):
    node_heartbeats("scans@gone", settings.SCANNER_WORKER_HEARTBEAT_MAX_AGE + 5)
    scan = _scan(site, status=Scan.Status.QUEUED, enqueued_at=ago(60))  # far from the 300 s resend
    services.scan_reserved(scan.pk, "scans@gone")

    assert services.reap_stale_scans()["resent"] == 1
    scan.refresh_from_db()
    assert (scan.reserved_by, scan.enqueued_at > ago(5)) == ("", True)
    assert queue() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("node", ["scans@alive", "scans@never-heard-of"])
def test_a_queued_scan_held_by_a_live_or_unknown_node_waits_for_it(site, queue, node_heartbeats, node):
    node_heartbeats("scans@alive", 1)
    scan = _scan(site, status=Scan.Status.QUEUED, enqueued_at=ago(60))
    services.scan_reserved(scan.pk, node)

    assert services.reap_stale_scans()["resent"] == 0
    scan.refresh_from_db()
    assert scan.reserved_by == node
    assert queue() == 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_node_notes_which_scan_messages_it_holds(site, queue, settings):
    """Celery's task_received, as a node's consumer fires it for every message it takes (prefetch included)."""
    from celery.signals import task_received

    import scanner.tasks  # noqa: F401 - connects the receiver, as a worker's autodiscovery does

    scan = _scan(site, status=Scan.Status.QUEUED, enqueued_at=ago(1))
    request = type("Request", (), {"name": "scanner.tasks.run_scan", "args": [scan.pk], "hostname": "scans@node7"})
    task_received.send(sender=None, request=request())
    scan.refresh_from_db()
    assert scan.reserved_by == "scans@node7"


@pytest.mark.django_db(transaction=True)
def test_a_scan_queued_longer_than_the_limit_is_failed_with_the_reason(site, queue, settings):
    scan = _scan(site, status=Scan.Status.QUEUED, enqueued_at=ago(10))
    Scan.objects.filter(pk=scan.pk).update(requested_at=ago(settings.SCANNER_QUEUED_LIMIT + 5))

    services.reap_stale_scans()

    scan.refresh_from_db()
    assert scan.status == Scan.Status.FAILED
    assert "never started" in scan.error


@pytest.mark.django_db(transaction=True)
def test_a_rescan_held_back_past_the_queued_limit_is_left_for_release_not_failed(site, queue, settings):
    # A day's rescans can outrun release_due_scans' 500 per tick by hours: the rows wait in the database, not
    # in the broker, and are the release's to send.
    held = _scan(site, status=Scan.Status.QUEUED, release_at=ago(settings.SCANNER_QUEUED_LIMIT + 60))
    Scan.objects.filter(pk=held.pk).update(requested_at=ago(settings.SCANNER_QUEUED_LIMIT + 120))

    assert services.reap_stale_scans() == {"resent": 0, "requeued": 0, "failed": 0}

    held.refresh_from_db()
    assert (held.status, held.enqueued_at) == (Scan.Status.QUEUED, None)


@pytest.mark.django_db(transaction=True)
def test_the_queued_limit_counts_from_when_a_held_rescan_was_sent(site, queue, settings):
    held = _scan(site, status=Scan.Status.QUEUED, release_at=ago(settings.SCANNER_QUEUED_LIMIT + 60))
    Scan.objects.filter(pk=held.pk).update(requested_at=ago(settings.SCANNER_QUEUED_LIMIT + 120))
    assert services.release_due_scans() == 1

    services.reap_stale_scans()

    held.refresh_from_db()
    assert held.status == Scan.Status.QUEUED
    assert queue() == 1


@pytest.mark.django_db(transaction=True)
def test_a_new_request_never_gets_a_dead_scan_back(site, queue, settings):
    dead = _scan(
        site,
        status=Scan.Status.RUNNING,
        attempts=services.MAX_ATTEMPTS,
        started_at=ago(120),
        heartbeat_at=ago(100),
        worker="elsewhere:1",
    )

    scan, created = services.submit_scan(site.owner, site.hostname, port=site.https_port, http_port=site.http_port)

    dead.refresh_from_db()
    assert created is True
    assert scan.pk != dead.pk
    assert dead.status == Scan.Status.FAILED
    assert "attempts" in dead.error
    assert queue() == 1


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_scan_is_not_run_while_a_live_worker_runs_it(site):
    # This test process is the live worker: its pid exists and its heartbeat is fresh.
    me = f"{socket.gethostname()}:{os.getpid()}"
    scan = _scan(site, status=Scan.Status.RUNNING, attempts=1, started_at=ago(5), heartbeat_at=ago(1), worker=me)

    services.execute_scan(scan.pk)

    scan.refresh_from_db()
    assert (scan.status, scan.attempts) == (Scan.Status.RUNNING, 1)


@pytest.mark.django_db(transaction=True)
def test_rescan_batches_are_held_back_and_released_when_due(site, queue, lab):
    portfolio = Portfolio.objects.create(owner=site.owner, name="p")
    for name in ("good", "expired", "legacy", "nohsts", "shorthsts"):
        case = lab.case(name)
        portfolio.sites.add(
            Site.objects.get_or_create(
                owner=site.owner,
                hostname=case.hostname,
                https_port=case.https_port,
                defaults={"http_port": case.http_port},
            )[0]
        )

    services.submit_portfolio_scans(portfolio, batch_size=2, batch_interval=60, scheduled=True)

    assert queue() == 0  # the release sends every batch, the first included; no message carries a countdown
    assert services.release_due_scans() == 2  # the first batch is due at once
    held = Scan.objects.filter(enqueued_at__isnull=True)
    assert queue() == 2
    assert held.count() == 3
    assert services.release_due_scans() == 0
    Scan.objects.filter(pk__in=held.values("pk")).update(release_at=ago(1))
    assert services.release_due_scans() == 3
    assert queue() == 5


@pytest.mark.django_db(transaction=True)
def test_beats_release_sends_at_most_the_release_limit_per_tick(site, queue, settings):
    from scanner import tasks

    settings.SCANNER_RELEASE_LIMIT = 2
    for n in range(3):
        other = Site.objects.create(owner=site.owner, hostname=f"held{n}.test", https_port=443, http_port=80)
        _scan(other, status=Scan.Status.QUEUED, release_at=ago(1))

    assert tasks.release_due_scans() == 2
    assert queue() == 2


@pytest.mark.django_db(transaction=True)
def test_asking_now_for_a_site_held_in_a_later_batch_sends_it_now(site, queue):
    held = _scan(site, status=Scan.Status.QUEUED, release_at=timezone.now() + timedelta(minutes=5))

    scan, created = services.submit_scan(site.owner, site.hostname, port=site.https_port, http_port=site.http_port)

    held.refresh_from_db()
    assert (scan.pk, created) == (held.pk, False)
    assert held.enqueued_at is not None
    assert queue() == 1


@pytest.fixture
def broker_down(monkeypatch):
    """Publishing fails the way kombu fails when nothing listens on the broker's port."""
    from celery import current_app

    def refused(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(current_app, "send_task", refused)


@pytest.mark.django_db(transaction=True)
def test_a_scan_that_cannot_be_queued_answers_503_with_the_reason(site, lab_settings, broker_down):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=site.owner, name='lifecycle')[1]}")

    response = client.post(
        "/api/v1/scans",
        data=json.dumps({"host": site.hostname, "port": site.https_port, "http_port": site.http_port}),
        content_type="application/json",
    )

    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "queue_unavailable"
    assert "could not be queued" in response.json()["error"]["message"]
    assert Scan.objects.get(site=site).status == Scan.Status.FAILED
