"""Hostile servers cannot hold a worker: each scan ends within its limit, the pool child stays small."""

from __future__ import annotations

import json
import time

import pytest

from scanner.models import Scan

from .conftest import FAULT_ENV, make_site, pool_children, queue_scan, rss_mib, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

RSS_LIMIT_MIB = 300
# TLS (about a second on the lab) + the HTTP probe's deadline + storing, well inside the soft limit.
SCAN_LIMIT_S = float(FAULT_ENV["SCANNER_HTTP_DEADLINE"]) + 10
assert SCAN_LIMIT_S < float(FAULT_ENV["SCANNER_TASK_SOFT_TIME_LIMIT"])


@pytest.mark.parametrize(
    ("case_name", "expect_in_report"),
    [
        ("driphttp", "deadline passed"),  # port 80 answers one byte per second
        ("driphttps", "deadline passed"),  # the HTTPS response head drips
        ("hugepage", None),  # a 1 GiB page: read up to the 1 MiB cap, then dropped
        ("endless", None),  # a page that never ends
    ],
)
def test_a_hostile_server_ends_the_scan_in_time_and_the_worker_stays_small(
    processes, broker, owner, lab, endless_site, case_name, expect_in_report
):
    if case_name == "endless":
        hostname, ip, port = endless_site
        site = make_site(owner, hostname, port, 80)
    else:
        case = lab.case(case_name)
        ip = case.ip
        site = make_site(owner, case.hostname, case.https_port, case.http_port)
    worker = processes.worker(concurrency=1)
    child = pool_children(worker.pid)[0]

    started = time.monotonic()
    scan = queue_scan(broker, site, ip)
    wait_for(
        lambda: Scan.objects.filter(pk=scan.pk).exclude(status__in=Scan.ACTIVE_STATUSES).exists(),
        SCAN_LIMIT_S + 5,
        f"the {case_name} scan to end",
    )
    elapsed = time.monotonic() - started
    scan.refresh_from_db()

    assert scan.status == Scan.Status.DONE, scan.error
    assert elapsed < SCAN_LIMIT_S
    if expect_in_report:
        assert expect_in_report in json.dumps(scan.result)
    assert pool_children(worker.pid) == [child]  # the same pool child, neither killed nor recycled
    assert rss_mib(child) < RSS_LIMIT_MIB
    print(f"\n{case_name}: ended in {elapsed:.1f} s, pool child RSS {rss_mib(child):.0f} MiB")
