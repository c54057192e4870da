"""End to end: a portfolio schedule -> real celery beat (DatabaseScheduler) -> Redis -> a real worker -> scans.

Beat runs as a subprocess against the test database; the worker runs in-process on a queue of its own
(as in test_tasks_e2e, whose fixture also skips on SQLite), and the beat entry is routed to that queue so a development worker never takes it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import pytest
from django_celery_beat.models import IntervalSchedule

from scanner import services
from scanner.models import Scan, Site
from scanner.services.schedules import set_portfolio_schedule
from tests.conftest import subprocess_database_url
from tests.test_tasks_e2e import service_settings, worker  # noqa: F401 - fixtures shared with the worker tests

SCHEDULED_SCANS_DEADLINE_S = 30


@contextlib.contextmanager
def running_beat():
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
        env={**os.environ, "DATABASE_URL": subprocess_database_url()},
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

    entry = set_portfolio_schedule(portfolio, "cron", "0 * * * *")  # the most often allowed (hourly)
    # A minute is too slow for a test: keep the entry set_portfolio_schedule made (task, kwargs) but fire it
    # every second, on this test's queue so a development worker on the same Redis never takes it.
    entry.crontab = None
    entry.interval, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    entry.queue = service_settings.SCANNER_SCAN_QUEUE
    entry.save()

    with running_beat():
        deadline = time.monotonic() + SCHEDULED_SCANS_DEADLINE_S
        while time.monotonic() < deadline:
            scanned = set(Scan.objects.values_list("site_id", flat=True))
            if scanned >= members:
                break
            time.sleep(0.5)

    assert scanned == members, f"scans for sites {scanned}, expected exactly the portfolio's {members}"
    assert not Scan.objects.filter(site=outsider_site).exists()
    assert set(Scan.objects.values_list("portfolio_id", flat=True)) == {portfolio.pk}
