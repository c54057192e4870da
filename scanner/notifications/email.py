"""E-mail channels: a plain-text message through Django's configured e-mail backend."""

from __future__ import annotations

import smtplib
from typing import TYPE_CHECKING

from django.core.mail import send_mail

from .base import DeliveryError, Message

if TYPE_CHECKING:
    from scanner.models import Channel


def send(channel: Channel, message: Message) -> None:
    if channel.verified_at is None:
        raise DeliveryError(
            f"{channel.target} is not verified yet: its owner has not followed the link sent to it.", retryable=False
        )
    body = "\n\n".join(part for part in (message.text, message.context, message.url) if part) + "\n"
    try:
        send_mail(f"[scanner] {message.title}", body, None, [channel.target])
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"the mail server refused {channel.target}: {exc.recipients}", retryable=False) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(
            f"the mail server could not be reached or refused the message: {exc}", retryable=True
        ) from None
