"""'Send test' of a channel never delivers inside the web request: it is queued to the alerts queue, the
worker records the outcome on the channel, and the channels page polls for it."""

from __future__ import annotations

import socket
import time

import pytest
from django.urls import reverse

from scanner import services, tasks
from scanner.models import Channel
from tests.receivers import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def loopback_allowed(settings):
    settings.SCANNER_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.SCANNER_NOTIFY_TIMEOUT = 5
    return settings


@pytest.fixture
def tarpit():
    """A receiver that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    server.close()


def slack(owner, url: str) -> Channel:
    return services.channel_create(owner=owner, kind="slack", target=url, name="#ops")


def test_send_test_to_a_tarpit_answers_at_once_and_shows_the_test_pending(
    client, alice, loopback_allowed, tarpit, django_capture_on_commit_callbacks
):
    channel = slack(alice, tarpit)
    client.force_login(alice)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):  # the message goes to the real broker (Redis)
        response = client.post(reverse("dashboard:test_channel", args=[channel.pk]), follow=True)
    assert time.monotonic() - started < 2  # the old in-request delivery waited the 5 s notify timeout
    assert "Test queued" in response.content.decode()
    assert "sending…" in response.content.decode()
    assert "channel-test.js" in response.content.decode()  # the page polls until the result lands
    status = client.get(reverse("dashboard:channel_test_status")).json()
    assert status["pending"] == 1 and status["channels"][str(channel.pk)]["state"] == "pending"


def test_the_worker_records_the_test_outcome_the_page_polls_for(client, alice, loopback_allowed):
    with Receiver(statuses=[200]) as receiver:
        channel = slack(alice, receiver.url)
        services.channel_test_request(channel)
        tasks.send_channel_test(channel.pk)  # what the worker runs from the alerts queue
    client.force_login(alice)
    row = client.get(reverse("dashboard:channel_test_status")).json()["channels"][str(channel.pk)]
    assert row["state"] == "sent" and row["at"]
    assert len(receiver.requests) == 1


def test_repeated_clicks_queue_one_test(alice, loopback_allowed, tarpit):
    channel = slack(alice, tarpit)
    assert services.channel_test_request(channel) is True
    assert services.channel_test_request(channel) is False


def test_the_test_task_goes_to_the_alerts_queue(settings):
    assert settings.CELERY_TASK_ROUTES[tasks.send_channel_test.name]["queue"] == settings.SCANNER_ALERT_QUEUE


def test_another_users_test_status_is_not_shown(client, alice, bob, loopback_allowed, tarpit):
    slack(alice, tarpit)
    client.force_login(bob)
    assert client.get(reverse("dashboard:channel_test_status")).json()["channels"] == {}
