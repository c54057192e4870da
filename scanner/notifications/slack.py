"""Slack incoming webhooks: a JSON body with `text` (the fallback shown in notifications) and Block Kit
`blocks` for the message itself, as Slack documents for incoming webhooks."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .base import Message, post_json

if TYPE_CHECKING:
    from scanner.models import Channel


def _escape(text: str) -> str:
    # Slack's mrkdwn treats these three characters as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(message: Message) -> dict:
    summary = f"{message.title}: {message.text}" + (f"\n{message.context}" if message.context else "")
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _escape(message.text)[:3000]}},
    ]
    if message.context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _escape(message.context)}]})
    if message.url:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"<{message.url}|Open the report>"}})
    return {"text": _escape(summary)[:3000], "blocks": blocks}


def send(channel: Channel, message: Message) -> None:
    post_json(channel.target, json.dumps(payload(message)).encode())
