"""Microsoft Teams incoming webhooks (and Teams workflows' "post to a channel when a webhook request is
received"): a message whose one attachment is an Adaptive Card, the format Teams documents for both."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .base import Message, post_json

if TYPE_CHECKING:
    from scanner.models import Channel

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def payload(message: Message) -> dict:
    card: dict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": message.title, "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "TextBlock", "text": message.text, "wrap": True},
        ],
    }
    if message.site_host:
        facts = [{"title": "Site", "value": message.site_host}]
        facts.append({"title": "Portfolio", "value": ", ".join(message.portfolios) or "none"})
        if message.tags:
            facts.append({"title": "Tags", "value": ", ".join(message.tags)})
        card["body"].append({"type": "FactSet", "facts": facts})
    if message.url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the report", "url": message.url}]
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}]}


def send(channel: Channel, message: Message) -> None:
    post_json(channel.target, json.dumps(payload(message)).encode())
