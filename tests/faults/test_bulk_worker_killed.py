"""kill -9 of the whole worker in the middle of a bulk operation: the reaper resends it, the restarted worker
carries on from the last whole batch, and in the end every site has exactly one scan, each counted once in the
quota's ledger."""

from __future__ import annotations

import os
import signal

import pytest
from django.db.models import Count

from scanner.models import BulkOperation, LimitEvent, Portfolio, Scan, Site
from scanner.tasks import run_bulk_operation

from .conftest import FAULT_ENV, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

SITES = 300
BATCH = "5"  # many small batches, so the kill lands between and inside them
LIMIT_S = 300


def test_a_bulk_scan_killed_mid_operation_resumes_without_duplicates(processes, broker, owner, lab):
    closed = lab.case("closed")  # refuses at once: the test is about the operation, not about TLS
    portfolio = Portfolio.objects.create(owner=owner, name="killed mid-operation")
    Site.objects.bulk_create(
        Site(owner=owner, hostname=closed.hostname, https_port=30000 + index, http_port=closed.http_port)
        for index in range(SITES)
    )
    portfolio.sites.add(*Site.objects.filter(owner=owner))
    # What services.bulk.bulk_scan_request stores and sends, with the message going to the private Redis.
    operation = BulkOperation.objects.create(
        kind=BulkOperation.Kind.SCAN, portfolio=portfolio, owner=owner, total=SITES
    )
    processes.beat()  # runs the reaper every second
    scaled = {
        "SCANNER_BULK_BATCH_SIZE": BATCH,
        "SCANNER_SCANS_PER_HOUR": "0",
        "SCANNER_SCANS_PER_DAY": "0",
        # Without the per-target interval a finished scan answers nothing: what is counted is what was requested.
        "SCANNER_TARGET_MIN_INTERVAL": "0",
    }
    worker = processes.worker(concurrency=2, **scaled)
    broker(run_bulk_operation, operation.pk, queue=FAULT_ENV["SCANNER_SCAN_QUEUE"])

    # Killed once some of its scans have ended too: a resume that started over would scan those sites again
    # (a scan still queued or running answers for its site; a finished one does not).
    wait_for(
        lambda: (
            BulkOperation.objects.filter(pk=operation.pk, done__gte=20).exists()
            and Scan.objects.filter(portfolio=portfolio, status__in=(Scan.Status.DONE, Scan.Status.FAILED)).count() >= 3
        ),
        120,
        "the operation to get going and some of its scans to end",
        interval=0.02,
    )
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    at_kill = BulkOperation.objects.get(pk=operation.pk)
    assert at_kill.state == "running" and at_kill.done < SITES, "the operation ended before the kill landed"
    processes.worker(concurrency=2, **scaled)  # restarted at once, as a service manager would

    wait_for(lambda: not BulkOperation.objects.get(pk=operation.pk).is_active, LIMIT_S, "the operation to end")
    operation.refresh_from_db()
    assert (operation.state, operation.done, operation.failed) == ("done", SITES, 0), operation.error
    per_site = Scan.objects.filter(portfolio=portfolio).values("site").annotate(n=Count("id"))
    assert len(per_site) == SITES and {row["n"] for row in per_site} == {1}
    assert LimitEvent.objects.filter(kind=LimitEvent.Kind.SCANS, key=str(owner.pk)).count() == SITES
    print(f"\nbulk scan of {SITES} sites killed at {at_kill.done}: resumed and done, one scan per site")
