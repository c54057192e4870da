"""kill -9 of a worker mid-scan: the scan is redelivered and finishes, each within 90 s.

Two kinds of kill: a pool child (Celery requeues its message at once: reject_on_worker_lost) and the whole
worker, main process included (its message stays unacked in Redis until the visibility timeout, so the
reaper, run by beat, requeues the scan when its heartbeat stops, and the restarted worker runs it).
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from scanner.models import Scan

from .conftest import QUICK_SITES, finished, make_site, pool_children, queue_scan, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

CHILD_KILLS = 16
WORKER_KILLS = 4
LIMIT_S = 90
KILL_TRIES = 3


def child_running(worker_pid: int, scan_id: int) -> int | None:
    """The pid of the worker's pool child running the scan right now, if any."""
    scan = Scan.objects.get(pk=scan_id)
    for pid in pool_children(worker_pid):
        if scan.status == Scan.Status.RUNNING and scan.worker.endswith(f":{pid}"):
            return pid
    return None


def finished_before_the_kill(scan: Scan, killed_at: float) -> bool:
    """The scan was stored before the kill landed (a fast lab scan can end before the kill does)."""
    scan.refresh_from_db(fields=["status", "finished_at"])
    return scan.status == Scan.Status.DONE and scan.finished_at is not None and scan.finished_at.timestamp() < killed_at


def test_twenty_kill_9s_mid_scan_all_end_done_within_90_s(processes, broker, owner, lab):
    processes.beat()  # sends the reaper every second, as in production (every 15 s)
    cases = [lab.case(name) for name in QUICK_SITES]
    killed_at: dict[int, tuple[str, float]] = {}
    redelivered_after: dict[int, float] = {}

    # 16 pool children killed, each while running its scan; the reruns overlap the next kills.
    worker = processes.worker(concurrency=2)
    scans = []
    for case in cases[:CHILD_KILLS]:
        site = make_site(owner, case.hostname, case.https_port, case.http_port)
        for _ in range(KILL_TRIES):
            scan = queue_scan(broker, site, case.ip)
            pid = wait_for(
                lambda scan=scan: child_running(worker.pid, scan.pk), 30, f"scan {scan.pk} to run", interval=0.02
            )
            time.sleep(0.05)  # into the TLS probe (a lab scan can end within 0.3 s)
            os.kill(pid, signal.SIGKILL)
            killed_at[scan.pk] = ("pool child", time.time())
            if not finished_before_the_kill(scan, killed_at[scan.pk][1]):
                break
            del killed_at[scan.pk]  # a fast scan ended before the kill landed: not a mid-scan kill, try again
        assert scan.pk in killed_at, f"every kill of {case.name} landed after its scan had ended"
        scans.append(scan)
        # Redelivered at once (reject_on_worker_lost); its rerun overlaps the next kill on the other child.
        wait_for(
            lambda scan=scan: Scan.objects.filter(pk=scan.pk, attempts__gte=2).exists(),
            LIMIT_S,
            f"scan {scan.pk} to be redelivered",
        )
        redelivered_after[scan.pk] = time.time() - killed_at[scan.pk][1]

    # 4 whole workers killed (main process and pool), each restarted at once as a service manager would.
    # One scan at a time: a kill must not also hit the previous victim's second attempt.
    previous = [scan.pk for scan in scans]  # the pool-child victims end first: a whole-worker kill must not hit them
    for case in cases[16:]:
        wait_for(lambda previous=previous: finished(previous), LIMIT_S, f"scans {previous} to finish")
        site = make_site(owner, case.hostname, case.https_port, case.http_port)
        for _ in range(KILL_TRIES):
            scan = queue_scan(broker, site, case.ip)
            wait_for(
                lambda worker=worker, scan=scan: child_running(worker.pid, scan.pk),
                30,
                f"scan {scan.pk} to run",
                interval=0.02,
            )
            time.sleep(0.05)
            os.killpg(worker.pid, signal.SIGKILL)
            killed_at[scan.pk] = ("whole worker", time.time())
            worker.wait(10)
            worker = processes.worker(concurrency=2)
            if not finished_before_the_kill(scan, killed_at[scan.pk][1]):
                break
            del killed_at[scan.pk]
        assert scan.pk in killed_at, f"every kill of {case.name} landed after its scan had ended"
        scans.append(scan)
        previous = [scan.pk]

    ids = [scan.pk for scan in scans]
    wait_for(lambda: finished(ids), LIMIT_S, "every scan to end")
    # From the kill to the row's finished_at (same clock): how long each site was held.
    done_after = {
        pk: finished_at.timestamp() - killed_at[pk][1]
        for pk, finished_at in Scan.objects.filter(pk__in=ids).values_list("pk", "finished_at")
    }

    assert finished(ids)
    statuses = dict(Scan.objects.filter(pk__in=ids).values_list("pk", "status"))
    not_done = list(Scan.objects.filter(pk__in=ids).exclude(status=Scan.Status.DONE).values("pk", "attempts", "error"))
    assert set(statuses.values()) == {Scan.Status.DONE}, not_done
    assert all(attempts >= 2 for attempts in Scan.objects.filter(pk__in=ids).values_list("attempts", flat=True))
    assert max(done_after.values()) < LIMIT_S
    for kind in ("pool child", "whole worker"):
        times = [done_after[pk] for pk, (k, _) in killed_at.items() if k == kind]
        print(f"\nkill -9 of a {kind}: {len(times)} scans done {min(times):.1f}-{max(times):.1f} s after the kill")
    print(
        f"pool child kills: running again {min(redelivered_after.values()):.1f}-"
        f"{max(redelivered_after.values()):.1f} s after the kill"
    )


