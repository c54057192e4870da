"""Counted limits that outlive what they counted: the scan quota counts scans *requested* (deleting sites gives
nothing back), the per-target limit counts every attempt (failed ones too), and the ledger forgets after a day."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from scanner import services
from scanner.models import LimitEvent, Scan, Site
from webui.api.tokens import token_create

pytestmark = pytest.mark.django_db

PUBLIC_IP = "93.184.215.14"
HOSTS = ("shop.example", "blog.example", "mail.example", "news.example")


@pytest.fixture(autouse=True)
def pinned_hosts(settings):
    settings.SCANNER_ALLOWED_NETWORKS = []
    settings.SCANNER_RESOLVE = [f"{host}:{PUBLIC_IP}" for host in HOSTS]
    settings.SCANNER_RESCAN_MIN_INTERVAL = 0


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user, name='t')[1]}")
    return client


def ask(client: APIClient, host: str, **extra):
    return client.post("/api/v1/scans", data=json.dumps({"host": host, **extra}), content_type="application/json")


def test_deleting_sites_gives_no_scan_quota_back(settings, alice):
    settings.SCANNER_SCANS_PER_HOUR = 2
    client = api(alice)
    for host in ("shop.example", "blog.example"):
        assert ask(client, host).status_code == 202
    for site in Site.objects.filter(owner=alice):
        services.site_delete(site)
    assert not Scan.objects.exists()
    refused = ask(client, "mail.example")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "scan_quota"


def test_deleting_a_site_from_the_api_gives_no_scan_quota_back(settings, alice):
    settings.SCANNER_SCANS_PER_HOUR = 1
    client = api(alice)
    site_id = ask(client, "shop.example").json()["site"]
    assert client.delete(f"/api/v1/sites/{site_id}").status_code == 204
    assert ask(client, "blog.example").status_code == 429


def test_scans_requested_more_than_a_day_ago_are_forgotten(settings, alice):
    settings.SCANNER_SCANS_PER_DAY = 1
    LimitEvent.objects.create(kind=LimitEvent.Kind.SCANS, key=str(alice.pk), at=timezone.now() - timedelta(hours=25))
    assert services.prune_limit_events() == 1
    assert ask(api(alice), "shop.example").status_code == 202


def test_a_portfolio_scan_records_one_scan_per_site_in_the_ledger(settings, alice):
    portfolio = services.portfolio_create(owner=alice, name="p")
    for host in HOSTS[:3]:
        portfolio.sites.add(Site.objects.create(owner=alice, hostname=host))
    services.submit_portfolio_scans(portfolio)
    assert services.scan_quota_wait(alice, cost=1) is None
    settings.SCANNER_SCANS_PER_HOUR = 3
    assert services.scan_quota_wait(alice, cost=1) is not None


def attempted(site: Site, *, status: str, minutes_ago: int, error: str = "") -> Scan:
    finished = timezone.now() - timedelta(minutes=minutes_ago)
    return Scan.objects.create(
        site=site, status=status, started_at=finished, finished_at=finished, ip=PUBLIC_IP, error=error
    )


def test_a_target_that_failed_minutes_ago_for_anyone_is_not_scanned_again(settings, alice, bob):
    settings.SCANNER_TARGET_MIN_INTERVAL = 600
    attempted(
        Site.objects.create(owner=bob, hostname="shop.example"),
        status=Scan.Status.FAILED,
        minutes_ago=2,
        error="connection refused",
    )
    response = ask(api(alice), "shop.example")
    assert response.status_code == 200
    body = response.json()
    assert body["reused"] is True and body["status"] == "failed"
    assert "connection refused" in body["error"]
    assert not Scan.objects.filter(status__in=Scan.ACTIVE_STATUSES).exists()


def test_my_own_failed_attempt_minutes_ago_answers_a_rescan(settings, client, alice):
    settings.SCANNER_TARGET_MIN_INTERVAL = 600
    site = Site.objects.create(owner=alice, hostname="shop.example")
    failed = attempted(site, status=Scan.Status.FAILED, minutes_ago=1, error="no TLS answer within 10 s")
    scan, created = services.submit_scan(alice, "shop.example", max_age=0)
    assert (scan, created) == (failed, False)


def test_a_scan_that_never_reached_the_target_does_not_hold_it(settings, alice, bob):
    settings.SCANNER_TARGET_MIN_INTERVAL = 600
    never_sent = Site.objects.create(owner=bob, hostname="shop.example")
    Scan.objects.create(site=never_sent, status=Scan.Status.FAILED, finished_at=timezone.now(), error="broker down")
    assert ask(api(alice), "shop.example").status_code == 202
