"""End to end: large portfolio imports and scans asked for through the API and the dashboard, answered at once,
and done by a real Celery worker (Redis, PostgreSQL) while the status URL and the progress page follow them.

The operation's messages go to a queue of this test's own; the scans it requests go to another queue that no
worker here consumes, so they stay queued: these tests are about the operation, not about scanning (no host is
resolved or connected to).
"""

from __future__ import annotations

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from scanner.models import BulkOperation, LimitEvent, Portfolio, Scan, Site
from scanner.services.limits import limit_record
from tests.test_api import client_for
from tests.test_tasks_e2e import _forget_queue
from webui.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True)

SITES = 200
DEADLINE_S = 120


@pytest.fixture
def queues(settings):
    if connection.vendor == "sqlite":
        pytest.skip("the worker tests need PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)")
    settings.SCANNER_SCAN_QUEUE = f"scanner-bulk-{uuid.uuid4().hex[:12]}"
    settings.SCANNER_RESCAN_QUEUE = f"scanner-bulk-scans-{uuid.uuid4().hex[:12]}"
    settings.SCANNER_RESCAN_MIN_INTERVAL = 0
    settings.SCANNER_TARGET_MIN_INTERVAL = 0
    settings.SCANNER_BULK_INLINE_LIMIT = 25
    settings.SCANNER_BULK_BATCH_SIZE = 20
    yield settings.SCANNER_SCAN_QUEUE
    _forget_queue(settings.SCANNER_SCAN_QUEUE)
    _forget_queue(settings.SCANNER_RESCAN_QUEUE)


def run_worker(queue: str):
    return start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=60)


def follow(get_status, *, interval: float = 0.5) -> tuple[dict, list[dict]]:
    """Poll until the operation ends; its last status and every status seen on the way."""
    seen = []
    deadline = time.monotonic() + DEADLINE_S
    while (status := get_status())["state"] in ("queued", "running"):
        seen.append(status)
        assert time.monotonic() < deadline, f"the operation is still {status['state']} after {DEADLINE_S} s"
        time.sleep(interval)  # the API's request rate limit holds for polling too
    return status, seen


def portfolio_of(owner, sites: int) -> Portfolio:
    portfolio = Portfolio.objects.create(owner=owner, name="two hundred")
    Site.objects.bulk_create(Site(owner=owner, hostname=f"site{index}.test") for index in range(sites))
    portfolio.sites.add(*Site.objects.filter(owner=owner))
    return portfolio


def test_a_200_line_import_returns_before_any_site_exists_and_a_worker_completes_it(alice, queues):
    portfolio = Portfolio.objects.create(owner=alice, name="imported")
    api = client_for(alice)
    text = "\n".join(f"shop{index}.test,443,imported" for index in range(SITES))
    accepted = api.post(f"/api/v1/portfolios/{portfolio.pk}/import", {"text": text}, format="json")
    assert accepted.status_code == 202
    # The request only recorded the work: no worker was running yet, and no site exists.
    assert accepted.json()["state"] == "queued" and not Site.objects.exists()
    with run_worker(queues):
        status, _ = follow(lambda: api.get(accepted["Location"]).json())
    assert (status["state"], status["done"], status["created_sites"], status["failed"]) == ("done", SITES, SITES, 0)
    assert portfolio.sites.count() == SITES == Site.objects.count()


def test_a_200_site_scan_from_the_dashboard_shows_progress_and_requests_one_scan_per_site(alice, client, queues):
    portfolio = portfolio_of(alice, SITES)
    client.force_login(alice)
    response = client.post(f"/portfolios/{portfolio.pk}/scan/")
    operation = BulkOperation.objects.get()
    assert response["Location"] == f"/portfolios/{portfolio.pk}/operations/{operation.pk}/"
    assert not Scan.objects.exists()
    with run_worker(queues):
        status, seen = follow(
            lambda: client.get(f"/portfolios/{portfolio.pk}/operations/{operation.pk}.json").json(), interval=0.05
        )
    assert status["state"] == "done" and status["done"] == SITES
    # Progress was visible on the way: some status showed part of the sites done.
    assert any(0 < each["done"] < SITES for each in seen), seen
    assert "All 200 sites handled" in client.get(response["Location"]).content.decode()
    assert Scan.objects.filter(portfolio=portfolio).count() == SITES
    assert Scan.objects.values("site").distinct().count() == SITES
    assert LimitEvent.objects.filter(kind=LimitEvent.Kind.SCANS, key=str(alice.pk)).count() == SITES


def test_a_quota_used_up_meanwhile_is_recorded_on_the_operation_with_the_reason(alice, queues, settings):
    settings.SCANNER_SCANS_PER_HOUR = SITES + 50
    portfolio = portfolio_of(alice, SITES)
    api = client_for(alice)
    accepted = api.post(f"/api/v1/portfolios/{portfolio.pk}/scan")
    assert accepted.status_code == 202
    limit_record(LimitEvent.Kind.SCANS, alice.pk, cost=100)  # scans the account asked for elsewhere meanwhile
    with run_worker(queues):
        status, _ = follow(lambda: api.get(accepted["Location"]).json())
    assert status["state"] == "failed"
    assert status["error"].startswith(f"Stopped after 150 of {SITES} sites: Scan quota reached")
    assert status["done"] == 150 == Scan.objects.count()
