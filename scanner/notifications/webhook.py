"""Generic webhooks: the alert as JSON, signed with the channel's secret (X-Scanner-Signature: sha256=<hmac>)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING

from scanner.alert_reasons import DETAILS_VERSION

from .base import Message, post_json

if TYPE_CHECKING:
    from scanner.models import Channel

SIGNATURE_HEADER = "X-Scanner-Signature"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(message: Message) -> dict:
    """Version 2 (documented in docs/alerts.md) adds to version 1's fields the reason (grade, findings,
    certificate, error) and the site's port, portfolios and tags; no field of version 1 changed."""
    details = message.details or {}
    return {
        "version": DETAILS_VERSION,
        "alert_id": message.alert_id,
        "kind": message.kind,
        "title": message.title,
        "message": message.text,
        "created_at": message.created_at,
        "site": {
            "id": message.site_id,
            "host": message.site_host,
            "port": message.site_port,
            "portfolios": list(message.portfolios),
            "tags": list(message.tags),
        },
        "scan_id": message.scan_id,
        "url": message.url,
        "grade": details.get("grade"),
        "findings_new": details.get("findings_new", []),
        "findings_fixed": details.get("findings_fixed", []),
        "certificate": details.get("certificate"),
        "error": (details.get("scan") or {}).get("error"),
        "first_scan": details.get("first_scan"),
    }


def send(channel: Channel, message: Message) -> None:
    body = json.dumps(payload(message), sort_keys=True).encode()
    post_json(channel.target, body, headers={SIGNATURE_HEADER: sign(body, channel.secret)})