def test_a_scan_waiting_in_a_dead_nodes_prefetch_is_sent_again_once_the_nodes_heartbeat_stops(
    processes, broker, owner, lab
):
    # Production's resend delay, so only the node's stopped heartbeat can bring the scan back before the
    # broker's visibility timeout (30 s in this suite) does.
    processes.env.update(
        SCANNER_QUEUED_RESEND_AFTER="300", SCANNER_WORKER_HEARTBEAT_INTERVAL="1", SCANNER_WORKER_HEARTBEAT_MAX_AGE="3"
    )
    processes.beat()
    # One pool process and room for two messages: while it runs the slow scan, the next one waits in the
    # node's prefetch, taken from the broker but not started.
    node = processes.worker(concurrency=1, CELERY_WORKER_PREFETCH_MULTIPLIER="2")
    slow, quick = lab.case("driphttps"), lab.case("good")
    busy = queue_scan(broker, make_site(owner, slow.hostname, slow.https_port, slow.http_port), slow.ip)
    wait_for(lambda: Scan.objects.filter(pk=busy.pk, status=Scan.Status.RUNNING).exists(), 30, "the slow scan to run")
    waiting = queue_scan(broker, make_site(owner, quick.hostname, quick.https_port, quick.http_port), quick.ip)
    wait_for(
        lambda: Scan.objects.filter(pk=waiting.pk, status=Scan.Status.QUEUED).exclude(reserved_by="").exists(),
        10,
        "the node to take the second message",
    )

    os.killpg(node.pid, signal.SIGKILL)
    killed_at = time.time()
    node.wait(10)
    processes.worker(concurrency=1)  # another node, as a service manager would start

    wait_for(lambda: finished([waiting.pk, busy.pk]), 60, "both scans to end")
    waiting.refresh_from_db()
    took = waiting.finished_at.timestamp() - killed_at
    print(f"\nscan left in a dead node's prefetch: done {took:.1f} s after the kill")
    assert waiting.status == Scan.Status.DONE
    assert took < 20  # the visibility timeout would have taken 30 s, the queued-resend delay 300 s
