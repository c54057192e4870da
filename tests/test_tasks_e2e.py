"""End to end: API -> database -> Redis -> a real Celery worker -> the engine against the lab -> API.

Needs a running Redis (CELERY_BROKER_URL, default redis://127.0.0.1:6379/0). Scans go to a queue of their
own per test session, so a development worker on the same Redis never takes them.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from rest_framework.test import APIClient

from scanner import services
from scanner.models import Scan, Site
from scanner.tasks import run_scan
from webui.api.tokens import token_create
from webui.celery import app as celery_app

SCAN_DEADLINE_S = 120


@pytest.fixture
def service_settings(settings, lab):
    settings.SCANNER_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.SCANNER_RESOLVE = lab.resolve_map()
    settings.SCANNER_CA_FILE = lab.ca_file
    settings.SCANNER_RESCAN_MIN_INTERVAL = 0
    settings.SCANNER_TARGET_MIN_INTERVAL = 0  # the same lab hosts are scanned test after test
    # Short timeouts: the lab answers in milliseconds, and the tarpit should fail in seconds, not minutes.
    settings.SCANNER_CONNECT_TIMEOUT = 2
    settings.SCANNER_NETWORK_TIMEOUT = 2
    settings.SCANNER_NETWORK_RETRIES = 1
    settings.SCANNER_HTTP_TIMEOUT = 3
    settings.SCANNER_SCAN_QUEUE = f"scanner-e2e-{uuid.uuid4().hex[:12]}"
    settings.SCANNER_RESCAN_QUEUE = settings.SCANNER_SCAN_QUEUE  # portfolio scans on the same test queue
    return settings


@pytest.fixture
def worker(service_settings):
    if connection.vendor == "sqlite":
        # The in-memory SQLite test database locks whole tables between the worker thread and the test thread.
        pytest.skip("the worker tests need PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)")
    queue = service_settings.SCANNER_SCAN_QUEUE
    try:
        with start_worker(
            celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=60
        ) as running:
            yield running
    finally:
        _forget_queue(queue)


def _forget_queue(queue: str) -> None:
    """Remove the per-test queue and kombu's bookkeeping for it, so test runs leave Redis as they found it."""
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    try:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    finally:
        client.close()


@pytest.fixture
def api(django_user_model) -> APIClient:
    user = django_user_model.objects.create_user("e2e", password="e2e-pass-123")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user, name='e2e')[1]}")
    return client


