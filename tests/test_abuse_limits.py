"""Abuse limits: login lockout (per account and per address), API request rates per user and per token,
scan quotas, the per-target limit across users, the minimum schedule interval (API, dashboard, admin) and
closed signup. Every refusal is a 429 or 400 in the error shape, with the time to retry."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from rest_framework.test import APIClient

from scanner.models import Finding, LimitEvent, Portfolio, Scan, Site
from scanner.services.schedules import RESCAN_TASK, describe_schedule, set_portfolio_schedule
from webui.api.tokens import token_create

pytestmark = pytest.mark.django_db

PUBLIC_IP = "93.184.215.14"


@pytest.fixture(autouse=True)
def pinned_hosts(settings):
    settings.SCANNER_ALLOWED_NETWORKS = []
    settings.SCANNER_RESOLVE = [f"{host}:{PUBLIC_IP}" for host in ("shop.example", "blog.example", "mail.example")]
    settings.SCANNER_RESCAN_MIN_INTERVAL = 0


def with_token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def post_json(client, url: str, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def assert_retry_later(response, status: int = 429) -> int:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "fields", "retry_after"}
    assert error["retry_after"] > 0
    assert int(response["Retry-After"]) == error["retry_after"]
    return error["retry_after"]


# --- Logins ------------------------------------------------------------------


def test_the_sixth_dashboard_login_attempt_in_a_minute_is_refused(client, alice):
    # Four failures are answered as such; the fifth reaches the limit and its answer is already the lockout.
    answers = [client.post(reverse("login"), {"username": "alice", "password": "wrong"}).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]
    sixth = client.post(reverse("login"), {"username": "alice", "password": "alice-pass-123"})
    assert sixth.status_code == 429
    assert "Try again in" in sixth.content.decode()
    assert int(sixth["Retry-After"]) > 0


def test_the_sixth_token_request_with_a_wrong_password_is_refused(alice):
    client = APIClient()
    answers = [
        post_json(client, "/api/v1/token", {"username": "alice", "password": "wrong"}).status_code for _ in range(5)
    ]
    assert answers == [400, 400, 400, 400, 429]
    sixth = post_json(client, "/api/v1/token", {"username": "alice", "password": "alice-pass-123"})
    assert_retry_later(sixth)
    assert sixth.json()["error"]["code"] == "locked_out"


def test_failures_from_one_address_lock_it_out_for_every_account(alice, bob, django_user_model):
    client = APIClient()
    for name in ("u1", "u2", "u3", "u4", "u5"):
        post_json(client, "/api/v1/token", {"username": name, "password": "guess"})
    response = post_json(client, "/api/v1/token", {"username": "bob", "password": "bob-pass-123"})
    assert_retry_later(response)


def test_failures_against_one_account_lock_it_from_every_address(alice):
    for number in range(5):
        APIClient(REMOTE_ADDR=f"198.51.100.{number + 1}").post(
            "/api/v1/token", data=json.dumps({"username": "alice", "password": "x"}), content_type="application/json"
        )
    response = APIClient(REMOTE_ADDR="198.51.100.99").post(
        "/api/v1/token",
        data=json.dumps({"username": "alice", "password": "alice-pass-123"}),
        content_type="application/json",
    )
    assert_retry_later(response)


def test_token_requests_are_rate_limited_per_address(settings, alice):
    settings.SCANNER_TOKEN_REQUESTS_PER_ADDRESS = "2/min"
    client = APIClient()
    for _ in range(2):
        assert (
            post_json(client, "/api/v1/token", {"username": "alice", "password": "alice-pass-123"}).status_code == 200
        )
    assert_retry_later(post_json(client, "/api/v1/token", {"username": "alice", "password": "alice-pass-123"}))


# --- API request rates ---------------------------------------------------------


def test_a_token_over_its_request_quota_gets_429(settings, alice):
    settings.SCANNER_API_REQUESTS_PER_TOKEN = "3/min"
    _, secret = token_create(user=alice, name="busy")
    client = with_token(secret)
    for _ in range(3):
        assert client.get("/api/v1/sites").status_code == 200
    wait = assert_retry_later(client.get("/api/v1/sites"))
    assert wait <= 60


def test_the_token_quota_is_per_token(settings, alice):
    settings.SCANNER_API_REQUESTS_PER_TOKEN = "2/min"
    _, first = token_create(user=alice, name="one")
    _, second = token_create(user=alice, name="two")
    for _ in range(2):
        with_token(first).get("/api/v1/sites")
    assert with_token(first).get("/api/v1/sites").status_code == 429
    assert with_token(second).get("/api/v1/sites").status_code == 200


def test_the_user_quota_spans_all_their_tokens(settings, alice):
    settings.SCANNER_API_REQUESTS_PER_USER = "3/min"
    secrets = [token_create(user=alice, name=f"t{n}")[1] for n in range(4)]
    for secret in secrets[:3]:
        assert with_token(secret).get("/api/v1/sites").status_code == 200
    assert_retry_later(with_token(secrets[3]).get("/api/v1/sites"))


def test_scans_over_the_hourly_quota_get_429_with_the_time_to_retry(settings, alice):
    settings.SCANNER_SCANS_PER_HOUR = 2
    client = with_token(token_create(user=alice, name="t")[1])
    for host in ("shop.example", "blog.example"):
        assert post_json(client, "/api/v1/scans", {"host": host}).status_code == 202
    wait = assert_retry_later(post_json(client, "/api/v1/scans", {"host": "mail.example"}))
    assert 3500 < wait <= 3600
    assert Scan.objects.count() == 2


def requested(user, *, hours_ago: float, scans: int = 1) -> None:
    """The quota's ledger: `scans` requested by `user` that long ago."""
    LimitEvent.objects.create(
        kind=LimitEvent.Kind.SCANS, key=str(user.pk), cost=scans, at=timezone.now() - timedelta(hours=hours_ago)
    )


