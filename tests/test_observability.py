"""/healthz reports database, broker and workers separately; /metrics serves Prometheus numbers read from the
database and the broker (the truth across every process), behind a token."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from scanner import nodes
from scanner.models import Alert, Delivery, Scan, Site

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests"


@pytest.fixture
def heartbeats(monkeypatch, settings):
    """A heartbeat set of this test's own, so other tests' (or real) worker nodes never count here."""
    key = f"scanner:test-heartbeats:{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(nodes, "HEARTBEAT_KEY", key)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield client
    client.delete(key)
    client.close()


def test_healthz_is_ok_with_database_broker_and_a_fresh_worker_heartbeat(client, heartbeats):
    nodes.record_worker_heartbeat("scans@node1", heartbeats)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert (body["database"], body["broker"], body["worker"]) == ("ok", "ok", "ok")
    assert "scans@node1" in body["workers"]


def test_healthz_is_503_when_no_worker_has_beaten_recently(client, heartbeats, settings):
    heartbeats.zadd(nodes.HEARTBEAT_KEY, {"scans@node1": timezone.now().timestamp() - 600})
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["broker"] == "ok"
    assert body["worker"].startswith("error: no worker heartbeat for 6")


def test_healthz_is_503_and_names_the_broker_when_redis_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["broker"].startswith("error:")


def test_metrics_are_off_without_a_token_setting(client, settings):
    settings.SCANNER_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


def test_metrics_refuse_a_wrong_token(client, settings):
    settings.SCANNER_METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def metric_lines(client) -> dict[str, float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    lines = [line for line in response.content.decode().splitlines() if line and not line.startswith("#")]
    return {name: float(value) for name, _, value in (line.rpartition(" ") for line in lines)}


def test_metrics_count_scans_by_outcome_and_failure_reason(client, settings, alice):
    settings.SCANNER_METRICS_TOKEN = TOKEN
    site = Site.objects.create(owner=alice, hostname="a.example")
    now = timezone.now()
    for seconds in (3, 7, 45):
        Scan.objects.create(site=site, status="done", started_at=now - timedelta(seconds=seconds), finished_at=now)
    Scan.objects.create(
        site=site, status="failed", started_at=now, finished_at=now, error="a.example does not resolve to an address."
    )
    Scan.objects.create(
        site=site,
        status="failed",
        error="a.example resolves to 10.0.0.1, a private, loopback, link-local or reserved address; not allowed.",
    )
    metrics = metric_lines(client)
    assert metrics['scanner_scans_finished_total{reason="",status="done"}'] == 3
    assert metrics['scanner_scans_finished_total{reason="dns",status="failed"}'] == 1
    assert metrics['scanner_scans_finished_total{reason="policy_refused",status="failed"}'] == 1
    assert metrics["scanner_scans_started_total"] == 4
    assert metrics['scanner_scan_duration_seconds_bucket{le="5.0"}'] == 1
    assert metrics['scanner_scan_duration_seconds_bucket{le="10.0"}'] == 2
    assert metrics['scanner_scan_duration_seconds_bucket{le="+Inf"}'] == 3
    assert metrics["scanner_scan_duration_seconds_sum"] == pytest.approx(55, abs=0.1)


def test_metrics_show_queue_depth_and_the_oldest_queued_scan(client, settings, alice):
    settings.SCANNER_METRICS_TOKEN = TOKEN
    settings.SCANNER_RESCAN_QUEUE = queue = f"scanner-metrics-{uuid.uuid4().hex[:8]}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.lpush(queue, "m1", "m2", "m3")
    try:
        site = Site.objects.create(owner=alice, hostname="q.example")
        scan = Scan.objects.create(site=site, status="queued")
        Scan.objects.filter(pk=scan.pk).update(requested_at=timezone.now() - timedelta(minutes=5))
        metrics = metric_lines(client)
    finally:
        broker.delete(queue)
        broker.close()
    assert metrics[f'scanner_queue_depth{{queue="{queue}"}}'] == 3
    assert metrics["scanner_oldest_queued_scan_age_seconds"] == pytest.approx(300, abs=30)
    assert metrics['scanner_scans_active{status="queued"}'] == 1
    assert metrics["scanner_broker_up"] == 1


def test_metrics_count_alert_deliveries_by_outcome(client, settings, alice):
    settings.SCANNER_METRICS_TOKEN = TOKEN
    site = Site.objects.create(owner=alice, hostname="d.example")
    alert = Alert.objects.create(site=site, kind=Alert.Kind.UNREACHABLE, state_key="x", message="down")
    Delivery.objects.create(alert=alert, channel_label="hook 1", status=Delivery.Status.SENT)
    Delivery.objects.create(alert=alert, channel_label="hook 2", status=Delivery.Status.FAILED, error="HTTP 500")
    metrics = metric_lines(client)
    assert metrics['scanner_alert_deliveries_total{status="delivered"}'] == 1
    assert metrics['scanner_alert_deliveries_total{status="failed"}'] == 1


def test_a_node_restarted_under_its_name_declares_its_earlier_incarnation_gone(heartbeats, settings):
    first = nodes.start_incarnation("scans@node1", redis.Redis.from_url(settings.CELERY_BROKER_URL))
    second = nodes.start_incarnation("scans@node1", redis.Redis.from_url(settings.CELERY_BROKER_URL))
    other = nodes.start_incarnation("scans@node10", redis.Redis.from_url(settings.CELERY_BROKER_URL))

    assert first != second and first.startswith("scans@node1#")
    assert nodes.incarnation_of("scans@node10") == other
    assert nodes.incarnation_of("scans@elsewhere") == "scans@elsewhere"  # started by no process here
    assert nodes.gone_nodes({first, second, other}) == {first}
