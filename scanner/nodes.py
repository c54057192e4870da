"""Worker nodes' liveness, as the broker holds it: every node stamps its incarnation and the time from a thread
of its own (webui.celery.HeartbeatStep), busy or idle. /healthz and the metrics read it, and so does the
reaper, to tell a scan whose message waits in a live node's prefetch from one whose node died with the message.

An *incarnation* is one start of a node: its name plus a random id (`scans@host#1f2e3d4c`). A node restarted
under the same name (keep-running, a service manager, `--hostname=scans@%h`) is a new incarnation, and its
start declares the old one dead at once, so the scans waiting in the dead one's prefetch are sent again
without waiting for its heartbeat to age.
"""

from __future__ import annotations

import secrets
import time

import redis

from scanner import config

HEARTBEAT_KEY = "scanner:worker-heartbeats"  # sorted set: node incarnation -> unix time of its last beat
INCARNATION_MARK = "#"
# A superseded incarnation's beat is moved this far into the past: stale for any heartbeat max age, still
# known (not forgotten for a day), so the reaper calls it gone.
SUPERSEDED_AGE = 3600

# Node name -> its incarnation started in this process (a worker node's main process; an embedded test worker)
_incarnations: dict[str, str] = {}


def start_incarnation(node: str, client: redis.Redis | None = None) -> str:
    """A worker node starts: a new incarnation id for this process, and every earlier incarnation of the same
    node name (a restart after a crash or kill) is declared dead."""
    incarnation = f"{node}{INCARNATION_MARK}{secrets.token_hex(4)}"
    _incarnations[node] = incarnation
    client = client or broker_client()
    try:
        earlier = [
            member.decode()
            for member in client.zrange(HEARTBEAT_KEY, 0, -1)
            if member.decode() == node or member.decode().startswith(node + INCARNATION_MARK)
        ]
        if earlier:
            client.zadd(HEARTBEAT_KEY, {name: time.time() - SUPERSEDED_AGE for name in earlier})
        record_worker_heartbeat(incarnation, client)
    finally:
        client.close()
    return incarnation


def incarnation_of(node: str) -> str:
    """The incarnation this process started for `node` (its name alone when it started none: a heartbeat of
    that name, from before incarnations, still tells whether it lives)."""
    return _incarnations.get(node, node)


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
    return {node.decode(): now - beat for node, beat in client.zrange(HEARTBEAT_KEY, 0, -1, withscores=True)}


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
