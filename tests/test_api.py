"""The REST API's contract: validation, the SSRF guard, deduplication, caching, filters and per-user isolation.

These tests run inside pytest-django's per-test transaction, so `transaction.on_commit` never fires and no
scan reaches the broker: they need neither Redis nor the scan engine. Hosts are pinned (SCANNER_RESOLVE)
to a public documentation-free address so no DNS lookup happens.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from scanner import services
from scanner.models import Finding, Portfolio, Scan, Site
from webui.api.tokens import token_create

PUBLIC_IP = "93.184.215.14"
PINNED_HOSTS = ["shop.example", "blog.example", "mail.example", "www.example"]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pinned_public_hosts(settings):
    settings.SCANNER_ALLOWED_NETWORKS = []
    settings.SCANNER_RESOLVE = [f"{host}:{PUBLIC_IP}" for host in PINNED_HOSTS]
    settings.SCANNER_RESCAN_MIN_INTERVAL = 0
    # The per-target limit across users has its own tests (test_abuse_limits.py); here each user's own rows.
    settings.SCANNER_TARGET_MIN_INTERVAL = 0


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="owner-pass-123")


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("outsider", password="outsider-pass-123")


def client_for(user) -> APIClient:
    client = APIClient()
    _, secret = token_create(user=user, name="tests")
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


@pytest.fixture
def api(owner) -> APIClient:
    return client_for(owner)


@pytest.fixture
def outsider_api(outsider) -> APIClient:
    return client_for(outsider)


def post_json(client: APIClient, url: str, body) -> object:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def finished_scan(site: Site, *, grade: str, findings: tuple[str, ...] = (), age: timedelta = timedelta(minutes=1)):
    finished = timezone.now() - age
    scan = Scan.objects.create(
        site=site,
        status=Scan.Status.DONE,
        security_grade=grade,
        score=80,
        seo_score=90,
        finished_at=finished,
        started_at=finished,
        result={"host": site.hostname},
    )
    Finding.objects.bulk_create(Finding(scan=scan, site=site, finding_id=fid, severity="high") for fid in findings)
    services.site_took_result(scan)
    return scan


def assert_nothing_stored():
    assert Site.objects.count() == 0
    assert Scan.objects.count() == 0


# --- Submitting scans --------------------------------------------------------


def test_submitting_a_host_queues_a_scan_and_returns_where_to_poll(api):
    response = post_json(api, "/api/v1/scans", {"host": "https://Shop.Example./"})

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["host"] == "shop.example"
    assert body["reused"] is False
    assert body["url"].endswith(f"/api/v1/scans/{body['id']}")
    assert response["Location"] == body["url"]
    scan = Scan.objects.get(pk=body["id"])
    assert scan.ip == PUBLIC_IP
    assert scan.celery_task_id


def test_submitting_with_a_port_creates_a_separate_site(api):
    post_json(api, "/api/v1/scans", {"host": "shop.example"})
    response = post_json(api, "/api/v1/scans", {"host": "shop.example", "port": 8443})

    assert response.status_code == 202
    assert response.json()["https_port"] == 8443
    assert Site.objects.count() == 2


def test_a_second_submission_returns_the_scan_already_queued(api):
    first = post_json(api, "/api/v1/scans", {"host": "shop.example"}).json()
    second = post_json(api, "/api/v1/scans", {"host": "SHOP.example"})

    assert second.status_code == 202
    assert second.json()["id"] == first["id"]
    assert second.json()["reused"] is True
    assert Scan.objects.count() == 1


def test_a_running_scan_is_not_queued_twice(api, owner):
    site = Site.objects.create(owner=owner, hostname="shop.example")
    running = Scan.objects.create(site=site, status=Scan.Status.RUNNING, started_at=timezone.now())

    response = post_json(api, "/api/v1/scans", {"host": "shop.example"})

    assert response.json()["id"] == running.pk
    assert Scan.objects.count() == 1


def test_max_age_returns_a_recent_finished_scan_instead_of_a_new_one(api, owner):
    site = Site.objects.create(owner=owner, hostname="shop.example")
    cached = finished_scan(site, grade="A", age=timedelta(minutes=10))

    response = post_json(api, "/api/v1/scans", {"host": "shop.example", "max_age": 3600})

    assert response.status_code == 200
    assert response.json()["id"] == cached.pk
    assert response.json()["reused"] is True
    assert Scan.objects.count() == 1


def test_max_age_shorter_than_the_last_scan_starts_a_new_one(api, owner):
    site = Site.objects.create(owner=owner, hostname="shop.example")
    old = finished_scan(site, grade="A", age=timedelta(hours=2))

    response = post_json(api, "/api/v1/scans", {"host": "shop.example", "max_age": 60})

    assert response.status_code == 202
    assert response.json()["id"] != old.pk
    assert response.json()["status"] == "queued"


def test_submitting_into_a_portfolio_adds_the_site_to_it(api, owner):
    portfolio = Portfolio.objects.create(owner=owner, name="Shops")

    response = post_json(api, "/api/v1/scans", {"host": "shop.example", "portfolio": portfolio.pk})

    assert response.status_code == 202
    assert response.json()["portfolio"] == portfolio.pk
    assert list(portfolio.sites.values_list("hostname", flat=True)) == ["shop.example"]


# --- Invalid input -----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "message_part"),
    [
        ({}, "host", "required"),
        ({"host": ""}, "host", "blank"),
        ({"host": "https://shop.example/checkout"}, "host", "paths"),
        ({"host": "shop.example/checkout"}, "host", "paths"),
        ({"host": "93.184.215.14"}, "host", "IP addresses"),
        ({"host": "[2001:db8::1]"}, "host", "IP addresses"),
        ({"host": "ftp://shop.example"}, "host", "ftp://"),
        ({"host": "bad_host!.example"}, "host", "not a valid hostname"),
        ({"host": "localhost"}, "host", "fully qualified"),
        ({"host": "shop example"}, "host", "spaces"),
        ({"host": "shop.example", "port": 70000}, "port", "65535"),
        ({"host": "shop.example", "max_age": -1}, "max_age", "0"),
        ({"host": "shop.example", "hots": "typo"}, "hots", "Unknown field"),
        ({"host": ["shop.example"]}, "host", "valid string"),
    ],
)
def test_invalid_scan_requests_get_a_400_naming_the_problem_and_store_nothing(api, body, field, message_part):
    response = post_json(api, "/api/v1/scans", body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["fields"]
    assert message_part.lower() in " ".join(error["fields"][field]).lower()
    assert error["message"]
    assert_nothing_stored()


def test_an_empty_body_gets_a_400(api):
    response = api.post("/api/v1/scans", data=b"", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"host": ["This field is required."]}
    assert_nothing_stored()


@pytest.mark.parametrize("body", [[], ["shop.example"], "shop.example", 42, None])
def test_a_body_that_is_not_an_object_gets_a_400(api, body):
    response = post_json(api, "/api/v1/scans", body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert_nothing_stored()


def test_malformed_json_gets_a_400_parse_error(api):
    response = api.post("/api/v1/scans", data=b'{"host": "shop.example"', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert_nothing_stored()


def test_a_huge_payload_is_refused_with_413(api):
    body = {"host": "shop.example", "padding": "x" * 100_000}

    response = post_json(api, "/api/v1/scans", body)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert "64 KiB" in response.json()["error"]["message"]
    assert_nothing_stored()


def test_form_encoded_bodies_are_refused_with_415(api):
    response = api.post("/api/v1/scans", data={"host": "shop.example"}, format="multipart")

    assert response.status_code == 415
    assert_nothing_stored()


# --- Network policy (SSRF guard) ---------------------------------------------


@override_settings(SCANNER_ALLOWED_NETWORKS=[], SCANNER_RESOLVE=["blocked.example:127.0.0.1"])
def test_a_host_resolving_to_loopback_is_refused_and_nothing_is_stored(api):
    response = post_json(api, "/api/v1/scans", {"host": "blocked.example"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "target_refused"
    assert "127.0.0.1" not in error["message"] and "loopback" in error["message"]  # no internal address echoed
    assert_nothing_stored()


@pytest.mark.parametrize(
    "address", ["10.1.2.3", "192.168.0.10", "169.254.169.254", "100.64.0.1", "0.0.0.0", "240.0.0.1"]
)
def test_private_link_local_and_reserved_addresses_are_refused(api, settings, address):
    settings.SCANNER_RESOLVE = [f"inside.example:{address}"]

    response = post_json(api, "/api/v1/scans", {"host": "inside.example"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "target_refused"
    assert_nothing_stored()


@override_settings(SCANNER_ALLOWED_NETWORKS=["127.0.0.0/8"], SCANNER_RESOLVE=["lab.example:127.0.0.5"])
def test_an_allowed_network_lets_a_loopback_host_be_scanned(api):
    response = post_json(api, "/api/v1/scans", {"host": "lab.example"})

    assert response.status_code == 202
    assert Scan.objects.get().ip == "127.0.0.5"


def test_a_host_that_does_not_resolve_is_refused(api):
    response = post_json(api, "/api/v1/scans", {"host": "no-such-host.invalid"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "target_refused"
    assert "does not resolve" in response.json()["error"]["message"]
    assert_nothing_stored()


# --- Reading scans and sites -------------------------------------------------


def test_scan_detail_shows_grades_findings_and_the_result_document(api, owner):
    site = Site.objects.create(owner=owner, hostname="shop.example")
    scan = finished_scan(site, grade="T", findings=("cert.expired",))

    body = api.get(f"/api/v1/scans/{scan.pk}").json()

    assert body["status"] == "done"
    assert body["security_grade"] == "T"
    assert [finding["id"] for finding in body["findings"]] == ["cert.expired"]
    assert body["result"] == {"host": "shop.example"}


def test_a_queued_scan_has_no_grade_yet(api):
    scan_id = post_json(api, "/api/v1/scans", {"host": "shop.example"}).json()["id"]

    body = api.get(f"/api/v1/scans/{scan_id}").json()

    assert body["status"] == "queued"
    assert body["security_grade"] is None
    assert body["result"] is None
    assert body["findings"] == []


def test_site_detail_shows_the_latest_grade_and_history(api, owner):
    site = Site.objects.create(owner=owner, hostname="shop.example")
    finished_scan(site, grade="B", age=timedelta(days=2))
    latest = finished_scan(site, grade="A")

    detail = api.get(f"/api/v1/sites/{site.pk}").json()
    history = api.get(f"/api/v1/sites/{site.pk}/scans").json()

    assert detail["latest_scan"]["id"] == latest.pk
    assert detail["latest_scan"]["security_grade"] == "A"
    assert history["count"] == 2
    assert [scan["security_grade"] for scan in history["results"]] == ["A", "B"]


def test_lists_are_paginated(api, owner):
    for number in range(3):
        Site.objects.create(owner=owner, hostname=f"site{number}.example")

    body = api.get("/api/v1/sites").json()

    assert body["count"] == 3
    assert {"next", "previous", "results"} <= set(body)


def test_scans_can_be_listed_by_status(api, owner):
    site = Site.objects.create(owner=owner, hostname="shop.example")
    finished_scan(site, grade="A")
    Scan.objects.create(site=site, status=Scan.Status.QUEUED)

    body = api.get("/api/v1/scans?status=queued").json()

    assert [scan["status"] for scan in body["results"]] == ["queued"]


# --- Filters -----------------------------------------------------------------


@pytest.fixture
def graded_sites(owner):
    grades = {
        "best.example": "A+",
        "fine.example": "A",
        "okay.example": "B",
        "weak.example": "C",
        "expired.example": "T",
    }
    sites = {}
    for hostname, grade in grades.items():
        site = Site.objects.create(owner=owner, hostname=hostname)
        findings = ("cert.expired",) if grade == "T" else ()
        finished_scan(site, grade=grade, findings=findings)
        sites[hostname] = site
    sites["new.example"] = Site.objects.create(owner=owner, hostname="new.example")
    # An old scan's finding no longer describes the site: only the latest scan counts.
    fixed = sites["fine.example"]
    Finding.objects.create(
        scan=Scan.objects.create(site=fixed, status=Scan.Status.DONE), site=fixed, finding_id="cert.expired"
    )
    return sites


def hostnames(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(site["hostname"] for site in response.json()["results"])


def test_sites_below_b_are_those_graded_c_or_worse(api, graded_sites):
    assert hostnames(api.get("/api/v1/sites?below=B")) == ["expired.example", "weak.example"]


def test_sites_can_be_filtered_by_exact_grade(api, graded_sites):
    assert hostnames(api.get("/api/v1/sites?grade=B")) == ["okay.example"]
    assert hostnames(api.get("/api/v1/sites?grade=A%2B")) == ["best.example"]
    # An unencoded '+' arrives as a space; it still means A+.
    assert hostnames(api.get("/api/v1/sites?grade=A+")) == ["best.example"]


def test_sites_can_be_filtered_by_a_finding_of_their_latest_scan(api, graded_sites):
    assert hostnames(api.get("/api/v1/sites?finding=cert.expired")) == ["expired.example"]


def test_an_unknown_grade_filter_is_a_400(api, graded_sites):
    response = api.get("/api/v1/sites?below=Z")

    assert response.status_code == 400
    assert "below" in response.json()["error"]["fields"]


# --- Portfolios --------------------------------------------------------------


def test_portfolio_lifecycle(api, owner):
    created = post_json(api, "/api/v1/portfolios", {"name": "Shops"})
    assert created.status_code == 201
    portfolio_url = f"/api/v1/portfolios/{created.json()['id']}"

    added = post_json(api, f"{portfolio_url}/sites", {"host": "shop.example"})
    assert added.status_code == 200
    site_id = added.json()["sites"][0]["id"]
    other = Site.objects.create(owner=owner, hostname="blog.example")
    assert len(post_json(api, f"{portfolio_url}/sites", {"site": other.pk}).json()["sites"]) == 2

    renamed = api.patch(portfolio_url, data=json.dumps({"name": "Web shops"}), content_type="application/json")
    assert renamed.json()["name"] == "Web shops"

    removed = api.delete(f"{portfolio_url}/sites", data=json.dumps({"site": site_id}), content_type="application/json")
    assert [site["hostname"] for site in removed.json()["sites"]] == ["blog.example"]
    removed = api.delete(
        f"{portfolio_url}/sites", data=json.dumps({"host": "blog.example"}), content_type="application/json"
    )
    assert removed.json()["sites"] == []
    assert Site.objects.count() == 2  # removing from a portfolio keeps the site and its history

    assert api.delete(portfolio_url).status_code == 204
    assert api.get(portfolio_url).status_code == 404


def test_portfolio_alert_window_is_set_by_patch_and_validated(api, owner):
    portfolio_url = f"/api/v1/portfolios/{post_json(api, '/api/v1/portfolios', {'name': 'Shops'}).json()['id']}"

    updated = api.patch(portfolio_url, data=json.dumps({"alert_expiry_days": 30}), content_type="application/json")
    assert (updated.json()["alert_expiry_days"], updated.json()["name"]) == (30, "Shops")

    rejected = api.patch(portfolio_url, data=json.dumps({"alert_expiry_days": 0}), content_type="application/json")
    assert rejected.status_code == 400 and "alert_expiry_days" in rejected.json()["error"]["fields"]


def test_portfolio_names_are_unique_per_user(api, outsider_api):
    post_json(api, "/api/v1/portfolios", {"name": "Shops"})

    duplicate = post_json(api, "/api/v1/portfolios", {"name": "Shops"})

    assert duplicate.status_code == 409  # Conflict: the name clashes with an existing portfolio
    assert "already" in duplicate.json()["error"]["message"]
    assert post_json(outsider_api, "/api/v1/portfolios", {"name": "Shops"}).status_code == 201


@pytest.mark.parametrize("body", [{}, {"host": "shop.example", "site": 1}, {"site": 1, "port": 443}])
def test_adding_a_site_needs_exactly_one_of_host_or_site(api, owner, body):
    portfolio = Portfolio.objects.create(owner=owner, name="Shops")

    response = post_json(api, f"/api/v1/portfolios/{portfolio.pk}/sites", body)

    assert response.status_code == 400


@override_settings(SCANNER_ALLOWED_NETWORKS=[], SCANNER_RESOLVE=["blocked.example:127.0.0.1"])
def test_a_refused_host_cannot_be_added_to_a_portfolio(api, owner):
    portfolio = Portfolio.objects.create(owner=owner, name="Shops")

    response = post_json(api, f"/api/v1/portfolios/{portfolio.pk}/sites", {"host": "blocked.example"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "target_refused"
    assert Site.objects.count() == 0


def test_bulk_scan_queues_every_site_of_the_portfolio(api, owner, settings):
    settings.SCANNER_RESOLVE = [*settings.SCANNER_RESOLVE, "blocked.example:10.0.0.1"]
    portfolio = Portfolio.objects.create(owner=owner, name="Shops")
    for hostname in ("shop.example", "blog.example", "blocked.example"):
        portfolio.sites.add(Site.objects.create(owner=owner, hostname=hostname))

    response = post_json(api, f"/api/v1/portfolios/{portfolio.pk}/scan", {})

    assert response.status_code == 202
    by_host = {item["host"]: item for item in response.json()}
    assert by_host["shop.example"]["scan"]["status"] == "queued"
    assert by_host["blog.example"]["scan"]["portfolio"] == portfolio.pk
    # Names are resolved by the worker, not in this request: the refused site is queued too...
    assert Scan.objects.filter(status="queued").count() == 3
    # ...and the worker ends it failed, saying why, without scanning it.
    refused = services.execute_scan(by_host["blocked.example"]["scan"]["id"])
    assert refused.status == "failed" and "private" in refused.error and "10.0.0.1" not in refused.error

    again = {item["host"]: item for item in post_json(api, f"/api/v1/portfolios/{portfolio.pk}/scan", {}).json()}
    for host in ("shop.example", "blog.example"):  # already queued: not queued twice
        assert again[host]["scan"]["id"] == by_host[host]["scan"]["id"]
        assert Scan.objects.filter(site__hostname=host).count() == 1


# --- Isolation between users -------------------------------------------------


@pytest.fixture
def owners_objects(owner):
    site = Site.objects.create(owner=owner, hostname="shop.example")
    scan = finished_scan(site, grade="T", findings=("cert.expired",))
    portfolio = Portfolio.objects.create(owner=owner, name="Shops")
    portfolio.sites.add(site)
    return site, scan, portfolio


@pytest.mark.parametrize(
    "path",
    ["/api/v1/scans/{scan}", "/api/v1/sites/{site}", "/api/v1/sites/{site}/scans", "/api/v1/portfolios/{portfolio}"],
)
def test_other_users_objects_are_not_found(outsider_api, owners_objects, path):
    site, scan, portfolio = owners_objects

    response = outsider_api.get(path.format(site=site.pk, scan=scan.pk, portfolio=portfolio.pk))

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


@pytest.mark.parametrize(
    "path", ["/api/v1/scans", "/api/v1/sites", "/api/v1/sites?finding=cert.expired", "/api/v1/portfolios"]
)
def test_other_users_objects_are_not_listed(outsider_api, owners_objects, path):
    response = outsider_api.get(path)

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_other_users_portfolios_cannot_be_changed(outsider_api, owners_objects):
    site, _, portfolio = owners_objects
    url = f"/api/v1/portfolios/{portfolio.pk}"

    assert (
        outsider_api.patch(url, data=json.dumps({"name": "Mine"}), content_type="application/json").status_code == 404
    )
    assert outsider_api.delete(url).status_code == 404
    assert post_json(outsider_api, f"{url}/sites", {"host": "blog.example"}).status_code == 404
    assert (
        outsider_api.delete(
            f"{url}/sites", data=json.dumps({"site": site.pk}), content_type="application/json"
        ).status_code
        == 404
    )
    assert post_json(outsider_api, f"{url}/scan", {}).status_code == 404
    portfolio.refresh_from_db()
    assert portfolio.name == "Shops"
    assert list(portfolio.sites.all()) == [site]
    assert Scan.objects.count() == 1


def test_other_users_sites_and_portfolios_cannot_be_referenced(outsider_api, outsider, owners_objects):
    site, _, portfolio = owners_objects
    mine = Portfolio.objects.create(owner=outsider, name="Mine")

    by_site = post_json(outsider_api, f"/api/v1/portfolios/{mine.pk}/sites", {"site": site.pk})
    into_portfolio = post_json(outsider_api, "/api/v1/scans", {"host": "blog.example", "portfolio": portfolio.pk})
    scans_of_site = outsider_api.get(f"/api/v1/scans?site={site.pk}")

    assert by_site.status_code == 400
    assert into_portfolio.status_code == 400
    assert scans_of_site.status_code == 404
    assert mine.sites.count() == 0
    assert Scan.objects.count() == 1


def test_the_same_host_submitted_by_two_users_gives_each_their_own_site_and_scan(api, outsider_api):
    mine = post_json(api, "/api/v1/scans", {"host": "shop.example"}).json()
    theirs = post_json(outsider_api, "/api/v1/scans", {"host": "shop.example"}).json()

    assert mine["id"] != theirs["id"]
    assert mine["site"] != theirs["site"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/scans"), ("post", "/api/v1/scans"), ("get", "/api/v1/sites"), ("get", "/api/v1/portfolios")],
)
def test_anonymous_requests_are_refused_with_401(method, path):
    response = getattr(APIClient(), method)(path)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


# --- Tokens, schema, health --------------------------------------------------


def test_a_token_can_be_obtained_with_username_and_password(owner):
    response = post_json(APIClient(), "/api/v1/token", {"username": "owner", "password": "owner-pass-123"})

    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/sites").status_code == 200


def test_wrong_credentials_get_a_400_with_the_standard_error_body(owner):
    response = post_json(APIClient(), "/api/v1/token", {"username": "owner", "password": "wrong"})

    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_session_login_works_for_the_dashboard(client, owner):
    client.force_login(owner)

    assert client.get("/api/v1/sites").status_code == 200


def test_the_openapi_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_healthz_answers_without_authentication(client):
    from scanner.nodes import record_worker_heartbeat

    record_worker_heartbeat("test-node@localhost")  # a live worker, as a running node would report
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_a_new_scan_is_sent_to_the_workers_only_after_commit(api, django_capture_on_commit_callbacks):
    from scanner.services.site_versions import renew_versions

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post_json(api, "/api/v1/scans", {"host": "shop.example"})
    with django_capture_on_commit_callbacks(execute=False) as callbacks_for_duplicate:
        post_json(api, "/api/v1/scans", {"host": "shop.example"})

    # Besides the new site's and scan's versions of the account's sites (renewed on commit too).
    sends = [callback for callback in callbacks if callback is not renew_versions]
    assert len(sends) == 1
    assert callbacks_for_duplicate == []


@override_settings(DEBUG=False)
def test_unknown_api_urls_answer_with_the_api_error_body(api):
    response = api.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
