"""A worker node's liveness survives broker reconnects and restarts under the same name.

- After a Redis restart an idle worker's heartbeat comes back by itself (celery 5.6.3 clears the event loop's
  timer on a lost connection, which stopped a timer-driven heartbeat for good).
- A node killed and restarted under the same name (keep-running, a service manager) is a new incarnation: the
  scans waiting in the dead incarnation's prefetch are sent again at once, not after the visibility timeout
  or the 300 s queued-resend delay.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from scanner.models import Scan

from .conftest import QUICK_SITES, finished, make_site, queue_scan, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def test_after_a_redis_restart_an_idle_workers_heartbeat_comes_back_without_restarting_it(
    processes, private_redis, client, settings
):
    processes.env.update(SCANNER_WORKER_HEARTBEAT_INTERVAL="1", SCANNER_WORKER_HEARTBEAT_MAX_AGE="3")
    settings.CELERY_BROKER_URL = private_redis.url  # /healthz reads the private Redis
    settings.SCANNER_WORKER_HEARTBEAT_MAX_AGE = 3
    worker = processes.worker()
    wait_for(lambda: client.get("/healthz").status_code == 200, 30, "/healthz to be ok before the restart")

    private_redis.restart(down_for=2)
    back = time.monotonic()
    time.sleep(4)  # past the max age: only a beat made after the restart can make /healthz ok now
    wait_for(lambda: client.get("/healthz").status_code == 200, 60, "/healthz to be ok after the Redis restart")
    print(f"\nidle worker, Redis restarted: /healthz ok {time.monotonic() - back:.1f} s after Redis came back")
    assert worker.poll() is None


def test_a_node_restarted_under_the_same_name_has_its_dead_prefetch_sent_again_at_once(processes, broker, owner, lab):
    # Production's resend delay and heartbeat max age, and a visibility timeout well past the limit below:
    # only the restart itself can tell that the old incarnation's prefetched messages are lost.
    processes.env.update(
        SCANNER_QUEUED_RESEND_AFTER="300",
        SCANNER_VISIBILITY_TIMEOUT="120",
        SCANNER_WORKER_HEARTBEAT_INTERVAL="1",
        SCANNER_HTTP_DEADLINE="5",
    )
    processes.beat()
    name = f"faults-{uuid.uuid4().hex[:8]}@%h"
    # One pool process and room for 40 messages: while it runs the slow scan, 12 wait in the node's prefetch
    # (beside the maintenance tasks beat sends every second, which take room in the prefetch too).
    node = processes.worker(concurrency=1, name=name, CELERY_WORKER_PREFETCH_MULTIPLIER="40")
    slow = lab.case("driphttps")
    busy = queue_scan(broker, make_site(owner, slow.hostname, slow.https_port, slow.http_port), slow.ip)
    wait_for(lambda: Scan.objects.filter(pk=busy.pk, status=Scan.Status.RUNNING).exists(), 30, "the slow scan to run")
    waiting = [
        queue_scan(broker, make_site(owner, c.hostname, c.https_port, c.http_port), c.ip).pk
        for c in (lab.case(site) for site in QUICK_SITES[:12])
    ]
    wait_for(
        lambda: (
            Scan.objects.filter(pk__in=waiting, status=Scan.Status.QUEUED).exclude(reserved_by="").count()
            == len(waiting)
        ),
        20,
        "the node to take the 12 messages",
    )

    os.killpg(node.pid, signal.SIGKILL)
    killed_at = time.time()
    node.wait(10)
    processes.worker(concurrency=2, name=name)  # the same node name, as keep-running restarts it

    ids = [busy.pk, *waiting]
    wait_for(lambda: finished(ids), 60, "every scan to end")
    took = max(Scan.objects.filter(pk__in=waiting).values_list("finished_at", flat=True)).timestamp() - killed_at
    print(f"\nnode restarted under its name with {len(waiting)} prefetched scans: all done {took:.1f} s after the kill")
    assert set(Scan.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Scan.Status.DONE}
