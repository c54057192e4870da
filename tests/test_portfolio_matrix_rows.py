"""The portfolio matrix reads its page as plain rows (queries.matrix_page_rows): each row must show what the
overview's row of the same site, built from model instances, shows, and the cells shared between rows must
stay each site's own."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from django.db import connection
from django.utils import timezone

from scanner import selectors, services
from scanner.models import Finding, Portfolio, Scan, Site
from webui.dashboard import matrix, queries, report_view

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(alice):
    return Portfolio.objects.create(owner=alice, name="Client A")


def scanned(site: Site, grade: str, *, result: dict | None = None, findings=()) -> Scan:
    scan = Scan.objects.create(
        site=site,
        status=Scan.Status.DONE,
        security_grade=grade,
        seo_score=70,
        finished_at=timezone.now(),
        result=result or {"grade": {"security": grade}},
    )
    for finding_id, severity in findings:
        Finding.objects.create(scan=scan, site=site, finding_id=finding_id, severity=severity, title=finding_id)
    services.site_attempted(scan)
    services.site_took_result(scan)
    return scan


def sites_of(portfolio, alice) -> list[Site]:
    graded = Site.objects.create(owner=alice, hostname="graded.example")
    scanned(graded, "B", result={"grade": {"security": "B"}, "web_security": {"grade": "A", "score": 90}})
    graded.tags.create(name="client <a>")
    graded.tags.create(name="b&c")
    down = Site.objects.create(owner=alice, hostname="down.example", https_port=8443)
    scanned(down, "A")
    services.site_attempted(Scan.objects.create(site=down, status=Scan.Status.FAILED, error="refused <now>"))
    never = Site.objects.create(owner=alice, hostname="never.example")
    expiring = Site.objects.create(owner=alice, hostname="expiring.example")
    scanned(expiring, "C")
    Site.objects.filter(pk=expiring.pk).update(cert_not_after=timezone.now() + timezone.timedelta(days=3))
    sites = [graded, down, never, expiring]
    portfolio.sites.add(*sites)
    return sites


def test_a_plain_row_of_the_matrix_reads_as_the_overview_row_of_the_same_site(alice, portfolio):
    sites_of(portfolio, alice)
    page = queries.overview_sites(user=alice, portfolio=portfolio, checks=True, sort="site")
    rows = list(queries.matrix_page_rows(page))
    # As the page reads them: from each row on PostgreSQL, else in a query of their own.
    plain = report_view.matrix_rows(rows, selectors.tags_by_site(user=alice, site_ids=[row["id"] for row in rows]))
    models = list(page)
    modelled = report_view.overview_rows(models, {site.pk: [tag.name for tag in site.tags.all()] for site in models})
    assert [str(row.site) for row in plain] == [
        "down.example:8443",
        "expiring.example",
        "graded.example",
        "never.example",
    ]
    for row, expected in zip(plain, modelled, strict=True):
        assert row.site.pk == expected.site.pk
        assert {**asdict(row), "site": None} == {**asdict(expected), "site": None}, expected.site


def test_a_finding_changes_its_own_sites_cell_and_no_other_rows(alice, portfolio):
    first, second = (Site.objects.create(owner=alice, hostname=name) for name in ("a.example", "b.example"))
    scanned(first, "C", findings=[("hsts.missing", "high")])
    scanned(second, "A")
    portfolio.sites.add(first, second)
    rows = list(queries.matrix_page_rows(queries.overview_sites(user=alice, portfolio=portfolio, checks=True)))
    cells = matrix.matrix_cells(rows)
    hsts = [key for key, _ in matrix.columns()].index("hsts")
    assert cells[first.pk][hsts].state == "fail" and cells[first.pk][hsts].titles == ["hsts.missing"]
    assert cells[second.pk][hsts].state == "pass" and cells[second.pk][hsts].titles == []
    # A second page built after it starts from untouched cells too.
    assert matrix.matrix_cells([row for row in rows if row["id"] == second.pk])[second.pk][hsts].titles == []


def test_the_cells_read_the_same_from_the_findings_the_page_query_brought_as_from_their_own_query(alice, portfolio):
    if connection.vendor != "postgresql":
        pytest.skip("the page's query reads the findings along on PostgreSQL only")
    site = Site.objects.create(owner=alice, hostname="many.example")
    findings = [("tls.protocol.tls1_0", "medium"), ("cert.expired", "critical"), ("headers.csp", "low")]
    scanned(site, "C", result={"grade": {"security": "C"}, "web_security": {"score": 50}}, findings=findings)
    scanned(Site.objects.create(owner=alice, hostname="clean.example"), "A")
    portfolio.sites.add(*Site.objects.filter(owner=alice))
    rows = list(queries.matrix_page_rows(queries.overview_sites(user=alice, portfolio=portfolio, checks=True)))
    assert [len(row["latest_findings"]) for row in rows] == [3, 0]  # worst first
    brought = matrix.matrix_cells(rows)
    queried = matrix.matrix_cells([{k: v for k, v in row.items() if k != "latest_findings"} for row in rows])
    assert brought == queried and brought[site.pk][0].titles == ["cert.expired"]


def test_the_unfiltered_matrix_reads_every_sort_and_page_as_the_orm_does(alice, bob, portfolio):
    sites_of(portfolio, alice)
    Portfolio.objects.create(owner=bob, name="Bob's").sites.add(Site.objects.create(owner=bob, hostname="b.example"))
    for sort in queries.SORTS:
        page = queries.overview_sites(user=alice, portfolio=portfolio, sort=sort, checks=True)
        expected = list(queries.matrix_page_rows(page))
        compiled = queries.MatrixPage(user=alice, portfolio=portfolio, sort=sort)
        assert compiled[0:3] + compiled[3:6] == expected, sort


MATRIX_FILTERS = [
    {"grade": "B"},
    {"grade": "none"},
    {"failing": True},
    {"failing": "on"},
    {"failing": "graded"},
    {"failing": "unreachable"},
    {"failing": "nonsense"},
    {"expiring_within": 7},
    {"expiring_within": 0},
    {"grade": "C", "expiring_within": 30, "failing": "on"},
]


@pytest.mark.parametrize("filters", MATRIX_FILTERS)
@pytest.mark.parametrize("sort", ["grade", "expiry"])
def test_the_filtered_matrix_reads_as_the_orm_does(alice, bob, portfolio, filters, sort):
    sites_of(portfolio, alice)
    bobs = Site.objects.create(owner=bob, hostname="b.example")
    scanned(bobs, "B")
    Portfolio.objects.create(owner=bob, name="Bob's").sites.add(bobs)
    page = queries.overview_sites(user=alice, portfolio=portfolio, sort=sort, checks=True, **filters)
    expected = list(queries.matrix_page_rows(page))
    assert queries.MatrixPage(user=alice, portfolio=portfolio, sort=sort, **filters)[0:100] == expected


def test_each_grade_the_filtered_matrix_is_asked_for_is_its_own(alice, portfolio):
    sites_of(portfolio, alice)
    for grade, hosts in (("B", ["graded.example"]), ("C", ["expiring.example"]), ("none", ["never.example"])):
        rows = queries.MatrixPage(user=alice, portfolio=portfolio, grade=grade)[0:100]
        assert [row["hostname"] for row in rows] == hosts
