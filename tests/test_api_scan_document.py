"""A finished scan's detail is rendered once and served as stored bytes: the same bytes DRF would render, a
strong ETag with conditional GET, links made absolute for the host asked, and rendered again when what it
shows changed (pruned report, deleted portfolio, other rendering code)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory

from scanner import selectors, services
from scanner.models import Portfolio, Scan, ScanDocument, Site
from tests.grading_factories import scan as engine_scan
from tests.test_api import client_for
from tests.test_compliance_api import OLD_TLS, stored
from webui.api.serializers import ScanDetailOutput

pytestmark = pytest.mark.django_db


@pytest.fixture
def done(alice) -> Scan:
    """A scan stored as a worker stores it: a real report document, findings, compliance evaluated when read."""
    return stored(alice, "shop.example", engine_scan(OLD_TLS))


def detail(client, scan: Scan, **headers):
    return client.get(f"/api/v1/scans/{scan.pk}", **headers)


def freshly_rendered(user, scan_id: int, host: str = "testserver") -> bytes:
    request = APIRequestFactory().get(f"/api/v1/scans/{scan_id}", HTTP_HOST=host)
    scan = selectors.scan_get(user=user, scan_id=scan_id)
    return JSONRenderer().render(ScanDetailOutput(scan, context={"request": request}).data)


def test_the_stored_document_is_byte_for_byte_what_drf_renders(alice, done):
    api = client_for(alice)
    first = detail(api, done)
    assert ScanDocument.objects.filter(scan=done).exists()
    second = detail(api, done)  # from the stored bytes
    assert first.status_code == second.status_code == 200
    assert second.content == first.content == freshly_rendered(alice, done.pk)
    assert second["Content-Type"] == "application/json"
    assert second.json()["result"]["compliance"]  # evaluated at render time, kept in the stored bytes


def test_a_finished_scan_carries_a_strong_etag_for_a_private_cache(alice, done):
    response = detail(client_for(alice), done)
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert response["Cache-Control"] == "private, no-cache"


def test_sending_the_etag_back_gets_a_304_without_a_body(alice, done):
    api = client_for(alice)
    etag = detail(api, done)["ETag"]
    again = detail(api, done, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag


def test_a_weak_form_of_the_etag_in_a_list_also_matches(alice, done):
    api = client_for(alice)
    etag = detail(api, done)["ETag"]
    assert detail(api, done, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304


def test_another_etag_gets_the_whole_document(alice, done):
    response = detail(client_for(alice), done, HTTP_IF_NONE_MATCH='"not-this-one"')
    assert response.status_code == 200
    assert response.json()["id"] == done.pk


def test_the_link_in_a_stored_document_names_the_host_asked(alice, done):
    api = client_for(alice)
    detail(api, done)
    other_host = detail(api, done, HTTP_HOST="localhost")
    assert other_host.json()["url"] == f"http://localhost/api/v1/scans/{done.pk}"
    assert other_host.content == freshly_rendered(alice, done.pk, host="localhost")
    assert other_host["ETag"] != detail(api, done)["ETag"]  # different bytes, different tag


def test_a_scan_still_running_is_not_stored_and_has_no_etag(alice):
    site = Site.objects.create(owner=alice, hostname="shop.example")
    running = Scan.objects.create(site=site, status=Scan.Status.RUNNING)
    response = detail(client_for(alice), running)
    assert response.status_code == 200 and response.json()["status"] == "running"
    assert not response.has_header("ETag")
    assert not ScanDocument.objects.exists()


def test_another_users_stored_scan_is_not_found(alice, bob, done):
    detail(client_for(alice), done)
    response = detail(client_for(bob), done)
    assert response.status_code == 404
    assert response.json()["error"]["code"]


def test_pruning_the_report_drops_the_stored_document(alice, done):
    api = client_for(alice)
    detail(api, done)
    Scan.objects.filter(pk=done.pk).update(finished_at=done.finished_at - timedelta(days=400))
    # The site's latest result keeps its document; a newer scan makes this one old history.
    newer = stored(alice, "other.example")
    Site.objects.filter(pk=done.site_id).update(latest_scan=newer)
    assert services.prune_old_reports(older_than_days=90) == 1
    assert detail(api, done).json()["result"] is None


def test_deleting_the_portfolio_shows_the_scan_without_it(alice, done):
    portfolio = Portfolio.objects.create(owner=alice, name="clients")
    Scan.objects.filter(pk=done.pk).update(portfolio=portfolio)
    api = client_for(alice)
    assert detail(api, done).json()["portfolio"] == portfolio.pk
    portfolio.delete()
    assert detail(api, done).json()["portfolio"] is None


def test_a_document_stored_by_other_rendering_code_is_rendered_again(alice, done):
    api = client_for(alice)
    detail(api, done)
    ScanDocument.objects.filter(scan=done).update(version="an older deploy", body=b'{"id":0}')
    assert detail(api, done).content == freshly_rendered(alice, done.pk)
    assert ScanDocument.objects.get(scan=done).body != b'{"id":0}'


def test_an_indented_answer_is_rendered_not_stored(alice, done):
    response = detail(client_for(alice), done, HTTP_ACCEPT="application/json; indent=2")
    assert response.status_code == 200
    assert response.content.startswith(b'{\n  "id"')
