"""Dashboard portfolio, badge and alert pages: owner-only access and how bad input is reported."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from scanner.models import Alert, Portfolio, Site

pytestmark = pytest.mark.django_db

MIXED_IMPORT = "a.example\nb.example,8443\nbad host!\nc.example,99999\n"


@pytest.fixture
def alice_portfolio(alice):
    return Portfolio.objects.create(owner=alice, name="Shops")


@pytest.fixture
def as_bob(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def test_another_users_portfolio_is_not_found(as_bob, alice_portfolio):
    pk = alice_portfolio.pk
    assert as_bob.get(reverse("dashboard:portfolio", args=[pk])).status_code == 404
    assert as_bob.post(reverse("dashboard:portfolio_schedule", args=[pk]), {"kind": "daily"}).status_code == 404
    assert as_bob.post(reverse("dashboard:portfolio_import", args=[pk]), {"text": "a.example"}).status_code == 404
    assert as_bob.get(reverse("dashboard:portfolio_export", args=[pk, "csv"])).status_code == 404
    alice_portfolio.refresh_from_db()
    assert alice_portfolio.next_rescan_at is None
    assert not alice_portfolio.sites.exists()


def test_bad_cron_shows_error_and_stores_nothing(as_alice, alice_portfolio):
    url = reverse("dashboard:portfolio_schedule", args=[alice_portfolio.pk])
    response = as_alice.post(url, {"kind": "cron", "cron": "61 * * *"})
    assert response.status_code == 400
    assert "A cron expression has 5 fields" in response.content.decode()
    alice_portfolio.refresh_from_db()
    assert alice_portfolio.next_rescan_at is None


def test_good_schedule_is_saved(as_alice, alice_portfolio):
    url = reverse("dashboard:portfolio_schedule", args=[alice_portfolio.pk])
    assert as_alice.post(url, {"kind": "weekly", "cron": ""}).status_code == 302
    alice_portfolio.refresh_from_db()
    assert alice_portfolio.rescan_cron == "0 3 * * 1"
    assert alice_portfolio.next_rescan_at is not None


def test_import_reports_numbered_errors_and_is_idempotent(as_alice, alice_portfolio):
    url = reverse("dashboard:portfolio_import", args=[alice_portfolio.pk])
    page = as_alice.post(url, {"text": MIXED_IMPORT}).content.decode()
    assert "2 added, 0 already in the portfolio" in page
    assert "Line 3" in page and "Line 4" in page
    assert "99999" in page
    upload = SimpleUploadedFile("sites.csv", MIXED_IMPORT.encode())
    again = as_alice.post(url, {"text": "", "file": upload}).content.decode()
    assert "0 added, 2 already in the portfolio" in again
    assert alice_portfolio.sites.count() == 2


def test_export_csv_downloads_with_header_row(as_alice, alice, alice_portfolio):
    alice_portfolio.sites.add(Site.objects.create(owner=alice, hostname="a.example"))
    response = as_alice.get(reverse("dashboard:portfolio_export", args=[alice_portfolio.pk, "csv"]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("host,port,tags,grade")
    assert lines[1].startswith("a.example,443")


def test_badge_toggle_flips_public_flag_for_owner_only(as_alice, alice, bob, client):
    site = Site.objects.create(owner=alice, hostname="a.example")
    url = reverse("dashboard:toggle_badge", args=[site.pk])
    as_alice.post(url)
    site.refresh_from_db()
    assert site.badge_public
    page = as_alice.get(reverse("dashboard:site", args=[site.pk])).content.decode()
    assert f"/badge/{site.pk}.svg" in page
    client.force_login(bob)
    assert client.post(url).status_code == 404
    site.refresh_from_db()
    assert site.badge_public


def test_alerts_page_lists_only_own_alerts(as_alice, alice, bob):
    mine = Site.objects.create(owner=alice, hostname="mine.example")
    theirs = Site.objects.create(owner=bob, hostname="theirs.example")
    Alert.objects.create(site=mine, kind=Alert.Kind.GRADE_DROPPED, state_key="A->C", message="Grade fell to C")
    Alert.objects.create(site=theirs, kind=Alert.Kind.UNREACHABLE, state_key="x", message="Bob's site is down")
    page = as_alice.get(reverse("dashboard:alerts")).content.decode()
    assert "Grade fell to C" in page
    assert "Bob&#x27;s site is down" not in page and "Bob's site is down" not in page


def test_webhook_channels_can_be_added_and_deleted(as_alice, alice, settings):
    settings.SCANNER_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    as_alice.post(
        reverse("dashboard:channels"), {"kind": "webhook", "target": "http://127.0.0.1:9/x", "secret": "s3cret"}
    )
    channel = alice.channels.get()
    assert (channel.kind, channel.secret) == ("webhook", "s3cret")
    as_alice.post(reverse("dashboard:delete_channel", args=[channel.pk]))
    assert not alice.channels.exists()


def test_portfolio_is_created_and_listed(as_alice, alice):
    response = as_alice.post(reverse("dashboard:portfolios"), {"name": "Shops"})
    portfolio = alice.portfolios.get()
    assert response.url == reverse("dashboard:portfolio", args=[portfolio.pk])
    page = as_alice.get(reverse("dashboard:portfolios")).content.decode()
    assert "Shops" in page and 'href="/portfolios/"' in page
    assert "already have" in as_alice.post(reverse("dashboard:portfolios"), {"name": "Shops"}).content.decode()
