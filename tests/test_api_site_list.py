"""The site list reads plain rows; each row must be exactly what the site's own detail answers (SiteOutput),
in every state a site can be in, and its links must open that site and its scans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import clear_script_prefix, set_script_prefix
from django.utils import timezone

from scanner import services
from scanner.models import Scan, Site
from scanner.services.scan_results import site_attempted
from tests.test_api import client_for, finished_scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites_in_every_state(alice) -> dict[str, Site]:
    never = Site.objects.create(owner=alice, hostname="never.example")
    graded = Site.objects.create(owner=alice, hostname="graded.example", https_port=8443, http_port=8080)
    finished_scan(graded, grade="A+", findings=("hsts.missing",))
    services.site_set_tags(graded, ["client-b", "client-a"])
    scanning = Site.objects.create(owner=alice, hostname="scanning.example")
    finished_scan(scanning, grade="B", age=timedelta(days=1))
    site_attempted(Scan.objects.create(site=scanning, status=Scan.Status.QUEUED))
    unreachable = Site.objects.create(owner=alice, hostname="unreachable.example")
    finished_scan(unreachable, grade="C", age=timedelta(days=2))
    failed = Scan.objects.create(site=unreachable, status=Scan.Status.FAILED, error="connection refused")
    Scan.objects.filter(pk=failed.pk).update(finished_at=timezone.now())
    site_attempted(failed)
    return {"never_scanned": never, "graded": graded, "scanning": scanning, "unreachable": unreachable}


def test_every_row_of_the_list_is_the_sites_own_detail(alice, sites_in_every_state):
    api = client_for(alice)
    rows = api.get("/api/v1/sites").json()["results"]
    assert {row["state"] for row in rows} == set(sites_in_every_state)
    for row in rows:
        assert row == api.get(f"/api/v1/sites/{row['id']}").json()


def test_the_links_in_a_row_open_the_site_and_its_scans(alice, sites_in_every_state):
    api = client_for(alice)
    graded = sites_in_every_state["graded"]
    row = next(row for row in api.get("/api/v1/sites").json()["results"] if row["id"] == graded.pk)
    assert row["url"] == f"http://testserver/api/v1/sites/{graded.pk}"
    assert row["scans_url"] == f"http://testserver/api/v1/sites/{graded.pk}/scans"
    assert api.get(row["url"]).json()["hostname"] == "graded.example"
    assert [scan["site"] for scan in api.get(row["scans_url"]).json()["results"]] == [graded.pk]


def test_links_follow_the_script_prefix_each_request_came_under(alice, sites_in_every_state):
    # Routes are reversed once per process: the prefix a deployment serves under is part of what is remembered.
    # Django's WSGI handler sets the prefix per request from SCRIPT_NAME; the test client never does, so here
    # the test sets it as the handler would.
    api, graded = client_for(alice), sites_in_every_state["graded"]

    def graded_url(script_prefix: str) -> str:
        set_script_prefix(script_prefix)
        try:
            rows = api.get("/api/v1/sites").json()["results"]
        finally:
            clear_script_prefix()
        return next(row["url"] for row in rows if row["id"] == graded.pk)

    assert graded_url("/") == f"http://testserver/api/v1/sites/{graded.pk}"
    assert graded_url("/scanner/") == f"http://testserver/scanner/api/v1/sites/{graded.pk}"
    assert graded_url("/") == f"http://testserver/api/v1/sites/{graded.pk}"


def test_a_row_shows_its_tags_sorted_and_its_latest_grade(alice, sites_in_every_state):
    rows = client_for(alice).get("/api/v1/sites?grade=A%2B").json()["results"]
    assert [(row["hostname"], row["tags"], row["latest_scan"]["security_grade"]) for row in rows] == [
        ("graded.example", ["client-a", "client-b"], "A+")
    ]


def test_times_read_as_text_are_written_as_drf_writes_them(alice):
    """Whole seconds have no fraction, and a fraction keeps its trailing zeros (DRF writes isoformat())."""
    whole = Site.objects.create(owner=alice, hostname="whole.example")
    tenths = Site.objects.create(owner=alice, hostname="tenths.example")
    Site.objects.filter(pk=whole.pk).update(created_at=datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC))
    Site.objects.filter(pk=tenths.pk).update(created_at=datetime(2026, 5, 4, 3, 2, 1, 120000, tzinfo=UTC))
    finished_scan(tenths, grade="A")
    api = client_for(alice)
    rows = {row["hostname"]: row for row in api.get("/api/v1/sites").json()["results"]}
    assert rows["whole.example"]["created_at"] == "2026-05-04T03:02:01Z"
    assert rows["tenths.example"]["created_at"] == "2026-05-04T03:02:01.120000Z"
    for row in rows.values():
        assert row == api.get(f"/api/v1/sites/{row['id']}").json()


def test_the_pages_of_the_list_hold_each_of_the_users_sites_once_in_host_order(alice, bob):
    Site.objects.bulk_create(Site(owner=alice, hostname=f"site{n:02d}.example") for n in range(60))
    Site.objects.bulk_create(Site(owner=bob, hostname=f"bob{n:02d}.example") for n in range(7))
    api = client_for(alice)
    first = api.get("/api/v1/sites").json()
    second = api.get(first["next"]).json()
    assert (first["count"], second["count"]) == (60, 60)
    assert (len(first["results"]), len(second["results"]), second["next"]) == (50, 10, None)
    hosts = [row["hostname"] for row in first["results"] + second["results"]]
    assert hosts == [f"site{n:02d}.example" for n in range(60)]


def test_each_user_reads_their_own_sites_through_the_same_list_query(alice, bob):
    Site.objects.create(owner=alice, hostname="alice.example")
    Site.objects.bulk_create(Site(owner=bob, hostname=f"bob{n}.example") for n in range(2))
    for user, hosts in (
        (alice, ["alice.example"]),
        (bob, ["bob0.example", "bob1.example"]),
        (alice, ["alice.example"]),
    ):
        page = client_for(user).get("/api/v1/sites").json()
        assert (page["count"], [row["hostname"] for row in page["results"]]) == (len(hosts), hosts)


def test_a_page_past_the_last_is_not_found(alice):
    Site.objects.create(owner=alice, hostname="only.example")
    assert client_for(alice).get("/api/v1/sites?page=2").status_code == 404


def test_a_user_without_sites_reads_an_empty_first_page(alice):
    assert client_for(alice).get("/api/v1/sites").json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_in_another_time_zone_every_row_is_still_the_sites_own_detail(settings, alice, sites_in_every_state):
    settings.TIME_ZONE = "Europe/Berlin"
    api = client_for(alice)
    rows = api.get("/api/v1/sites").json()["results"]
    assert rows[0]["created_at"][-6:] in ("+01:00", "+02:00")  # CET or CEST, not UTC
    for row in rows:
        assert row == api.get(f"/api/v1/sites/{row['id']}").json()