def test_the_daily_scan_quota_counts_yesterdays_last_hours(settings, alice):
    settings.SCANNER_SCANS_PER_DAY = 1
    requested(alice, hours_ago=20)
    client = with_token(token_create(user=alice, name="t")[1])
    wait = assert_retry_later(post_json(client, "/api/v1/scans", {"host": "shop.example"}))
    assert 3 * 3600 < wait <= 4 * 3600


def test_a_portfolio_scan_costs_one_scan_per_site(settings, alice):
    settings.SCANNER_SCANS_PER_HOUR = 2
    portfolio = Portfolio.objects.create(owner=alice, name="p")
    for host in ("shop.example", "blog.example", "mail.example"):
        portfolio.sites.add(Site.objects.create(owner=alice, hostname=host))
    client = with_token(token_create(user=alice, name="t")[1])
    assert_retry_later(client.post(f"/api/v1/portfolios/{portfolio.pk}/scan"))
    assert not Scan.objects.exists()


def test_the_dashboard_submit_respects_the_scan_quota(settings, client, alice):
    settings.SCANNER_SCANS_PER_HOUR = 1
    client.force_login(alice)
    response = client.post(reverse("dashboard:submit"), {"domains": "shop.example, blog.example"})
    assert response.status_code == 429
    assert "quota" in response.content.decode()
    assert not Scan.objects.exists()


def portfolio_of(owner, hosts=("shop.example", "blog.example", "mail.example")) -> Portfolio:
    portfolio = Portfolio.objects.create(owner=owner, name="p")
    for host in hosts:
        portfolio.sites.add(Site.objects.create(owner=owner, hostname=host))
    return portfolio


def test_the_dashboard_portfolio_scan_respects_the_scan_quota(settings, client, alice):
    settings.SCANNER_SCANS_PER_HOUR = 2
    portfolio = portfolio_of(alice)
    client.force_login(alice)
    response = client.post(reverse("dashboard:portfolio_scan", args=[portfolio.pk]), follow=True)
    assert "Scan quota reached" in response.content.decode()
    assert not Scan.objects.exists()


def test_the_dashboard_rescan_respects_the_scan_quota(settings, client, alice):
    settings.SCANNER_SCANS_PER_HOUR = 1
    site = Site.objects.create(owner=alice, hostname="shop.example")
    finished_scan(site, minutes_ago=30)  # outside the per-target window; requested within the hour
    requested(alice, hours_ago=0.5)
    client.force_login(alice)
    response = client.post(reverse("dashboard:rescan", args=[site.pk]), follow=True)
    assert "Scan quota reached" in response.content.decode()
    assert Scan.objects.count() == 1


def test_the_scan_request_service_itself_enforces_the_quota(settings, alice):
    from scanner import services

    settings.SCANNER_SCANS_PER_HOUR = 1
    services.submit_scan(alice, "shop.example")
    with pytest.raises(services.ScanRequestTooSoon) as refused:
        services.submit_scan(alice, "blog.example")
    assert refused.value.code == "scan_quota" and refused.value.retry_after > 0
    with pytest.raises(services.ScanRequestTooSoon):
        services.submit_portfolio_scans(portfolio_of(alice, hosts=("mail.example",)))
    assert Scan.objects.count() == 1


