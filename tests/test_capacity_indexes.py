"""The queries a day of rescans runs per tick or per site stay cheap at a million rows: the release reads the held
rows in release order, the reaper the sent ones, each through an index of its own, and the per-target limit finds
the target's sites by host and port, never reading every queued or finished scan (benchmarks/capacity_day.py measures them at scale; docs/capacity.md)."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scanner import services
from scanner.models import Portfolio, Site
from webui.celery import app as celery_app

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")


@pytest.fixture
def empty_queues(settings):
    """Queues of this test's own: the release sends only while fewer than its limit wait in the rescans queue,
    and the broker is shared with every other test."""
    name = f"scanner-capacity-{uuid.uuid4().hex[:12]}"
    settings.SCANNER_SCAN_QUEUE = settings.SCANNER_RESCAN_QUEUE = name
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    yield
    client.delete(name, f"_kombu.binding.{name}")
    client.close()


@pytest.fixture
def rescan_day(django_user_model, empty_queues):
    """A table shaped like a busy day: many finished scans, a large held-back rescan, a few sent scans waiting."""
    owner = django_user_model.objects.create_user("agency")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO scanner_site (owner_id, hostname, https_port, http_port, created_at, badge_public, "
            "share_token, alerts_muted, grade, triage_rank, compliance_failing) SELECT %s, 's' || n || '.capacity.test', "
            "443, 80, now(), false, '', false, '', 0, '' FROM generate_series(1, 6000) n",
            [owner.pk],
        )
        columns = (
            "site_id, status, requested_at, security_grade, security_ignoring_trust, seo_grade, error, attempts, "
            "celery_task_id, worker, reserved_by, compliance_failing, release_at, enqueued_at"
        )
        common = "'', '', '', '', 0, md5(random()::text), '', '', ''"
        cursor.execute(
            f"INSERT INTO scanner_scan ({columns}) SELECT id, 'done', now() - interval '1 day', {common}, NULL, NULL "
            "FROM scanner_site, generate_series(1, 10)"
        )
        cursor.execute(
            f"INSERT INTO scanner_scan ({columns}) SELECT id, 'queued', now(), {common}, "
            "now() + (id % 300) * interval '1 minute', NULL FROM scanner_site WHERE id % 60 <> 0"
        )
        cursor.execute(
            f"INSERT INTO scanner_scan ({columns}) SELECT id, 'queued', now(), {common}, now(), now() "
            "FROM scanner_site WHERE id % 60 = 0"
        )
        cursor.execute("ANALYZE scanner_scan")


def scan_query_plans(call, *, sql_with: str = "") -> list[str]:
    """The plan of every query on scanner_scan that `call` makes (and whose SQL holds `sql_with`)."""
    with CaptureQueriesContext(connection) as queries:
        call()
    plans = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if 'FROM "scanner_scan"' in sql and sql.startswith("SELECT") and sql_with in sql:
                cursor.execute(f"EXPLAIN {query['sql']}")
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.django_db
def test_the_release_query_reads_the_held_rows_in_release_order_through_their_index(rescan_day):
    plan = scan_query_plans(lambda: services.release_due_scans(limit=1))[0]

    assert "scan_held_release" in plan
    assert "Seq Scan on scanner_scan" not in plan
    assert "Sort" not in plan


@pytest.mark.django_db
def test_the_reaper_reads_the_sent_and_running_scans_not_the_held_ones(rescan_day):
    plans = scan_query_plans(services.reap_stale_scans)

    # Which nodes hold queued messages, then which scans are stale: both through the sent scans' index.
    assert all("scan_sent_waiting" in plan for plan in plans[:2])
    assert not [plan for plan in plans if "Seq Scan on scanner_scan" in plan]


@pytest.mark.django_db
def test_the_per_target_limit_finds_the_target_by_its_index_not_by_reading_the_days_scans(rescan_day, settings):
    settings.SCANNER_TARGET_MIN_INTERVAL = 3600
    owner = Site.objects.first().owner
    portfolio = Portfolio.objects.create(owner=owner, name="new clients")
    portfolio.sites.add(Site.objects.create(owner=owner, hostname="new.capacity.test", https_port=443, http_port=80))

    plans = scan_query_plans(
        lambda: services.submit_portfolio_scans(portfolio, scheduled=True), sql_with='"scanner_site"."hostname" IN'
    )

    assert plans
    assert all("site_target" in plan for plan in plans)
    assert not [plan for plan in plans if "Seq Scan" in plan]
