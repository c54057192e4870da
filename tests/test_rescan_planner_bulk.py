"""Beat's rescans are planned in bulk (scanner/services/scan_fanout.py): a few queries per batch of sites instead of
ten per site, leaving behind what the per-site path a person's request takes would have left. Each test plans the
same portfolio both ways, each in a transaction rolled back afterwards, and compares the rows."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scanner import services
from scanner.models import Finding, LimitEvent, Portfolio, Scan, Site

pytestmark = pytest.mark.django_db


class RolledBack(Exception):
    pass


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def scan_of(site: Site, **fields) -> Scan:
    return Scan.objects.create(site=site, celery_task_id=str(uuid.uuid4()), **fields)


def finished(site: Site, *, seconds_ago: float, status=Scan.Status.DONE) -> Scan:
    at = ago(seconds_ago)
    scan = scan_of(site, status=status, security_grade="B", score=70, started_at=at, finished_at=at, result={})
    Finding.objects.create(scan=scan, site=site, finding_id="tls.weak", severity="medium", title="Weak")
    return scan


@pytest.fixture
def portfolio(settings, django_user_model) -> Portfolio:
    """One of every case the planner tells apart, beside another account's scans of two of its targets."""
    settings.SCANNER_RESCAN_MIN_INTERVAL = 3600
    settings.SCANNER_TARGET_MIN_INTERVAL = 600
    owner = django_user_model.objects.create_user("agency")
    other = django_user_model.objects.create_user("someone-else")
    portfolio = Portfolio.objects.create(owner=owner, name="clients")

    def site(name: str, owner=owner) -> Site:
        made = Site.objects.create(owner=owner, hostname=f"{name}.test", https_port=443, http_port=80)
        if owner == portfolio.owner:
            portfolio.sites.add(made)
        return made

    finished(site("recent-result"), seconds_ago=1200)  # inside the reuse window only
    finished(site("old-result"), seconds_ago=7200)
    finished(site("failed-attempt"), seconds_ago=300, status=Scan.Status.FAILED)
    scan_of(site("sent"), status=Scan.Status.QUEUED, enqueued_at=ago(10), release_at=ago(10))
    scan_of(site("held"), status=Scan.Status.QUEUED, release_at=ago(5))
    scan_of(site("running"), status=Scan.Status.RUNNING, started_at=ago(20), heartbeat_at=ago(5), attempts=1)
    scan_of(site("never-started"), status=Scan.Status.QUEUED, enqueued_at=ago(86400), release_at=ago(86400))
    scan_of(site("timed-out"), status=Scan.Status.RUNNING, started_at=ago(86400), heartbeat_at=ago(86400))
    finished(site("shared", owner=other), seconds_ago=300)
    site("shared")
    scan_of(site("busy", owner=other), status=Scan.Status.RUNNING, started_at=ago(5), heartbeat_at=ago(1))
    site("busy")
    scan_of(site("stuck-elsewhere", owner=other), status=Scan.Status.RUNNING, started_at=ago(86400))
    site("stuck-elsewhere")
    for n in range(5):
        site(f"fresh-{n}")
    return portfolio


def planned(portfolio: Portfolio, **options) -> tuple[dict, int]:
    """Plan a scheduled rescan, describe every row it touched, roll it all back; with the queries it took."""
    first_new = Scan.objects.order_by("-pk").values_list("pk", flat=True).first()
    try:
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                outcomes = services.submit_portfolio_scans(
                    portfolio, batch_size=4, batch_interval=60, scheduled=True, **options
                )
            state = described(outcomes, first_new)
            raise RolledBack
    except RolledBack:
        pass
    return state, len(queries.captured_queries)


def described(outcomes, first_new: int) -> dict:
    def scan(row: Scan | None):
        if row is None:
            return None
        which = "new" if row.pk > first_new else row.pk
        release = None if row.release_at is None else round((row.release_at - timezone.now()).total_seconds() / 60)
        return (
            which,
            row.site.hostname,
            row.site.owner.username,
            row.status,
            row.error,
            row.portfolio_id,
            release,
            row.enqueued_at is None,
            row.started_at if which != "new" else row.started_at is None,
            row.security_grade,
            sorted(row.findings.values_list("finding_id", flat=True)),
        )

    return {
        "outcomes": [(site.hostname, scan(row), error) for site, row, error in outcomes],
        "scans": sorted(map(scan, Scan.objects.select_related("site__owner")), key=repr),
        "sites": sorted(
            (site.hostname, site.owner.username, scan(site.last_scan), site.triage_rank)
            for site in Site.objects.select_related("owner", "last_scan__site__owner")
        ),
        "ledger": Counter(LimitEvent.objects.values_list("kind", "key", "cost")),
    }


def test_the_bulk_planner_leaves_the_rows_the_per_site_path_leaves(portfolio):
    one_by_one, _ = planned(portfolio, site_by_site=True)
    in_bulk, _ = planned(portfolio)

    assert in_bulk == one_by_one


def test_the_bulk_planner_answers_each_case_as_a_request_would(portfolio):
    outcomes = {
        host: (scan and scan[0], scan and scan[3], error) for host, scan, error in planned(portfolio)[0]["outcomes"]
    }

    assert outcomes["recent-result.test"][:2] == (Scan.objects.get(site__hostname="recent-result.test").pk, "done")
    assert [host for host, answer in outcomes.items() if answer[:2] == ("new", "queued")] == [
        "fresh-0.test",
        "fresh-1.test",
        "fresh-2.test",
        "fresh-3.test",
        "fresh-4.test",
        "never-started.test",
        "old-result.test",
        "stuck-elsewhere.test",
    ]
    assert outcomes["shared.test"][:2] == ("new", "done")  # another account's result, copied
    assert outcomes["timed-out.test"][1] == "failed"  # failed now, and attempted within the target's window
    assert outcomes["busy.test"][0] is None and "being scanned right now" in outcomes["busy.test"][2]


def test_the_bulk_planner_takes_as_many_queries_for_forty_fresh_sites_as_for_ten(portfolio):
    def fresh_portfolio(size: int, tag: str) -> Portfolio:
        grown = Portfolio.objects.create(owner=portfolio.owner, name=f"{size} fresh {tag}")
        grown.sites.add(
            *(
                Site.objects.create(owner=portfolio.owner, hostname=f"new-{tag}-{n}.test", https_port=443, http_port=80)
                for n in range(size)
            )
        )
        return grown

    _, ten = planned(fresh_portfolio(10, "a"))
    _, forty = planned(fresh_portfolio(40, "b"))
    _, forty_site_by_site = planned(fresh_portfolio(40, "c"), site_by_site=True)

    assert forty == ten
    assert forty_site_by_site > 10 * forty
