"""End to end over real SMTP: an alert e-mail leaves through Django's SMTP backend and arrives at a local
aiosmtpd server, the way it would at a mail relay."""

from __future__ import annotations

import socket

import pytest
from django.utils import timezone

from scanner.models import Alert, Channel, Site
from scanner.tasks import deliver_alert


class Inbox:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    # The controller checks its own port by connecting to it, so it needs a real number, not 0.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_TIMEOUT = 5
        yield inbox
    finally:
        controller.stop()


@pytest.mark.django_db
def test_an_alert_email_arrives_at_a_real_smtp_server(alice, smtp_server):
    site = Site.objects.create(owner=alice, hostname="shop.example")
    Channel.objects.create(owner=alice, kind="email", target="ops@example.com", verified_at=timezone.now())
    alert = Alert.objects.create(site=site, kind=Alert.Kind.CERT_EXPIRING, state_key="k", message="expires in 5 days")

    deliver_alert.apply(args=[alert.pk])

    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["ops@example.com"]
    text = envelope.content.decode()
    assert "Certificate expiring: shop.example" in text
    assert "expires in 5 days" in text
    alert.refresh_from_db()
    assert alert.status == Alert.Status.SENT


@pytest.mark.django_db
def test_a_mail_server_that_is_down_leaves_the_alert_failed_with_the_reason(alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens on 9
    site = Site.objects.create(owner=alice, hostname="shop.example")
    Channel.objects.create(owner=alice, kind="email", target="ops@example.com", verified_at=timezone.now())
    alert = Alert.objects.create(site=site, kind=Alert.Kind.CERT_EXPIRING, state_key="k", message="m")

    deliver_alert.max_retries = 1
    try:
        deliver_alert.apply(args=[alert.pk])
    finally:
        deliver_alert.max_retries = settings.SCANNER_NOTIFY_MAX_RETRIES
    alert.refresh_from_db()
    delivery = alert.deliveries.get()
    assert alert.status == Alert.Status.FAILED
    assert delivery.attempts == 2
    assert "mail server" in delivery.error
