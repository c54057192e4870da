"""Delivering alerts to the channels that should hear about them, and the log of each delivery.

One Delivery row per (alert, channel) records what happened: sent, retrying, or failed with the reason.
The alert's status is computed from those rows only, so it never says more than the deliveries did:
no channel means "no channel configured", a muted site means "muted", one failure among successes
means "partly failed".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from scanner import config
from scanner.models import Alert, Channel, Delivery, Site

from . import email, slack, teams, webhook
from .base import DeliveryError, Message

logger = logging.getLogger(__name__)

SENDERS = {
    Channel.Kind.EMAIL: email.send,
    Channel.Kind.WEBHOOK: webhook.send,
    Channel.Kind.SLACK: slack.send,
    Channel.Kind.TEAMS: teams.send,
}

__all__ = ["DeliveryError", "Message", "alert_message", "channels_for_site", "deliver", "send_test"]


def site_url(site_id: int) -> str:
    base = config.public_url()
    return f"{base}{reverse('dashboard:site', args=[site_id])}" if base else ""


def alert_message(alert: Alert) -> Message:
    site = alert.site
    return Message(
        title=f"{alert.get_kind_display()}: {site}",
        text=alert.message,
        kind=alert.kind,
        url=site_url(alert.site_id),
        site_host=str(site),
        site_id=alert.site_id,
        alert_id=alert.pk,
        scan_id=alert.scan_id,
        created_at=alert.created_at.isoformat(),
        site_port=site.https_port,
        portfolios=tuple(site.portfolios.order_by("name").values_list("name", flat=True)),
        tags=tuple(site.tags.values_list("name", flat=True)),
        details=alert.details or {},
    )


def channels_for_site(site: Site) -> list[Channel]:
    """The owner's channels, narrowed by the site's portfolios: a portfolio that chose channels sends to those;
    a site in no portfolio, or in one that sends to every channel, reaches every channel."""
    owned = Channel.objects.filter(owner_id=site.owner_id)
    portfolios = list(site.portfolios.all())
    if not portfolios or any(portfolio.notify_all_channels for portfolio in portfolios):
        return list(owned)
    return list(owned.filter(portfolios__in=portfolios).distinct())


@dataclass
class Outcome:
    status: str
    retry: bool  # some delivery failed in a way worth trying again


def deliver(alert_id: int, *, final_attempt: bool) -> Outcome | None:
    """Send the alert to each of its channels that has not had it yet. With final_attempt, a retryable
    failure is recorded as failed instead of retrying."""
    alert = Alert.objects.select_related("site").filter(pk=alert_id).first()
    if alert is None:
        return None
    _plan(alert)
    retry = False
    for delivery in alert.deliveries.filter(status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING]):
        retry |= _attempt(delivery, alert, final_attempt=final_attempt)
    status = refresh_alert_status(alert)
    return Outcome(status=status, retry=retry)


def _plan(alert: Alert) -> None:
    """Decide once which channels this alert goes to (a muted site: none)."""
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.deliveries.exists() or locked.status != Alert.Status.PENDING:
            return
        if alert.site.alerts_muted:
            _set_status(locked, Alert.Status.MUTED)
            return
        channels = channels_for_site(alert.site)
        if not channels:
            _set_status(locked, Alert.Status.NO_CHANNEL)
            return
        Delivery.objects.bulk_create(
            Delivery(alert=locked, channel=channel, channel_label=str(channel)[:200]) for channel in channels
        )


def _attempt(delivery: Delivery, alert: Alert, *, final_attempt: bool) -> bool:
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    channel = delivery.channel
    try:
        if channel is None:
            raise DeliveryError("the channel was deleted before the alert could be sent", retryable=False)
        SENDERS[channel.kind](channel, alert_message(alert))
    except DeliveryError as exc:
        delivery.error = exc.reason[:2000]
        retrying = exc.retryable and not final_attempt
        delivery.status = Delivery.Status.RETRYING if retrying else Delivery.Status.FAILED
        delivery.save(update_fields=["attempts", "last_attempt_at", "error", "status"])
        return retrying
    except Exception as exc:
        logger.exception("delivery %s crashed", delivery.pk)
        delivery.error = f"internal error: {type(exc).__name__}: {exc}"[:2000]
        delivery.status = Delivery.Status.FAILED
        delivery.save(update_fields=["attempts", "last_attempt_at", "error", "status"])
        return False
    delivery.status = Delivery.Status.SENT
    delivery.sent_at = timezone.now()
    delivery.error = ""
    delivery.save(update_fields=["attempts", "last_attempt_at", "error", "status", "sent_at"])
    return False


def refresh_alert_status(alert: Alert) -> str:
    """The alert's status from its deliveries; alerts without deliveries keep their muted/no-channel state."""
    statuses = set(alert.deliveries.values_list("status", flat=True))
    if not statuses:
        return alert.status
    if statuses & {Delivery.Status.PENDING, Delivery.Status.RETRYING}:
        status = Alert.Status.PENDING
    elif statuses == {Delivery.Status.SENT}:
        status = Alert.Status.SENT
    elif statuses == {Delivery.Status.FAILED}:
        status = Alert.Status.FAILED
    else:
        status = Alert.Status.PARTLY_FAILED
    _set_status(alert, status)
    return status


def _set_status(alert: Alert, status: str) -> None:
    alert.status = status
    Alert.objects.filter(pk=alert.pk).update(status=status)


def send_test(channel: Channel) -> str:
    """Send a test message now and remember the outcome on the channel. Returns "" or the reason it failed."""
    message = Message(
        title="Test notification",
        text=f"This is a test from the HTTPS scanner: alerts for your sites will arrive here ({channel}).",
        kind="test",
        url=config.public_url(),
    )
    try:
        if channel.kind == Channel.Kind.EMAIL and channel.verified_at is None:
            raise DeliveryError("verify the address first: follow the link sent to it", retryable=False)
        SENDERS[channel.kind](channel, message)
        error = ""
    except DeliveryError as exc:
        error = exc.reason
    Channel.objects.filter(pk=channel.pk).update(last_test_at=timezone.now(), last_test_error=error[:2000])
    return error