def submit(api: APIClient, case) -> dict:
    body = {"host": case.hostname, "port": case.https_port, "http_port": case.http_port}
    response = api.post("/api/v1/scans", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 202, response.content
    return response.json()


def wait_until_finished(api: APIClient, scan_id: int) -> dict:
    deadline = time.monotonic() + SCAN_DEADLINE_S
    while time.monotonic() < deadline:
        body = api.get(f"/api/v1/scans/{scan_id}").json()
        if body["status"] in {"done", "failed"}:
            return body
        time.sleep(0.5)
    pytest.fail(f"scan {scan_id} still {body['status']} after {SCAN_DEADLINE_S} s")


@pytest.mark.django_db(transaction=True)
def test_lab_hosts_submitted_through_the_api_are_scanned_by_a_worker_and_graded(api, lab, worker):
    good, expired = lab.case("good"), lab.case("expired")
    queued = {name: submit(api, case) for name, case in (("good", good), ("expired", expired))}
    assert all(scan["status"] == "queued" for scan in queued.values())

    results = {name: wait_until_finished(api, scan["id"]) for name, scan in queued.items()}

    assert results["good"]["status"] == "done", results["good"]["error"]
    assert results["good"]["security_grade"].startswith("A")
    assert results["good"]["ip"] == good.ip
    assert results["good"]["attempts"] == 1
    assert results["good"]["result"]  # the full report document is stored and served
    assert results["expired"]["status"] == "done", results["expired"]["error"]
    assert results["expired"]["security_grade"] == "T"
    assert "cert.expired" in {finding["id"] for finding in results["expired"]["findings"]}

    # The stored findings answer portfolio-wide questions straight from the database.
    listed = api.get("/api/v1/sites?finding=cert.expired").json()["results"]
    assert [site["hostname"] for site in listed] == [expired.hostname]
    below_b = api.get("/api/v1/sites?below=B").json()["results"]
    assert [site["hostname"] for site in below_b] == [expired.hostname]
    site = api.get(f"/api/v1/sites/{results['good']['site']}").json()
    assert site["latest_scan"]["id"] == results["good"]["id"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case_name", ["closed", "tarpit"])
def test_an_unreachable_host_ends_failed_with_a_reason(api, lab, worker, case_name):
    scan = submit(api, lab.case(case_name))

    finished = wait_until_finished(api, scan["id"])

    assert finished["status"] == "failed"
    assert finished["error"]
    assert finished["security_grade"] is None
    site = Site.objects.get(pk=finished["site"])
    assert site.latest_scan is None  # a failed attempt leaves no grade to filter on


def dead_worker() -> str:
    """The identity of a pool child that was killed: its pid no longer exists."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    return f"{socket.gethostname()}:{gone.pid}"


@pytest.mark.django_db(transaction=True)
def test_a_scan_redelivered_after_its_worker_died_is_run_again(django_user_model, lab, service_settings):
    # What Celery does after a worker is killed mid-scan (acks_late + reject_on_worker_lost): the same
    # task arrives again while the row still says 'running'.
    user = django_user_model.objects.create_user("redelivered")
    case = lab.case("good")
    site = Site.objects.create(owner=user, hostname=case.hostname, https_port=case.https_port, http_port=case.http_port)
    scan = Scan.objects.create(site=site, status=Scan.Status.RUNNING, attempts=1, worker=dead_worker())

    services.execute_scan(scan.pk)

    scan.refresh_from_db()
    assert scan.status == Scan.Status.DONE
    assert scan.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_a_scan_whose_worker_keeps_dying_is_given_up_on(django_user_model):
    user = django_user_model.objects.create_user("doomed")
    site = Site.objects.create(owner=user, hostname="doomed.example")
    scan = Scan.objects.create(
        site=site, status=Scan.Status.RUNNING, attempts=services.MAX_ATTEMPTS, worker=dead_worker()
    )

    services.execute_scan(scan.pk)

    scan.refresh_from_db()
    assert scan.status == Scan.Status.FAILED
    assert "attempts" in scan.error


@pytest.mark.django_db(transaction=True)
def test_a_finished_scan_delivered_again_is_not_rerun(django_user_model):
    user = django_user_model.objects.create_user("finished")
    site = Site.objects.create(owner=user, hostname="finished.example")
    scan = Scan.objects.create(site=site, status=Scan.Status.DONE, security_grade="A", attempts=1)

    services.execute_scan(scan.pk)

    scan.refresh_from_db()
    assert (scan.status, scan.attempts, scan.security_grade) == (Scan.Status.DONE, 1, "A")


# --- The task's failure paths (run in-process with Task.apply: no broker involved) -------------------


@pytest.fixture
def queued_scan(django_user_model):
    user = django_user_model.objects.create_user("queued")
    site = Site.objects.create(owner=user, hostname="stuck.example")
    return Scan.objects.create(site=site, status=Scan.Status.QUEUED)


@pytest.mark.django_db
def test_a_scan_over_its_soft_time_limit_fails_with_the_limit_in_the_reason(queued_scan, monkeypatch, settings):
    def overrun(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("scanner.engine.scan", overrun)

    run_scan.apply(args=[queued_scan.pk])

    queued_scan.refresh_from_db()
    assert queued_scan.status == Scan.Status.FAILED
    assert f"exceeded {settings.SCANNER_TASK_SOFT_TIME_LIMIT} s" in queued_scan.error
    assert queued_scan.finished_at is not None


@pytest.mark.django_db
def test_a_crash_inside_the_scan_fails_it_with_the_reason_instead_of_leaving_it_running(queued_scan, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("probe exploded")

    monkeypatch.setattr("scanner.engine.scan", crash)

    run_scan.apply(args=[queued_scan.pk])

    queued_scan.refresh_from_db()
    assert queued_scan.status == Scan.Status.FAILED
    assert "probe exploded" in queued_scan.error


@pytest.mark.django_db
def test_a_scan_that_cannot_be_queued_is_failed_with_a_clear_reason(queued_scan, monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Connection refused")

    from celery import current_app

    monkeypatch.setattr(current_app, "send_task", broker_down)

    services.enqueue_scan(queued_scan.pk, "task-id")

    queued_scan.refresh_from_db()
    assert queued_scan.status == Scan.Status.FAILED
    assert "could not be queued" in queued_scan.error
