"""Many scans in one worker process: memory and thread count stay flat (sslyze runs in a child per scan)."""

from __future__ import annotations

import os

import pytest

from scanner.models import Scan

from .conftest import QUICK_SITES, finished, make_site, pool_children, queue_scan, rss_mib, thread_count, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

# 300 in the acceptance run (FAULTS_SCANS=300, about 4 minutes here); 40 keep CI fast.
TOTAL = int(os.environ.get("FAULTS_SCANS", "40"))
BASELINE = min(20, TOTAL // 2)


def test_rss_and_threads_of_one_pool_child_stay_flat_over_many_scans(processes, broker, owner, lab):
    worker = processes.worker(concurrency=1)
    child = pool_children(worker.pid)[0]
    cases = [lab.case(name) for name in QUICK_SITES]
    sites = [(make_site(owner, c.hostname, c.https_port, c.http_port), c.ip) for c in cases]
    samples: dict[int, tuple[float, int]] = {}
    done = 0
    while done < TOTAL:
        batch = sites[: min(len(sites), TOTAL - done, BASELINE - done if done < BASELINE else len(sites))]
        ids = [queue_scan(broker, site, ip).pk for site, ip in batch]
        wait_for(lambda ids=ids: finished(ids), 120, f"{len(ids)} scans to end")
        assert set(Scan.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Scan.Status.DONE}
        done += len(ids)
        samples[done] = (rss_mib(child), thread_count(child))

    assert pool_children(worker.pid) == [child]  # one process did every scan
    rss_base, threads_base = samples[BASELINE]
    rss_end, threads_end = samples[TOTAL]
    print(
        f"\none pool child: after {BASELINE} scans {rss_base:.0f} MiB / {threads_base} threads, "
        f"after {TOTAL}: {rss_end:.0f} MiB / {threads_end} threads"
    )
    assert rss_end < rss_base * 1.2
    assert threads_end == threads_base
