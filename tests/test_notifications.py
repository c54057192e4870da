"""Alerts reach people through channels, and an alert's status is what its deliveries show.

Receivers are real HTTP servers on 127.0.0.1 (allowed for these tests by SCANNER_ALLOWED_NETWORKS); e-mail
goes through Django's locmem backend.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from scanner import services
from scanner.models import Alert, Channel, Delivery, Portfolio, Scan, Site
from scanner.tasks import deliver_alert
from tests.receivers import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def loopback_allowed(settings):
    settings.SCANNER_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.SCANNER_NOTIFY_TIMEOUT = 3
    return settings


@pytest.fixture
def site(alice):
    return Site.objects.create(owner=alice, hostname="shop.example")


def an_alert(site: Site, key: str = "A->C") -> Alert:
    return Alert.objects.create(site=site, kind=Alert.Kind.GRADE_DROPPED, state_key=key, message="dropped to C")


def channel(owner, kind: str, target: str, **extra) -> Channel:
    return Channel.objects.create(owner=owner, kind=kind, target=target, verified_at=timezone.now(), **extra)


def delivered(alert: Alert) -> Alert:
    deliver_alert.apply(args=[alert.pk])
    alert.refresh_from_db()
    return alert


def test_an_alert_for_an_account_without_channels_says_no_channel_configured(site):
    alert = delivered(an_alert(site))
    assert alert.status == Alert.Status.NO_CHANNEL
    assert alert.get_status_display() == "no channel configured"
    assert not alert.deliveries.exists()


def test_an_alert_of_a_muted_site_is_recorded_but_sent_nowhere(site, loopback_allowed):
    services.site_set_muted(site, muted=True)
    with Receiver() as receiver:
        channel(site.owner, "webhook", receiver.url, secret="s")
        alert = delivered(an_alert(site))
    assert alert.status == Alert.Status.MUTED
    assert receiver.requests == []


def test_a_webhook_receives_the_alert_signed_with_the_channel_secret(site, loopback_allowed):
    with Receiver() as receiver:
        channel(site.owner, "webhook", receiver.url, secret="s3cret")
        alert = delivered(an_alert(site))

    [(headers, body)] = receiver.requests
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Scanner-Signature"] == expected
    assert json.loads(body)["kind"] == "grade_dropped"
    assert json.loads(body)["site"]["host"] == "shop.example"
    assert alert.status == Alert.Status.SENT
    assert alert.deliveries.get().status == Delivery.Status.SENT


def test_one_refused_webhook_does_not_hide_that_another_channel_received_the_alert(site, loopback_allowed):
    with Receiver() as good, Receiver(statuses=[410]) as gone:
        channel(site.owner, "webhook", good.url, secret="s")
        channel(site.owner, "slack", gone.url)
        alert = delivered(an_alert(site))

    assert alert.status == Alert.Status.PARTLY_FAILED
    log = {d.channel.kind: d for d in alert.deliveries.select_related("channel")}
    assert log["webhook"].status == Delivery.Status.SENT
    assert log["slack"].status == Delivery.Status.FAILED
    assert "HTTP 410" in log["slack"].error
    assert log["slack"].attempts == 1  # a 4xx is the receiver's final word: not retried


def test_a_receiver_answering_500_is_retried_until_it_accepts_and_others_get_it_once(site, loopback_allowed):
    with Receiver(statuses=[500, 503]) as flaky, Receiver() as steady:
        channel(site.owner, "webhook", flaky.url, secret="s")
        channel(site.owner, "teams", steady.url)
        alert = delivered(an_alert(site))

    assert len(flaky.requests) == 3
    assert len(steady.requests) == 1
    assert alert.status == Alert.Status.SENT
    flaky_delivery = alert.deliveries.get(channel__kind="webhook")
    assert flaky_delivery.attempts == 3


def test_a_receiver_that_keeps_failing_ends_failed_with_its_answer(site, loopback_allowed):
    loopback_allowed.SCANNER_NOTIFY_MAX_RETRIES = 2
    with Receiver(statuses=[502] * 10) as broken:
        channel(site.owner, "webhook", broken.url, secret="s")
        deliver_alert.max_retries = 2
        try:
            alert = delivered(an_alert(site))
        finally:
            deliver_alert.max_retries = 5
    delivery = alert.deliveries.get()
    assert alert.status == Alert.Status.FAILED
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 3)
    assert "HTTP 502" in delivery.error


def test_a_webhook_to_an_address_outside_the_network_policy_is_refused_without_retrying(site, settings):
    settings.SCANNER_ALLOWED_NETWORKS = []
    with Receiver() as receiver:
        channel(site.owner, "webhook", receiver.url, secret="s")
        alert = delivered(an_alert(site))
    delivery = alert.deliveries.get()
    assert receiver.requests == []
    assert alert.status == Alert.Status.FAILED
    assert delivery.attempts == 1
    assert delivery.error.startswith("refused: ")


def test_slack_receives_the_documented_text_and_blocks_payload(site, loopback_allowed):
    with Receiver() as slack:
        channel(site.owner, "slack", slack.url)
        delivered(an_alert(site))
    body = json.loads(slack.requests[0][1])
    assert "shop.example" in body["text"] and "dropped to C" in body["text"]
    assert body["blocks"][0]["type"] == "header"
    assert slack.requests[0][0]["Content-Type"] == "application/json"


def test_teams_receives_an_adaptive_card_message(site, loopback_allowed):
    with Receiver() as teams:
        channel(site.owner, "teams", teams.url)
        delivered(an_alert(site))
    body = json.loads(teams.requests[0][1])
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert "dropped to C" in json.dumps(attachment["content"]["body"])


def test_an_unverified_email_address_receives_nothing_and_the_log_says_why(site):
    Channel.objects.create(owner=site.owner, kind="email", target="ops@example.com")
    alert = delivered(an_alert(site))
    assert mail.outbox == []
    assert alert.status == Alert.Status.FAILED
    assert "not verified" in alert.deliveries.get().error


def test_a_verified_email_channel_receives_the_alert(site):
    channel(site.owner, "email", "ops@example.com")
    alert = delivered(an_alert(site))
    [message] = mail.outbox
    assert message.to == ["ops@example.com"]
    assert "shop.example" in message.subject
    assert alert.status == Alert.Status.SENT


def test_a_portfolio_that_chose_channels_sends_its_sites_alerts_only_to_them(site, loopback_allowed):
    portfolio = Portfolio.objects.create(owner=site.owner, name="Client A")
    portfolio.sites.add(site)
    with Receiver() as chosen, Receiver() as other:
        picked = channel(site.owner, "slack", chosen.url)
        channel(site.owner, "teams", other.url)
        services.portfolio_set_channels(portfolio, notify_all=False, channels=[picked])
        alert = delivered(an_alert(site))
    assert len(chosen.requests) == 1
    assert other.requests == []
    assert alert.status == Alert.Status.SENT


def test_signup_with_an_email_sends_a_link_that_confirms_it(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("dashboard:signup"),
            {
                "username": "gina",
                "email": "gina@example.com",
                "password1": "a-long-pass-123",
                "password2": "a-long-pass-123",
            },
        )
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["gina@example.com"]
    link = next(line for line in message.body.splitlines() if "/verify-email/" in line)
    account = Channel.objects.get(owner__username="gina")
    assert account.is_account_email and account.verified_at is None

    client.logout()
    page = client.get(link[link.index("/verify-email/") :])
    assert page.status_code == 200
    account.refresh_from_db()
    assert account.verified_at is not None


def test_a_tampered_verification_link_confirms_nothing(client, alice):
    services.account_set_email(alice, "alice@example.com")
    response = client.get(reverse("dashboard:verify_email", args=["not-a-real-token"]))
    assert response.status_code == 400
    assert Channel.objects.get(owner=alice).verified_at is None


def test_the_settings_page_changes_the_account_email_and_asks_to_confirm_it_again(
    client, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dashboard:settings"), {"email": "first@example.com"})
    first = Channel.objects.get(owner=alice, is_account_email=True)
    services.verify_email(services.verification_token(first))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dashboard:settings"), {"email": "second@example.com"})

    account = Channel.objects.get(owner=alice, is_account_email=True)
    alice.refresh_from_db()
    assert (alice.email, account.target, account.verified_at) == ("second@example.com", "second@example.com", None)
    assert [m.to for m in mail.outbox] == [["first@example.com"], ["second@example.com"]]


def test_send_test_reports_success_and_the_receivers_refusal(
    client, alice, loopback_allowed, django_capture_on_commit_callbacks
):
    loopback_allowed.CELERY_TASK_ALWAYS_EAGER = True  # the queued test runs at once, as a worker would
    client.force_login(alice)
    with Receiver(statuses=[200, 404]) as slack:
        slack_channel = channel(alice, "slack", slack.url)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("dashboard:test_channel", args=[slack_channel.pk]))
        ok = client.get(reverse("dashboard:channel_test_status")).json()["channels"][str(slack_channel.pk)]
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("dashboard:test_channel", args=[slack_channel.pk]))
        bad = client.get(reverse("dashboard:channel_test_status")).json()["channels"][str(slack_channel.pk)]
    assert ok["state"] == "sent"
    assert bad["state"] == "failed" and bad["error"].startswith("the receiver answered HTTP 404")
    assert "failed</span>: the receiver answered HTTP 404" in client.get(reverse("dashboard:channels")).content.decode()
    assert len(slack.requests) == 2


def test_another_users_channel_and_alert_are_not_found(client, bob, site):
    client.force_login(bob)
    alices_channel = channel(site.owner, "email", "a@example.com")
    alert = an_alert(site)
    assert client.post(reverse("dashboard:test_channel", args=[alices_channel.pk])).status_code == 404
    assert client.post(reverse("dashboard:delete_channel", args=[alices_channel.pk])).status_code == 404
    assert client.post(reverse("dashboard:acknowledge_alert", args=[alert.pk])).status_code == 404


def test_acknowledging_an_alert_keeps_it_but_hides_it_from_the_open_ones(client, site):
    client.force_login(site.owner)
    alert = an_alert(site)
    client.post(reverse("dashboard:acknowledge_alert", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    page = client.get(reverse("dashboard:alerts") + "?open_only=on").content.decode()
    assert "dropped to C" not in page
    assert "dropped to C" in client.get(reverse("dashboard:alerts")).content.decode()


def test_a_portfolio_rescan_of_a_refused_site_is_a_failed_scan_with_an_alert(site, settings):
    # Pinned to an address the policy refuses: no DNS query leaves the machine, and the scan cannot happen.
    settings.SCANNER_RESOLVE = ["gone.example:127.0.0.9"]
    settings.SCANNER_ALLOWED_NETWORKS = []
    unresolvable = Site.objects.create(owner=site.owner, hostname="gone.example")
    portfolio = Portfolio.objects.create(owner=site.owner, name="P")
    portfolio.sites.add(unresolvable)

    [(_, queued, _)] = services.submit_portfolio_scans(portfolio)
    services.execute_scan(queued.pk)  # the worker resolves the name, and the policy refuses it

    failed = Scan.objects.get(site=unresolvable)
    assert failed.status == Scan.Status.FAILED and "private" in failed.error and "127.0.0.9" not in failed.error
    alert = Alert.objects.get(site=unresolvable)
    assert alert.kind == Alert.Kind.SCAN_FAILED
    assert "gone.example" in alert.message


def test_a_webhook_name_rebinding_to_an_internal_address_is_never_connected_there(site, monkeypatch):
    from tests.test_outbound import CountingListener, RebindingPolicy

    # The name's first answer is approved (127.0.0.2 stands in for a public address), its second points at an
    # internal service (127.0.0.3, refused): the delivery goes to the first, and the second is never connected to.
    alert = an_alert(site)
    with Receiver(host="127.0.0.2") as receiver:
        port = receiver.server.server_port
        url = f"http://hooks.rebind.test:{port}/hook"
        with CountingListener("127.0.0.3", port) as internal:
            policy = RebindingPolicy(["127.0.0.2", "127.0.0.3", "127.0.0.3"], allowed=["127.0.0.2/32"])
            monkeypatch.setattr("scanner.config.network_policy", lambda: policy)
            channel(site.owner, "webhook", url, secret="s3cret")
            alert = delivered(alert)

    assert alert.status == Alert.Status.SENT
    assert len(receiver.requests) == 1
    assert internal.accepted == 0


def test_a_receivers_reply_is_read_only_up_to_its_cap(site, loopback_allowed):
    from tests.lab.servers import HostileHttpServer

    with HostileHttpServer("endless") as receiver:
        channel(site.owner, "webhook", receiver.url, secret="s3cret")
        alert = delivered(an_alert(site))

    assert alert.status == Alert.Status.SENT
    assert receiver.bytes_sent < 16 * 1024 * 1024  # an endless reply: the client stopped at its cap


def test_the_channels_page_masks_slack_and_teams_webhook_urls(client, alice):
    slack_url = "https://hooks.slack.com/services/T0001/B0001/XyZsecretTokenAbCd"
    teams_url = "https://contoso.webhook.office.com/webhookb2/secret-guid@tenant/IncomingWebhook/abc/def9876"
    channel(alice, "slack", slack_url)
    channel(alice, "teams", teams_url)
    client.force_login(alice)
    html = client.get(reverse("dashboard:channels")).content.decode()
    assert slack_url not in html and "XyZsecretToken" not in html
    assert teams_url not in html and "secret-guid" not in html
    assert "https://hooks.slack.com/…AbCd" in html
    assert "https://contoso.webhook.office.com/…9876" in html
