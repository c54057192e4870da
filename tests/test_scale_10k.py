"""Fast at 10,000 sites: the overview, the portfolio list and the export cost a constant number of queries,
whatever the sort, filter, page or portfolio size (timings: benchmarks/dashboard_10k.py)."""

from __future__ import annotations

import tracemalloc

import pytest
from django.db import connection
from django.db.models import OuterRef, Subquery
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmarks.seed import seed_sites
from scanner.exports import EXPORT_COLUMNS, csv_lines
from scanner.models import Portfolio, Site

SITES = 10_000
OVERVIEW_VIEWS = [
    {},
    {"sort": "grade"},
    {"sort": "expiry"},
    {"sort": "scanned"},
    {"grade": "B"},
    {"failing": "on"},
    {"expiring": "30"},
    {"expiring": "30", "sort": "grade"},
    {"page": "last"},
    {"sort": "grade", "page": "last"},
    {"sort": "scanned", "page": "100"},
]


@pytest.fixture(scope="module")
def big_portfolio(django_db_setup, django_db_blocker):
    """One user with 10,000 scanned sites in one portfolio, created once for this module."""
    from django.contrib.auth import get_user_model

    with django_db_blocker.unblock():
        owner = get_user_model().objects.create_user("many", password="many-pass-123")
        portfolio = Portfolio.objects.create(owner=owner, name="Everything")
        seed_sites(owner, SITES, portfolio=portfolio)
        yield portfolio
        owner.delete()


def overview_queries(client, user, params) -> tuple[int, str]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard:overview"), params)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params", OVERVIEW_VIEWS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "default"
)
def test_overview_needs_as_many_queries_for_10000_sites_as_for_40(client, big_portfolio, alice, params):
    # Enough sites that every filter matches some (an empty page skips its per-page queries), in a portfolio
    # like the big user's, so the two pages differ only in size.
    seed_sites(alice, 40, seed=1, portfolio=Portfolio.objects.create(owner=alice, name="Few"))
    few, _ = overview_queries(client, alice, params)
    many, page = overview_queries(client, big_portfolio.owner, params)
    assert many == few
    assert "site0" in page or "No site matches" in page


@pytest.mark.django_db
def test_overview_sorts_and_filters_on_the_denormalised_site_columns(big_portfolio):
    from webui.dashboard.queries import overview_sites

    by_grade = overview_sites(user=big_portfolio.owner, sort="grade")
    assert by_grade.first().grade == "M" and by_grade.last().grade == "A+"  # worst first
    by_expiry = list(overview_sites(user=big_portfolio.owner, sort="expiry")[:50])
    assert by_expiry == sorted(by_expiry, key=lambda site: site.cert_not_after)
    failing = overview_sites(user=big_portfolio.owner, failing=True)
    assert set(failing.values_list("grade", flat=True)) == {"F", "T", "M"}


@pytest.mark.django_db
def test_portfolio_list_links_its_sites_instead_of_inlining_them(client, big_portfolio):
    client.force_login(big_portfolio.owner)
    with CaptureQueriesContext(connection) as queries:
        listing = client.get("/api/v1/portfolios")
    entry = listing.json()["results"][0]
    assert entry["site_count"] == SITES and "sites" not in entry
    assert len(listing.content) < 2_000 and len(queries) < 10
    sites = client.get(entry["sites_url"]).json()
    assert sites["count"] == SITES and len(sites["results"]) == 50


@pytest.mark.django_db
def test_export_of_10000_rows_reads_in_chunks_without_loading_reports(big_portfolio):
    tracemalloc.start()
    with CaptureQueriesContext(connection) as queries:
        lines = [line for line in csv_lines(big_portfolio) if line.startswith("site")][:: SITES // 10]
        total = sum(1 for _ in csv_lines(big_portfolio))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert total == SITES + 1
    assert all(len(line.split(",")) == len(EXPORT_COLUMNS) for line in lines)
    # Per pass: a query per chunk of sites, one for their findings, one for their tags.
    assert len(queries) <= 2 * (3 * SITES // 500 + 2)
    # The report documents (a few KB each, 40+ MB for 10,000 sites) are never loaded and rows are not collected.
    assert peak < 24 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def portfolio_page_queries(client, portfolio, params=None) -> tuple[int, str]:
    client.force_login(portfolio.owner)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard:portfolio", args=[portfolio.pk]), params or {})
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{}, {"fails": "pci-dss-4.0.1"}], ids=["default", "fails"])
def test_portfolio_page_with_compliance_columns_needs_as_many_queries_for_10000_sites_as_for_40(
    client, big_portfolio, alice, params
):
    from scanner.models import Scan

    profiles = ["bsi-tr-02102-2", "pci-dss-4.0.1"]
    few = Portfolio.objects.create(owner=alice, name="Few", compliance_profiles=profiles)
    seed_sites(alice, 40, seed=1, portfolio=few)
    Portfolio.objects.filter(pk=big_portfolio.pk).update(compliance_profiles=profiles)
    # Every other site of both portfolios fails PCI DSS alone, so the filter matches a full page in each; the
    # sites hold their scan's verdict as scanner.services.site_took_result copies it.
    for portfolio in (few, big_portfolio):
        scans = list(Scan.objects.filter(site__portfolios=portfolio).order_by("pk").values_list("pk", flat=True))
        Scan.objects.filter(pk__in=scans).update(compliance_failing="")
        Scan.objects.filter(pk__in=scans[::2]).update(compliance_failing=" pci-dss-4.0.1 ")
        Site.objects.filter(portfolios=portfolio).update(
            compliance_failing=Subquery(Scan.objects.filter(pk=OuterRef("latest_scan_id")).values("compliance_failing"))
        )
    try:
        few_queries, few_page = portfolio_page_queries(client, few, params)
        many_queries, many_page = portfolio_page_queries(client, Portfolio.objects.get(pk=big_portfolio.pk), params)
    finally:
        Portfolio.objects.filter(pk=big_portfolio.pk).update(compliance_profiles=[])
    assert many_queries == few_queries
    assert "20 of 40 sites fail PCI DSS" in few_page
    assert "5000 of 10000 sites fail PCI DSS" in many_page
