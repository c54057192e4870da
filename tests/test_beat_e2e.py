"""End to end: a portfolio schedule -> real celery beat (DatabaseScheduler) and its due-rescans tick -> Redis -> a
real worker -> scans.

Beat runs as a subprocess against the test database; the worker runs in-process on a queue of its own
(as in test_tasks_e2e, whose fixture also skips on SQLite), and beat's entries are routed to that queue
(CELERY_TASK_DEFAULT_QUEUE) so a development worker never takes them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import pytest
from django.utils import timezone

from scanner import services
from scanner.models import Portfolio, Scan, Site
from scanner.services.schedules import set_portfolio_schedule
from tests.conftest import subprocess_database_url
from tests.test_tasks_e2e import service_settings, worker  # noqa: F401 - fixtures shared with the worker tests

SCHEDULED_SCANS_DEADLINE_S = 30


@contextlib.contextmanager
def running_beat(queue: str):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "webui",
            "beat",
            "--loglevel",
            "INFO",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
        ],
        # The tick every second: a minute is too slow for a test.
        env={
            **os.environ,
            "DATABASE_URL": subprocess_database_url(),
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "SCANNER_DUE_RESCANS_INTERVAL": "1",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        # Before the test database is flushed or dropped: beat holds a connection to it.
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_portfolio_is_rescanned_by_beat_and_only_its_sites(
    django_user_model,
    lab,
    service_settings,  # noqa: F811 - the fixtures imported above
    worker,  # noqa: F811
):
    owner = django_user_model.objects.create_user("scheduler")
    portfolio = services.portfolio_create(owner=owner, name="scheduled")
    members = {
        services.portfolio_add_site(portfolio, host=case.hostname, port=case.https_port, http_port=case.http_port).pk
        for case in (lab.case("good"), lab.case("nohsts"))
    }
    outsider = lab.case("expired")
    outsider_site = Site.objects.create(
        owner=owner, hostname=outsider.hostname, https_port=outsider.https_port, http_port=outsider.http_port
    )

    with running_beat(service_settings.SCANNER_SCAN_QUEUE):
        # Scheduled while beat runs: no beat entry of its own, nothing for beat to reload.
        set_portfolio_schedule(portfolio, "cron", "0 * * * *")  # the most often allowed (hourly)
        # An hour is too long for a test: the slot comes now, as if the clock had reached the next full hour.
        Portfolio.objects.filter(pk=portfolio.pk).update(next_rescan_at=timezone.now())
        deadline = time.monotonic() + SCHEDULED_SCANS_DEADLINE_S
        while time.monotonic() < deadline:
            scanned = set(Scan.objects.values_list("site_id", flat=True))
            if scanned >= members:
                break
            time.sleep(0.5)

    assert scanned == members, f"scans for sites {scanned}, expected exactly the portfolio's {members}"
    assert not Scan.objects.filter(site=outsider_site).exists()
    assert set(Scan.objects.values_list("portfolio_id", flat=True)) == {portfolio.pk}
    portfolio.refresh_from_db()
    assert portfolio.next_rescan_at > timezone.now()  # advanced to the next hour: queued once for this slot
