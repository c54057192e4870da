"""Bulk operations: a portfolio scan or import over SCANNER_BULK_INLINE_LIMIT is recorded by the request and done
by a worker (scanner.services.bulk.bulk_run, called here as the worker calls it) in batches.

These run inside pytest-django's per-test transaction, so no message reaches the broker; the real worker's part
is in test_bulk_operations_e2e.py and tests/faults/test_bulk_worker_killed.py. No host is resolved: imports
check syntax only and a portfolio scan leaves resolving to the worker that runs each scan.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from scanner.models import BulkOperation, LimitEvent, Portfolio, Scan, Site
from scanner.services.bulk import MAX_DELIVERIES, bulk_run, reap_stale_bulk_operations
from scanner.services.limits import limit_record
from tests.test_api import client_for
from tests.test_tasks_e2e import _forget_queue

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def small_inline_limit(settings):
    settings.SCANNER_BULK_INLINE_LIMIT = LIMIT
    settings.SCANNER_BULK_BATCH_SIZE = 2  # several batches even for a handful of sites
    settings.SCANNER_RESCAN_MIN_INTERVAL = 0
    settings.SCANNER_TARGET_MIN_INTERVAL = 0


def portfolio_of(owner, sites: int, name: str = "many") -> Portfolio:
    portfolio = Portfolio.objects.create(owner=owner, name=name)
    for index in range(sites):
        portfolio.sites.add(Site.objects.create(owner=owner, hostname=f"site{index}.test"))
    return portfolio


def import_text(lines: int) -> str:
    return "\n".join(f"host{index}.test,443,batch" for index in range(lines))


def scans_requested(owner) -> int:
    return sum(LimitEvent.objects.filter(kind=LimitEvent.Kind.SCANS, key=str(owner.pk)).values_list("cost", flat=True))


def test_a_portfolio_scan_over_the_limit_answers_202_with_the_operation_and_requests_no_scan_itself(alice):
    portfolio = portfolio_of(alice, LIMIT + 2)
    response = client_for(alice).post(f"/api/v1/portfolios/{portfolio.pk}/scan")
    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "scan" and body["state"] == "queued" and body["total"] == LIMIT + 2
    assert response["Location"].endswith(f"/api/v1/portfolios/{portfolio.pk}/operations/{body['id']}")
    assert not Scan.objects.exists()


def test_a_portfolio_scan_at_the_limit_is_still_done_inside_the_request(alice):
    portfolio = portfolio_of(alice, LIMIT)
    response = client_for(alice).post(f"/api/v1/portfolios/{portfolio.pk}/scan")
    assert response.status_code == 202
    assert [item["scan"]["status"] for item in response.json()] == ["queued"] * LIMIT
    assert not BulkOperation.objects.exists()


def test_the_worker_requests_one_scan_per_site_counted_once_in_the_quota_ledger(alice):
    portfolio = portfolio_of(alice, 5)
    operation_id = client_for(alice).post(f"/api/v1/portfolios/{portfolio.pk}/scan").json()["id"]
    operation = bulk_run(operation_id)
    assert (operation.state, operation.done, operation.failed) == ("done", 5, 0)
    assert sorted(Scan.objects.values_list("site_id", flat=True)) == sorted(
        portfolio.sites.values_list("pk", flat=True)
    )
    assert scans_requested(alice) == 5


def test_a_second_delivery_of_a_finished_operation_changes_nothing(alice):
    portfolio = portfolio_of(alice, 5)
    operation_id = client_for(alice).post(f"/api/v1/portfolios/{portfolio.pk}/scan").json()["id"]
    bulk_run(operation_id)
    assert bulk_run(operation_id) is None
    assert Scan.objects.count() == 5 and scans_requested(alice) == 5


def test_asking_again_while_a_bulk_scan_is_pending_returns_the_same_operation(alice):
    portfolio = portfolio_of(alice, 5)
    api = client_for(alice)
    first = api.post(f"/api/v1/portfolios/{portfolio.pk}/scan").json()["id"]
    assert api.post(f"/api/v1/portfolios/{portfolio.pk}/scan").json()["id"] == first
    assert BulkOperation.objects.count() == 1


def test_a_bulk_scan_the_quota_cannot_cover_is_refused_at_once_with_429(alice, settings):
    settings.SCANNER_SCANS_PER_HOUR = 4
    portfolio = portfolio_of(alice, 5)
    response = client_for(alice).post(f"/api/v1/portfolios/{portfolio.pk}/scan")
    assert response.status_code == 429 and response.json()["error"]["code"] == "scan_quota"
    assert not BulkOperation.objects.exists()


def test_a_quota_used_up_by_other_requests_meanwhile_stops_the_operation_with_the_reason(alice, settings):
    settings.SCANNER_SCANS_PER_HOUR = 8
    portfolio = portfolio_of(alice, 5)
    operation_id = client_for(alice).post(f"/api/v1/portfolios/{portfolio.pk}/scan").json()["id"]
    limit_record(LimitEvent.Kind.SCANS, alice.pk, cost=5)  # other scans the account asked for in the meantime
    operation = bulk_run(operation_id)
    assert operation.state == "failed"
    assert operation.error.startswith("Stopped after 3 of 5 sites: Scan quota reached")
    assert Scan.objects.count() == 3 and scans_requested(alice) == 8


def test_a_bulk_import_adds_each_site_once_with_its_tags(alice):
    portfolio = Portfolio.objects.create(owner=alice, name="imported")
    response = client_for(alice).post(
        f"/api/v1/portfolios/{portfolio.pk}/import", {"text": import_text(7)}, format="json"
    )
    assert response.status_code == 202 and response.json()["kind"] == "import"
    assert not Site.objects.exists()
    operation = bulk_run(response.json()["id"])
    assert (operation.state, operation.total, operation.done, operation.created_sites) == ("done", 7, 7, 7)
    assert portfolio.sites.count() == 7
    assert set(Site.objects.values_list("tags__name", flat=True)) == {"batch"}


def test_a_bulk_import_numbers_bad_lines_as_in_the_whole_text(alice):
    portfolio = Portfolio.objects.create(owner=alice, name="imported")
    text = "host,port,tags\n" + import_text(4) + "\nbad host!,443\n" + "x.test,99999"
    operation_id = (
        client_for(alice).post(f"/api/v1/portfolios/{portfolio.pk}/import", {"text": text}, format="json").json()["id"]
    )
    operation = bulk_run(operation_id)
    assert (operation.state, operation.done, operation.failed, operation.created_sites) == ("done", 6, 2, 4)
    assert [error["item"].split(":")[0] for error in operation.errors] == ["line 6", "line 7"]


def test_a_bulk_import_of_nothing_usable_fails_with_the_reason(alice):
    portfolio = Portfolio.objects.create(owner=alice, name="imported")
    operation_id = (
        client_for(alice)
        .post(f"/api/v1/portfolios/{portfolio.pk}/import", {"text": "\n".join(["bad host!"] * 5)}, format="json")
        .json()["id"]
    )
    operation = bulk_run(operation_id)
    assert operation.state == "failed" and operation.error.startswith("Nothing was imported")


def test_an_import_at_the_limit_is_still_answered_with_its_report(alice):
    portfolio = Portfolio.objects.create(owner=alice, name="imported")
    response = client_for(alice).post(
        f"/api/v1/portfolios/{portfolio.pk}/import", {"text": import_text(LIMIT)}, format="json"
    )
    assert response.status_code == 200 and response.json()["created"] == LIMIT


def test_the_operation_status_shows_the_progress(alice):
    portfolio = portfolio_of(alice, 5)
    api = client_for(alice)
    location = api.post(f"/api/v1/portfolios/{portfolio.pk}/scan")["Location"]
    bulk_run(BulkOperation.objects.get().pk)
    body = api.get(location).json()
    assert (body["state"], body["done"], body["total"], body["percent"]) == ("done", 5, 5, 100)


def test_another_users_operation_is_not_found_in_the_api_or_the_dashboard(alice, bob, client):
    portfolio = portfolio_of(alice, 5)
    operation_id = client_for(alice).post(f"/api/v1/portfolios/{portfolio.pk}/scan").json()["id"]
    assert client_for(bob).get(f"/api/v1/portfolios/{portfolio.pk}/operations/{operation_id}").status_code == 404
    client.force_login(bob)
    assert client.get(f"/portfolios/{portfolio.pk}/operations/{operation_id}/").status_code == 404
    assert client.get(f"/portfolios/{portfolio.pk}/operations/{operation_id}.json").status_code == 404


def test_scan_portfolio_now_over_the_limit_opens_the_progress_page(alice, client):
    portfolio = portfolio_of(alice, 5)
    client.force_login(alice)
    response = client.post(f"/portfolios/{portfolio.pk}/scan/", follow=True)
    operation = BulkOperation.objects.get()
    assert response.redirect_chain[-1][0] == f"/portfolios/{portfolio.pk}/operations/{operation.pk}/"
    assert "Waiting for a worker" in response.content.decode()


def test_the_progress_page_shows_the_outcome_once_done(alice, client):
    portfolio = portfolio_of(alice, 5)
    client.force_login(alice)
    client.post(f"/portfolios/{portfolio.pk}/scan/")
    operation = bulk_run(BulkOperation.objects.get().pk)
    page = client.get(f"/portfolios/{portfolio.pk}/operations/{operation.pk}/").content.decode()
    assert "All 5 sites handled" in page
    assert client.get(f"/portfolios/{portfolio.pk}/operations/{operation.pk}.json").json()["state"] == "done"


def test_a_dashboard_import_over_the_limit_opens_the_progress_page(alice, client):
    portfolio = Portfolio.objects.create(owner=alice, name="imported")
    client.force_login(alice)
    response = client.post(f"/portfolios/{portfolio.pk}/import/", {"text": import_text(6)})
    operation = BulkOperation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/portfolios/{portfolio.pk}/operations/{operation.pk}/"
    assert operation.kind == "import" and operation.total == 6


@pytest.fixture
def private_queue(settings):
    settings.SCANNER_SCAN_QUEUE = f"scanner-bulk-{uuid.uuid4().hex[:12]}"
    yield settings.SCANNER_SCAN_QUEUE
    _forget_queue(settings.SCANNER_SCAN_QUEUE)


def silent_operation(owner, *, attempts: int) -> BulkOperation:
    portfolio = portfolio_of(owner, 5)
    return BulkOperation.objects.create(
        kind=BulkOperation.Kind.SCAN, portfolio=portfolio, owner=owner, total=5, state="running", attempts=attempts
    )


def test_the_reaper_resends_an_operation_whose_worker_went_silent(alice, private_queue, settings):
    operation = silent_operation(alice, attempts=1)
    later = timezone.now() + timedelta(seconds=settings.SCANNER_HEARTBEAT_TIMEOUT + 1)
    assert reap_stale_bulk_operations(now=later) == {"operations_resent": 1, "operations_failed": 0}
    operation.refresh_from_db()
    assert operation.state == "running" and operation.updated_at == later


def test_the_reaper_gives_up_after_deliveries_that_made_no_progress(alice, private_queue, settings):
    operation = silent_operation(alice, attempts=MAX_DELIVERIES)
    later = timezone.now() + timedelta(seconds=settings.SCANNER_HEARTBEAT_TIMEOUT + 1)
    assert reap_stale_bulk_operations(now=later)["operations_failed"] == 1
    operation.refresh_from_db()
    assert operation.state == "failed" and operation.error.startswith(f"Gave up after {MAX_DELIVERIES} attempts")


def test_the_portfolio_page_links_to_the_bulk_operation_under_way(alice, client):
    portfolio = portfolio_of(alice, 5)
    client.force_login(alice)
    client.post(f"/portfolios/{portfolio.pk}/scan/")
    operation = BulkOperation.objects.get()
    page = client.get(f"/portfolios/{portfolio.pk}/").content.decode()
    assert "Scanning this portfolio is under way in the background: 0 of 5 done." in page
    assert f"/portfolios/{portfolio.pk}/operations/{operation.pk}/" in page
