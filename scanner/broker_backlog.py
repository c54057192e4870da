"""What still waits in the broker, read from Redis: the reaper must not send a second copy of a scan whose message
is only waiting for a worker, however long the queue.

Celery's Redis transport (kombu) keeps a queue as one Redis list: a message is pushed on the left (LPUSH) and a
worker takes the oldest from the right (BRPOP), so the list is first in, first out, and nothing leaves it from the
middle. Whatever was sent after the oldest message still waiting is therefore waiting too; a message sent before
it has left the list: a worker took it, or the broker lost it (a Redis restart without persistence empties the list).
A message kombu restores from a consumer that went away (RPUSH, back at the taking end) is an old one at the
tail: until a worker takes it, which is next, a lost scan sent after it waits for its resend a little longer;
none is skipped for good. (kombu 5.x `Channel._put`, `_brpop_start`, `_do_restore_message`.)

Documented at https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.redis.html (the transport)
and https://redis.io/docs/latest/develop/data-types/lists/ (LPUSH/BRPOP as a queue).
"""

from __future__ import annotations

import base64
import json

import redis

from scanner.queueing import RUN_SCAN

# How many of the oldest messages are read to find run_scan ones: other tasks share the queues (a portfolio's
# rescan task, a bulk operation), and each message is about 1 KiB.
PEEK = 20


def oldest_waiting_scan_ids(client: redis.Redis, queue: str, *, peek: int = PEEK) -> list[int] | None:
    """The scan ids of the run_scan messages among the `peek` oldest waiting in `queue`, oldest first: [] when
    the queue is empty, None when messages wait but none of those read is a scan's (nothing can be said)."""
    oldest_last = client.lrange(queue, -peek, -1)
    if not oldest_last:
        return []
    ids = [scan_id for raw in reversed(oldest_last) if (scan_id := run_scan_id(raw)) is not None]
    return ids or None


def run_scan_id(raw: bytes) -> int | None:
    """The scan id a run_scan message carries (Celery's message protocol 2: the body is `[args, kwargs, embed]`,
    base64 in kombu's Redis envelope); None for any other message or one that cannot be read."""
    try:
        envelope = json.loads(raw)
        if envelope.get("headers", {}).get("task") != RUN_SCAN:
            return None
        body = envelope["body"]
        if envelope.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return int(args[0])
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
