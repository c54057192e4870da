"""Alert channels (e-mail, Slack, Teams, webhooks), the account's e-mail address and its verification, and
acknowledging alerts."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from scanner import config
from scanner.models import Alert, Channel, LimitEvent
from scanner.netpolicy import TargetRefused
from scanner.services.errors import ScanRequestError
from scanner.services.limits import limit_check, limit_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


def alert_acknowledge(alert: Alert) -> Alert:
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["acknowledged_at"])
    return alert


def channel_create(
    *,
    owner: User,
    kind: str,
    target: str,
    name: str = "",
    secret: str = "",
    requested_from: str = "",
    weekly_digest: bool = False,
) -> Channel:
    """Add a channel. E-mail addresses start unverified and are sent a verification link (within the
    confirmation-mail limits, per client address `requested_from` and per recipient); URLs are checked
    against the network policy now (and again at each delivery, since a name can be re-pointed)."""
    if kind not in Channel.Kind.values:
        raise ScanRequestError(f"Unknown channel kind '{kind}'.", field="kind")
    if weekly_digest and kind != Channel.Kind.EMAIL:
        raise ScanRequestError("The weekly digest is sent by e-mail only.", field="weekly_digest")
    target = target.strip()
    if kind == Channel.Kind.EMAIL:
        target = _normalised_email(target, field="target")
    else:
        _check_channel_url(target, kind)
    if kind == Channel.Kind.WEBHOOK and not secret:
        raise ScanRequestError("A webhook needs a signing secret.", field="secret")
    if Channel.objects.filter(owner=owner, kind=kind, target=target).exists():
        raise ScanRequestError("You already have this channel.", field="target", code="duplicate")
    if kind == Channel.Kind.EMAIL:
        confirmation_mail_check(target, requested_from=requested_from, field="target")
        confirmation_mail_counted(target, requested_from=requested_from)
    verified = None if kind == Channel.Kind.EMAIL else timezone.now()
    channel = Channel.objects.create(
        owner=owner,
        kind=kind,
        target=target,
        name=name.strip(),
        secret=secret,
        verified_at=verified,
        weekly_digest=weekly_digest,
    )
    if kind == Channel.Kind.EMAIL:
        transaction.on_commit(lambda: send_verification(channel))
    return channel


def channel_set_weekly_digest(channel: Channel, enabled: bool) -> Channel:
    """Opt an e-mail channel in or out of the weekly portfolio digest (scanner.digest)."""
    if enabled and channel.kind != Channel.Kind.EMAIL:
        raise ScanRequestError("The weekly digest is sent by e-mail only.", field="weekly_digest")
    channel.weekly_digest = enabled
    channel.save(update_fields=["weekly_digest"])
    return channel


def channel_delete(channel: Channel) -> None:
    channel.delete()


TEST_RESEND_AFTER = 60  # seconds a queued test must wait before "Send test" queues another


def channel_test_request(channel: Channel) -> bool:
    """Queue a test message to the channel on the alerts queue; the worker records its outcome on the channel
    (last_test_at, last_test_error), which the channels page polls. Delivery never runs inside a web request:
    a tarpit receiver would hold a web thread for the whole timeout. Returns False when a test is already on
    its way (asked for under a minute ago), so repeated clicks queue one test, not one each."""
    from scanner.queueing import SEND_CHANNEL_TEST, send_task

    now = timezone.now()
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=channel.pk)
        if channel.test_pending and (now - channel.test_requested_at).total_seconds() < TEST_RESEND_AFTER:
            return False
        channel.test_requested_at = now
        channel.save(update_fields=["test_requested_at"])

    def queue() -> None:
        try:
            send_task(SEND_CHANNEL_TEST, args=[channel.pk], queue=config.alert_queue_name())
        except Exception as exc:  # noqa: BLE001 - broker down: say so on the channel rather than wait forever
            logger.warning("could not queue a test to channel %s: %s", channel.pk, exc)
            Channel.objects.filter(pk=channel.pk).update(
                last_test_at=timezone.now(), last_test_error="the test could not be queued; try again later"
            )

    transaction.on_commit(queue)
    return True


def verification_resend(channel: Channel, *, requested_from: str = "") -> None:
    """Send an unverified e-mail channel its link again, within the confirmation-mail limits."""
    if channel.kind != Channel.Kind.EMAIL or channel.verified_at is not None:
        return
    confirmation_mail_check(channel.target, requested_from=requested_from, field="target")
    confirmation_mail_counted(channel.target, requested_from=requested_from)
    send_verification(channel)


def confirmation_mail_check(recipient: str, *, requested_from: str, field: str) -> None:
    """Confirmation mails are the one kind of mail anyone can make the service send to any address: at most
    SCANNER_CONFIRMATION_MAILS_PER_RECIPIENT to one recipient (so the service cannot be used to flood a third
    party's inbox) and SCANNER_CONFIRMATION_MAILS_PER_ADDRESS asked for from one client address."""
    limit_check(
        LimitEvent.Kind.MAIL_RECIPIENT,
        recipient.lower(),
        rate=config.confirmation_mails_per_recipient(),
        message=f"Too many confirmation mails to {recipient} lately.",
        code="mail_limit",
        field=field,
    )
    if requested_from:
        limit_check(
            LimitEvent.Kind.MAIL_ADDRESS,
            requested_from,
            rate=config.confirmation_mails_per_address(),
            message="Too many confirmation mails asked for from your address.",
            code="mail_limit",
            field=field,
        )


def confirmation_mail_counted(recipient: str, *, requested_from: str) -> None:
    limit_record(LimitEvent.Kind.MAIL_RECIPIENT, recipient.lower())
    if requested_from:
        limit_record(LimitEvent.Kind.MAIL_ADDRESS, requested_from)


def _normalised_email(address: str, *, field: str) -> str:
    from django.core.validators import validate_email

    address = address.strip()
    try:
        validate_email(address)
    except Exception:  # noqa: BLE001 - ValidationError; the message below is the one shown
        raise ScanRequestError(f"'{address}' is not an e-mail address.", field=field) from None
    local, _, domain = address.rpartition("@")
    # Django accepts address literals (a@[10.0.0.1]) and dotless names (root@localhost); the first would have the
    # SMTP relay deliver to an address the user picked, the second to a machine on the operator's own network.
    if domain.startswith("[") or "." not in domain.strip(".") or _is_ip(domain):
        raise ScanRequestError(
            f"'{address}' is not an address on the Internet: use a domain name with a dot (name@example.com).",
            field=field,
        )
    return f"{local}@{domain.lower()}"


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _check_channel_url(url: str, kind: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ScanRequestError("Enter an http:// or https:// URL.", field="target")
    try:
        config.network_policy().resolve(parts.hostname)
    except (TargetRefused, ValueError) as exc:
        raise ScanRequestError(f"This URL cannot receive alerts: {exc}", field="target") from None


def account_set_email(user: User, address: str, *, requested_from: str = "") -> Channel | None:
    """Set the account's e-mail address ('' removes it). The account's e-mail channel follows it and is sent a
    new verification link (within the confirmation-mail limits); nothing else is sent to the address until the
    link is followed."""
    address = _normalised_email(address, field="email") if address.strip() else ""
    with transaction.atomic():
        current = Channel.objects.filter(owner=user, is_account_email=True).first()
        if address == user.email and (current is not None or not address):
            return current
        if address:
            confirmation_mail_check(address, requested_from=requested_from, field="email")
            confirmation_mail_counted(address, requested_from=requested_from)
        user.email = address
        user.save(update_fields=["email"])
        if not address:
            if current is not None:
                current.delete()
            return None
        if current is None:
            current = Channel(owner=user, kind=Channel.Kind.EMAIL, is_account_email=True)
        current.target = address
        current.verified_at = None
        current.save()
        # The same address may also exist as a separate channel: keep one.
        Channel.objects.filter(owner=user, kind=Channel.Kind.EMAIL, target=address).exclude(pk=current.pk).delete()
    transaction.on_commit(lambda: send_verification(current))
    return current


VERIFY_SALT = "scanner.channel-email-verify"


def verification_token(channel: Channel) -> str:
    from django.core import signing

    return signing.dumps({"c": channel.pk, "a": channel.target}, salt=VERIFY_SALT)


def send_verification(channel: Channel) -> None:
    from django.core.mail import send_mail
    from django.urls import reverse

    link = config.public_url() + reverse("dashboard:verify_email", args=[verification_token(channel)])
    try:
        send_mail(
            "[scanner] Confirm your e-mail address",
            f"Follow this link to receive HTTPS scanner alerts at {channel.target}:\n\n{link}\n\n"
            "If you did not ask for this, ignore this message: nothing will be sent to you.",
            None,
            [channel.target],
        )
    except Exception:
        logger.exception("could not send the verification e-mail for channel %s", channel.pk)


def verify_email(token: str) -> Channel:
    """Mark the channel named by a verification link as verified. The link must be recent and for the
    address the channel still has."""
    from django.core import signing

    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=config.email_verify_max_age())
    except signing.SignatureExpired:
        raise ScanRequestError("This link has expired: ask for a new one on the channels page.", field="token")
    except signing.BadSignature:
        raise ScanRequestError("This link is not valid.", field="token") from None
    channel = Channel.objects.filter(pk=data.get("c"), target=data.get("a"), kind=Channel.Kind.EMAIL).first()
    if channel is None:
        raise ScanRequestError("This link is for an address that is no longer in use.", field="token")
    if channel.verified_at is None:
        channel.verified_at = timezone.now()
        channel.save(update_fields=["verified_at"])
    return channel
