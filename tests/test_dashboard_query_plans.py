"""The first page of every overview and portfolio sort and filter is read off one of Site's indexes: PostgreSQL's
own EXPLAIN shows no sequential scan of the sites table and no sort of all of them (timings:
benchmarks/dashboard_10k.py). PostgreSQL only: its planner is the one deployments run."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from benchmarks.seed import seed_sites
from scanner.models import Portfolio, Scan
from webui.dashboard.queries import overview_sites

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's")

SITES = 3_000  # with fresh statistics, enough that walking all sites costs the planner more than an index
PAGE = 50
SORTS = ["", "site", "grade", "expiry", "scanned"]
FILTERS = [
    {},
    {"grade": "B"},
    {"grade": "none"},
    {"failing": "on"},
    {"failing": "graded"},
    {"failing": "unreachable"},
    {"expiring_within": 30},
]
VIEWS = [{**chosen, "sort": sort} for chosen in FILTERS for sort in SORTS]


def view_id(view: dict) -> str:
    return "&".join(f"{key}={value}" for key, value in view.items() if value != "") or "default"


@pytest.fixture(scope="module")
def many_sites(django_db_setup, django_db_blocker):
    """One user with SITES scanned sites, all in one portfolio; seed_sites ANALYZEs the tables."""
    from django.contrib.auth import get_user_model

    with django_db_blocker.unblock():
        owner = get_user_model().objects.create_user("planner", password="planner-pass-123")
        portfolio = Portfolio.objects.create(owner=owner, name="All of them")
        seed_sites(owner, SITES, portfolio=portfolio)
        yield portfolio
        owner.delete()


def plan_nodes(sites) -> list[dict]:
    """Every node of the plan PostgreSQL chooses for the first page of `sites`."""
    return explained(sites[:PAGE])


def explained(queryset, *options: str) -> list[dict]:
    """Every node of PostgreSQL's plan for `queryset` (EXPLAIN with `options`, such as ANALYZE)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({', '.join([*options, 'FORMAT JSON'])}) {sql}", params)
        document = cursor.fetchone()[0]
    plan = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    nodes, pending = [], [plan]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(node.get("Plans", []))
    return nodes


def assert_read_off_an_index(nodes: list[dict]) -> None:
    described = [
        (node["Node Type"], node.get("Relation Name"), node.get("Index Name"), node["Plan Rows"]) for node in nodes
    ]
    assert not any(kind == "Seq Scan" and table == "scanner_site" for kind, table, _, _ in described), described
    # A Sort node sorts every row reaching it; an index in the ORDER BY's order needs none. Only a filter the
    # planner expects to match less than a page (grade "none" when every site is graded) may sort its few rows.
    assert not any(kind == "Sort" and rows > PAGE for kind, _, _, rows in described), described
    assert any(table == "scanner_site" and index for _, table, index, _ in described), described


@pytest.mark.django_db
@pytest.mark.parametrize("view", VIEWS, ids=view_id)
def test_the_overviews_first_page_is_read_off_a_site_index(many_sites, view):
    assert_read_off_an_index(plan_nodes(overview_sites(user=many_sites.owner, **view)))


@pytest.mark.django_db
@pytest.mark.parametrize("view", VIEWS, ids=view_id)
def test_a_portfolios_first_page_is_read_off_a_site_index(many_sites, view):
    assert_read_off_an_index(plan_nodes(overview_sites(user=many_sites.owner, portfolio=many_sites, **view)))


@pytest.mark.django_db
def test_a_portfolios_page_counts_its_active_scans_without_visiting_the_scans_of_each_site(many_sites):
    # Joined through the sites, the count of the portfolio's queued and running scans was planned for the
    # average portfolio (a correlated subquery), not this one: with many small portfolios and scans queued,
    # PostgreSQL probed the active-scan index once per site of a big one (10 ms of its page at 10,000 sites).
    from scanner.selectors import _page_state_query

    sites = list(many_sites.sites.order_by("pk"))
    for number in range(100):
        Portfolio.objects.create(owner=many_sites.owner, name=f"small {number}").sites.set(
            sites[number * 3 : (number + 1) * 3]
        )
    Scan.objects.bulk_create(Scan(site=site, status=Scan.Status.QUEUED) for site in sites[::3])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE scanner_scan, scanner_portfolio_sites")

    nodes = explained(_page_state_query(many_sites.owner.pk, many_sites.pk), "ANALYZE")
    scan_reads = [node for node in nodes if node.get("Relation Name") == "scanner_scan"]
    assert scan_reads, nodes  # the plan reads the scans
    assert all(node["Actual Loops"] <= 1 for node in scan_reads), [
        (node["Node Type"], node.get("Index Name"), node["Actual Loops"]) for node in scan_reads
    ]
