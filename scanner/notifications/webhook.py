"""Generic webhooks: the alert as JSON, signed with the channel's secret (X-Scanner-Signature: sha256=<hmac>)."""

from __future__ import annotations

import hashlib
import hmac
import json

from .base import Message, post_json

SIGNATURE_HEADER = "X-Scanner-Signature"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(message: Message) -> dict:
    return {
        "alert_id": message.alert_id,
        "kind": message.kind,
        "title": message.title,
        "message": message.text,
        "created_at": message.created_at,
        "site": {"id": message.site_id, "host": message.site_host},
        "scan_id": message.scan_id,
        "url": message.url,
    }


def send(channel, message: Message) -> None:
    body = json.dumps(payload(message), sort_keys=True).encode()
    post_json(channel.target, body, headers={SIGNATURE_HEADER: sign(body, channel.secret)})
