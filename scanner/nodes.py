"""Worker nodes' liveness, as the broker holds it: every node stamps its name and the time on a timer
(webui.celery.HeartbeatStep), busy or idle. /healthz and the metrics read it, and so does the reaper, to tell
a scan whose message waits in a live node's prefetch from one whose node died with the message."""

from __future__ import annotations

import time

import redis

from scanner import config

HEARTBEAT_KEY = "scanner:worker-heartbeats"  # sorted set: node name -> unix time of its last beat


def broker_client() -> redis.Redis:
    return redis.Redis.from_url(config.broker_url(), socket_timeout=1, socket_connect_timeout=1)


def record_worker_heartbeat(node: str, client: redis.Redis | None = None) -> None:
    """Called by every worker node on a timer, busy or idle."""
    client = client or broker_client()
    client.zadd(HEARTBEAT_KEY, {node: time.time()})
    # Nodes gone for a day are forgotten, so the set stays the size of the fleet.
    client.zremrangebyscore(HEARTBEAT_KEY, "-inf", time.time() - 86400)


def worker_heartbeats(client: redis.Redis) -> dict[str, float]:
    """Seconds since each known node's last heartbeat."""
    now = time.time()
    return {
        node.decode(): now - beat for node, beat in client.zrange(HEARTBEAT_KEY, 0, -1, withscores=True)
    }


def gone_nodes(names: set[str]) -> set[str]:
    """Of `names`, the nodes whose heartbeat stopped (none younger than SCANNER_WORKER_HEARTBEAT_MAX_AGE).
    A node the broker never heard of is not called gone (it may predate heartbeats); a broker that cannot be
    read says nothing is."""
    if not names:
        return set()
    client = broker_client()
    try:
        ages = worker_heartbeats(client)
    except (redis.RedisError, OSError):
        return set()
    finally:
        client.close()
    return {name for name in names if name in ages and ages[name] > config.worker_heartbeat_max_age()}
