"""Scheduled rescans, bulk import and export of portfolios (issue 6, items 1-3). No broker needed:
scans are checked as database rows (on_commit callbacks do not run inside the test transaction)."""

import csv
import io
import json

import pytest
from django_celery_beat.models import PeriodicTask

from scanner.imports import import_sites
from scanner.models import Portfolio, Scan, Site
from scanner.services.schedules import set_portfolio_schedule
from scanner.tasks import rescan_portfolio
from tests.test_api import client_for, pinned_public_hosts  # noqa: F401 - autouse fixture

pytestmark = pytest.mark.django_db

MIXED_FILE = """shop.example
blog.example,8443,prod;eu
# a comment

not a host!,443
mail.example,99999
www.example,443,bad tag
shop.example,443
"""


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="owner-pass-123")


@pytest.fixture
def portfolio(owner):
    return Portfolio.objects.create(owner=owner, name="main")


def test_import_reports_each_bad_line_and_reimport_changes_nothing(owner, portfolio):
    report = import_sites(owner, portfolio, MIXED_FILE)
    assert (report.created, report.existing) == (2, 1)
    assert [(line_no, line) for line_no, line, _ in report.errors] == [
        (5, "not a host!,443"),
        (6, "mail.example,99999"),
        (7, "www.example,443,bad tag"),
    ]
    assert "99999" in report.errors[1][2] and "bad tag" in report.errors[2][2]
    sites_before = set(Site.objects.values_list("hostname", "https_port"))
    assert sites_before == {("shop.example", 443), ("blog.example", 8443)}

    again = import_sites(owner, portfolio, MIXED_FILE)
    assert (again.created, again.existing) == (0, 3)
    assert set(Site.objects.values_list("hostname", "https_port")) == sites_before
    assert portfolio.sites.count() == 2


def test_import_api_accepts_plain_text(owner, portfolio):
    response = client_for(owner).post(
        f"/api/v1/portfolios/{portfolio.pk}/import", MIXED_FILE, content_type="text/plain"
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    assert response.json()["errors"][0] == {
        "line_no": 5,
        "line": "not a host!,443",
        "reason": response.json()["errors"][0]["reason"],
    }


def test_export_csv_has_headers_and_only_the_owners_sites(owner, portfolio, django_user_model):
    import_sites(owner, portfolio, "shop.example\nblog.example,8443\n")
    stranger = django_user_model.objects.create_user("stranger", password="x-pass-123456")
    import_sites(stranger, Portfolio.objects.create(owner=stranger, name="theirs"), "mail.example\n")

    response = client_for(owner).get(f"/api/v1/portfolios/{portfolio.pk}/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "host",
        "port",
        "tags",
        "grade",
        "seo_score",
        "days_to_expiry",
        "status",
        "error",
        "finding_ids",
        "last_scan_at",
        "compliance_fails",
        "web_security_score",
        "web_security_grade",
        "revocation",
        "caa",
    ]
    assert [row[:2] for row in rows[1:]] == [["blog.example", "8443"], ["shop.example", "443"]]

    as_json = client_for(owner).get(f"/api/v1/portfolios/{portfolio.pk}/export.json")
    assert [row["host"] for row in json.loads(b"".join(as_json.streaming_content))] == ["blog.example", "shop.example"]
    assert client_for(stranger).get(f"/api/v1/portfolios/{portfolio.pk}/export.csv").status_code == 404


def test_schedule_sets_the_portfolios_cron_and_next_run_without_a_beat_entry_of_its_own(owner, portfolio):
    response = client_for(owner).put(
        f"/api/v1/portfolios/{portfolio.pk}/schedule", {"kind": "cron", "cron": "15 2 * * 1-5"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["schedule"] == {"kind": "cron", "cron": "15 2 * * 1-5", "enabled": True}
    portfolio.refresh_from_db()
    assert portfolio.rescan_cron == "15 2 * * 1-5"
    assert (portfolio.next_rescan_at.hour, portfolio.next_rescan_at.minute) == (2, 15)
    assert portfolio.next_rescan_at.isoweekday() <= 5
    assert not PeriodicTask.objects.filter(task="scanner.tasks.rescan_portfolio").exists()

    set_portfolio_schedule(portfolio, "weekly")
    portfolio.refresh_from_db()
    assert (portfolio.rescan_cron, portfolio.next_rescan_at.isoweekday()) == ("0 3 * * 1", 1)
    set_portfolio_schedule(portfolio, "off")
    portfolio.refresh_from_db()
    assert (portfolio.rescan_cron, portfolio.next_rescan_at) == ("", None)


@pytest.mark.parametrize("cron", ["61 * * * *", "0 3 * *", "0 3 * * xyz"])
def test_an_invalid_cron_is_a_400_naming_the_problem(owner, portfolio, cron):
    response = client_for(owner).put(
        f"/api/v1/portfolios/{portfolio.pk}/schedule", {"kind": "cron", "cron": cron}, format="json"
    )
    assert response.status_code == 400
    assert "cron" in json.dumps(response.json()).lower()
    portfolio.refresh_from_db()
    assert portfolio.next_rescan_at is None


def test_rescan_queues_scans_for_exactly_the_portfolios_sites(owner, portfolio):
    import_sites(owner, portfolio, "shop.example\nblog.example\n")
    other = Portfolio.objects.create(owner=owner, name="other")
    import_sites(owner, other, "mail.example\n")

    assert rescan_portfolio(portfolio.pk) == 2
    queued = Scan.objects.filter(status=Scan.Status.QUEUED)
    assert sorted(queued.values_list("site__hostname", flat=True)) == ["blog.example", "shop.example"]
    assert set(queued.values_list("portfolio_id", flat=True)) == {portfolio.pk}