def test_a_request_answered_by_a_recent_scan_costs_no_quota(settings, alice):
    from scanner import services

    settings.SCANNER_SCANS_PER_HOUR = 1
    site = Site.objects.create(owner=alice, hostname="shop.example")
    recent = finished_scan(site, minutes_ago=1)
    scan, created = services.submit_scan(alice, "shop.example", max_age=600)
    assert (scan, created) == (recent, False)


def test_scheduled_rescans_are_bounded_by_the_schedule_not_the_request_quota(settings, alice):
    from scanner import services

    settings.SCANNER_SCANS_PER_HOUR = 1
    outcomes = services.submit_portfolio_scans(portfolio_of(alice), scheduled=True)
    assert sum(1 for _, scan, _ in outcomes if scan is not None) == 3


# --- Per-target limit ------------------------------------------------------------


def finished_scan(site: Site, *, minutes_ago: int) -> Scan:
    finished = timezone.now() - timedelta(minutes=minutes_ago)
    scan = Scan.objects.create(
        site=site,
        status=Scan.Status.DONE,
        security_grade="B",
        score=70,
        seo_score=80,
        seo_grade="B",
        started_at=finished,
        finished_at=finished,
        ip=PUBLIC_IP,
        result={"host": site.hostname},
    )
    Finding.objects.create(scan=scan, site=site, finding_id="tls.weak", severity="medium", title="Weak")
    return scan


def test_a_target_scanned_minutes_ago_for_anyone_is_answered_from_that_scan(settings, alice, bob):
    settings.SCANNER_TARGET_MIN_INTERVAL = 600
    theirs = finished_scan(Site.objects.create(owner=bob, hostname="shop.example"), minutes_ago=3)
    response = post_json(with_token(token_create(user=alice, name="t")[1]), "/api/v1/scans", {"host": "shop.example"})
    assert response.status_code == 200
    body = response.json()
    assert body["reused"] is True and body["status"] == "done" and body["security_grade"] == "B"
    mine = Scan.objects.get(pk=body["id"])
    assert mine.pk != theirs.pk and mine.site.owner == alice
    assert list(mine.findings.values_list("finding_id", flat=True)) == ["tls.weak"]
    assert not Scan.objects.filter(status__in=Scan.ACTIVE_STATUSES).exists()


def test_a_fresh_scan_asked_for_inside_the_window_returns_the_recent_one(settings, alice):
    settings.SCANNER_TARGET_MIN_INTERVAL = 600
    site = Site.objects.create(owner=alice, hostname="shop.example")
    recent = finished_scan(site, minutes_ago=2)
    client = with_token(token_create(user=alice, name="t")[1])
    response = post_json(client, "/api/v1/scans", {"host": "shop.example", "max_age": 0})
    assert response.status_code == 200 and response.json()["id"] == recent.pk


def test_a_target_scanned_outside_the_window_is_scanned_again(settings, alice, bob):
    settings.SCANNER_TARGET_MIN_INTERVAL = 600
    finished_scan(Site.objects.create(owner=bob, hostname="shop.example"), minutes_ago=11)
    response = post_json(with_token(token_create(user=alice, name="t")[1]), "/api/v1/scans", {"host": "shop.example"})
    assert response.status_code == 202 and response.json()["reused"] is False


def test_a_target_being_scanned_for_another_account_is_refused_for_now(settings, alice, bob):
    settings.SCANNER_TARGET_MIN_INTERVAL = 600
    Scan.objects.create(site=Site.objects.create(owner=bob, hostname="shop.example"), status=Scan.Status.RUNNING)
    response = post_json(with_token(token_create(user=alice, name="t")[1]), "/api/v1/scans", {"host": "shop.example"})
    assert_retry_later(response)
    assert not Site.objects.filter(owner=alice).exists()


def test_the_same_host_on_another_port_is_another_target(settings, alice, bob):
    settings.SCANNER_TARGET_MIN_INTERVAL = 600
    finished_scan(Site.objects.create(owner=bob, hostname="shop.example"), minutes_ago=1)
    client = with_token(token_create(user=alice, name="t")[1])
    response = post_json(client, "/api/v1/scans", {"host": "shop.example", "port": 8443})
    assert response.status_code == 202


# --- Schedules -------------------------------------------------------------------


