"""The weekly digest per portfolio, by e-mail, to the channels that opted in: what changed in the last 7 days,
what expires within 30 days, what fails. Delivered over real SMTP to a local aiosmtpd server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from scanner import services
from scanner.models import Alert, Channel, Portfolio, Scan, Site
from scanner.tasks import queue_weekly_digests, send_portfolio_digest
from tests.test_notifications_smtp import smtp_server  # noqa: F401  (fixture)
from webui.celery import app as celery_app

pytestmark = pytest.mark.django_db


def email_channel(owner, address: str, *, digest: bool = True, verified: bool = True) -> Channel:
    return Channel.objects.create(
        owner=owner,
        kind="email",
        target=address,
        weekly_digest=digest,
        verified_at=timezone.now() if verified else None,
    )


@pytest.fixture
def portfolio(alice):
    """Client A with one site of each kind the digest must tell apart."""
    now = timezone.now()
    portfolio = Portfolio.objects.create(owner=alice, name="Client A")
    sites = {
        "dropped": Site.objects.create(owner=alice, hostname="dropped.example", grade="B"),
        "oldnews": Site.objects.create(owner=alice, hostname="oldnews.example", grade="A"),
        "soon": Site.objects.create(
            owner=alice, hostname="soon.example", grade="A", cert_not_after=now + timedelta(days=12, hours=1)
        ),
        "gone": Site.objects.create(
            owner=alice, hostname="gone.example", grade="A", cert_not_after=now - timedelta(days=3, hours=1)
        ),
        "later": Site.objects.create(
            owner=alice, hostname="later.example", grade="A", cert_not_after=now + timedelta(days=60)
        ),
        "failing": Site.objects.create(owner=alice, hostname="failing.example", grade="F"),
        "down": Site.objects.create(owner=alice, hostname="down.example", grade="A"),
    }
    portfolio.sites.add(*sites.values())
    Alert.objects.create(site=sites["dropped"], kind=Alert.Kind.GRADE_DROPPED, state_key="1", message="grade A → B")
    old = Alert.objects.create(
        site=sites["oldnews"], kind=Alert.Kind.GRADE_DROPPED, state_key="1", message="grade A+ → A"
    )
    Alert.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=8))
    failed = Scan.objects.create(site=sites["down"], status=Scan.Status.FAILED, error="connection refused")
    Site.objects.filter(pk=sites["down"].pk).update(last_scan=failed)
    return portfolio


def digest_mail(smtp_server) -> str:  # noqa: F811
    [envelope] = smtp_server.envelopes
    return envelope.content.decode()


def test_the_digest_says_what_changed_expires_and_fails(alice, portfolio, smtp_server):  # noqa: F811
    email_channel(alice, "ops@example.com")

    assert send_portfolio_digest.apply(args=[portfolio.pk]).get() == 1

    text = digest_mail(smtp_server)
    assert "Subject: [scanner] Weekly digest: Client A" in text
    changed = text[text.index("What changed in the last 7 days (1)") : text.index("Certificates expiring")]
    assert "dropped.example: Grade dropped: grade A → B" in changed and "oldnews.example" not in changed
    expiring = text[text.index("Certificates expiring within 30 days (2)") : text.index("Failing sites")]
    assert expiring.index("gone.example: expired 3 day(s) ago") < expiring.index("soon.example: expires in 12 day(s)")
    assert "later.example" not in expiring
    failing = text[text.index("Failing sites (2)") :]
    assert "down.example: unreachable: the last scan failed: connection refused (last good grade A)" in failing
    assert "failing.example: graded F" in failing
    assert django_settings.SCANNER_PUBLIC_URL + reverse("dashboard:portfolio", args=[portfolio.pk]) in text


def test_only_verified_channels_that_opted_in_receive_it(alice, portfolio, smtp_server):  # noqa: F811
    email_channel(alice, "digest@example.com")
    email_channel(alice, "alerts-only@example.com", digest=False)
    email_channel(alice, "unconfirmed@example.com", verified=False)

    send_portfolio_digest.apply(args=[portfolio.pk])

    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes] == [["digest@example.com"]]


def test_a_portfolio_that_chose_its_channels_sends_its_digest_to_those_only(alice, portfolio, smtp_server):  # noqa: F811
    chosen = email_channel(alice, "client-a@example.com")
    email_channel(alice, "other-client@example.com")
    services.portfolio_set_channels(portfolio, notify_all=False, channels=[chosen])

    send_portfolio_digest.apply(args=[portfolio.pk])

    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes] == [["client-a@example.com"]]


def test_the_weekly_beat_task_sends_one_digest_task_per_portfolio_by_name(alice, bob, portfolio, settings, smtp_server):  # noqa: F811
    settings.CELERY_TASK_ALWAYS_EAGER = True  # send_task by name runs the digest task at once, as a worker would
    email_channel(alice, "ops@example.com")
    Portfolio.objects.create(owner=bob, name="Nobody reads this")  # bob opted no channel in

    assert queue_weekly_digests.apply().get() == 1

    assert "Weekly digest: Client A" in digest_mail(smtp_server)


def test_beat_runs_the_digest_weekly():
    entry = celery_app.conf.beat_schedule["scanner-weekly-digests"]  # what beat reads
    assert entry["task"] == "scanner.tasks.queue_weekly_digests"
    assert isinstance(entry["schedule"], crontab) and entry["schedule"].day_of_week == {1}
    assert (
        django_settings.CELERY_TASK_ROUTES["scanner.tasks.send_portfolio_digest"]["queue"]
        == django_settings.SCANNER_ALERT_QUEUE
    )


def test_a_webhook_cannot_opt_in_to_the_digest(alice):
    with pytest.raises(services.ScanRequestError, match="e-mail only"):
        services.channel_create(
            owner=alice, kind="webhook", target="https://hooks.example/x", secret="s", weekly_digest=True
        )


def test_an_email_channel_opts_in_and_out_on_the_channels_page(client, alice):
    channel = email_channel(alice, "ops@example.com", digest=False)
    client.force_login(alice)

    client.post(reverse("dashboard:channel_digest", args=[channel.pk]), {"weekly_digest": "on"})
    channel.refresh_from_db()
    assert channel.weekly_digest is True
    assert "weekly digest" in client.get(reverse("dashboard:channels")).content.decode()

    client.post(reverse("dashboard:channel_digest", args=[channel.pk]))
    channel.refresh_from_db()
    assert channel.weekly_digest is False


def test_another_users_channel_cannot_be_opted_in(client, alice, bob):
    channel = email_channel(alice, "ops@example.com", digest=False)
    client.force_login(bob)
    response = client.post(reverse("dashboard:channel_digest", args=[channel.pk]), {"weekly_digest": "on"})
    channel.refresh_from_db()
    assert response.status_code == 404 and channel.weekly_digest is False
