"""A Redis restart with scans queued and in flight: nothing is lost and the worker survives.

With AOF (how bin/run starts Redis) the queue and the unacked messages come back with Redis. Without
persistence the messages are gone, and the reaper sends the queued scans again. Either way every scan ends
done, and the worker process that lived through the restart is the one that finishes them.
(celery 5.7.0 died here: see docs/reliability.md.)
"""

from __future__ import annotations

import time

import pytest

from scanner.models import Scan

from .conftest import QUICK_SITES, finished, make_site, queue_scan, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

SITES = QUICK_SITES[:10]


@pytest.mark.parametrize("appendonly", [True, False], ids=["aof", "no-persistence"])
def test_a_redis_restart_loses_no_scan_and_keeps_the_worker(processes, broker, owner, lab, private_redis, appendonly):
    processes.beat()
    worker = processes.worker(concurrency=2)
    scans = [
        queue_scan(broker, make_site(owner, c.hostname, c.https_port, c.http_port), c.ip)
        for c in (lab.case(name) for name in SITES)
    ]
    ids = [scan.pk for scan in scans]
    wait_for(lambda: Scan.objects.filter(pk__in=ids, status=Scan.Status.RUNNING).exists(), 30, "a scan in flight")
    in_flight = Scan.objects.filter(pk__in=ids, status=Scan.Status.RUNNING).count()
    queued = Scan.objects.filter(pk__in=ids, status=Scan.Status.QUEUED).count()

    try:
        private_redis.restart(appendonly=appendonly, down_for=2)
        started = time.monotonic()
        wait_for(lambda: finished(ids), 90, "every scan to end")
        elapsed = time.monotonic() - started
    finally:
        if not appendonly:
            private_redis.restart(appendonly=True, down_for=0)

    assert worker.poll() is None, "the worker process died during the Redis restart"
    assert set(Scan.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Scan.Status.DONE}
    print(
        f"\nRedis restart ({'AOF' if appendonly else 'no persistence'}) with {in_flight} scans in flight and "
        f"{queued} queued: all {len(ids)} done {elapsed:.1f} s after Redis came back; the worker survived"
    )