@pytest.mark.parametrize("cron", ["* * * * *", "*/30 * * * *", "0,30 3 * * *", "0 3 * * *,"])
def test_a_schedule_more_often_than_hourly_is_refused_in_the_api(alice, cron):
    portfolio = Portfolio.objects.create(owner=alice, name="p")
    client = with_token(token_create(user=alice, name="t")[1])
    response = client.put(
        f"/api/v1/portfolios/{portfolio.pk}/schedule",
        data=json.dumps({"kind": "cron", "cron": cron}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["cron"]
    assert describe_schedule(Portfolio.objects.get(pk=portfolio.pk)) is None


@pytest.mark.parametrize("cron", ["0 * * * *", "15 */2 * * *", "59 23 * * 1"])
def test_an_hourly_or_rarer_schedule_is_accepted(alice, cron):
    portfolio = Portfolio.objects.create(owner=alice, name="p")
    assert set_portfolio_schedule(portfolio, "cron", cron) is not None


def test_a_schedule_more_often_than_hourly_is_refused_in_the_dashboard(client, alice):
    portfolio = Portfolio.objects.create(owner=alice, name="p")
    client.force_login(alice)
    response = client.post(
        reverse("dashboard:portfolio_schedule", args=[portfolio.pk]), {"kind": "cron", "cron": "*/5 * * * *"}
    )
    assert response.status_code == 400
    assert "at most once every hour" in response.content.decode()
    assert describe_schedule(Portfolio.objects.get(pk=portfolio.pk)) is None


def test_a_rescan_beat_entry_edited_in_the_admin_obeys_the_minimum(client, alice, django_user_model):
    # Schedules live on the portfolios now (read-only in the admin), but a superuser can still make a beat entry
    # that calls the rescan task.
    portfolio = Portfolio.objects.create(owner=alice, name="p")
    crontab = CrontabSchedule.objects.create(minute="0", hour="3", timezone="UTC")
    PeriodicTask.objects.create(
        name="by hand", task=RESCAN_TASK, crontab=crontab, kwargs=json.dumps({"portfolio_id": portfolio.pk})
    )
    root = django_user_model.objects.create_superuser("root", password="root-pass-12345")
    client.force_login(root)
    response = client.post(
        reverse("admin:django_celery_beat_crontabschedule_change", args=[crontab.pk]),
        {
            "minute": "*",
            "hour": "*",
            "day_of_month": "*",
            "month_of_year": "*",
            "day_of_week": "*",
            "timezone": "UTC",
            "periodictask_set-TOTAL_FORMS": "0",
            "periodictask_set-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "at most once every hour" in response.content.decode()
    assert CrontabSchedule.objects.get(pk=crontab.pk).minute == "0"


def test_the_minimum_interval_is_a_setting(settings, alice):
    settings.SCANNER_MIN_SCHEDULE_INTERVAL = 15 * 60
    portfolio = Portfolio.objects.create(owner=alice, name="p")
    assert set_portfolio_schedule(portfolio, "cron", "*/15 * * * *") is not None


# --- Signup ------------------------------------------------------------------------


def test_signup_can_be_closed_by_a_setting(settings, client, django_user_model):
    settings.SCANNER_SIGNUP_OPEN = False
    page = client.get(reverse("dashboard:signup"))
    assert "not taking new accounts" in page.content.decode()
    assert reverse("dashboard:signup") not in client.get(reverse("login")).content.decode()
    response = client.post(
        reverse("dashboard:signup"),
        {"username": "mallory", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )
    assert response.status_code == 400
    assert not django_user_model.objects.exists()


def test_a_result_answered_from_another_users_scan_is_the_sites_current_state(settings, alice, bob):
    settings.SCANNER_TARGET_MIN_INTERVAL = 600
    finished_scan(Site.objects.create(owner=bob, hostname="shop.example"), minutes_ago=3)
    post_json(with_token(token_create(user=alice, name="t")[1]), "/api/v1/scans", {"host": "shop.example"})
    site = Site.objects.get(owner=alice)
    assert site.grade == "B" and site.latest_scan.site_id == site.pk and site.last_scan_id == site.latest_scan_id


def test_rescan_now_answered_by_the_per_target_limit_says_when_it_may_run_again(settings, client, alice):
    settings.SCANNER_TARGET_MIN_INTERVAL = 600
    site = Site.objects.create(owner=alice, hostname="shop.example")
    recent = finished_scan(site, minutes_ago=3)
    client.force_login(alice)
    html = client.post(reverse("dashboard:rescan", args=[site.pk]), follow=True).content.decode()
    again = recent.finished_at + timedelta(minutes=10)
    assert f"Rescan now may run again at {again:%H:%M} UTC (in 7 minutes)." in html
    assert "scanned at most every 10 minutes" in html
    assert Scan.objects.count() == 1
