"""What a site list shows of each site's latest report is taken out of it once, when the scan is stored
(scanner.list_facts, Scan.list_facts): the overview and the portfolio matrix never read the reports."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scanner.list_facts import list_facts
from scanner.models import Portfolio, Scan, Site
from tests.migration_steps import migrate, migrated_to
from tests.test_portfolio_view import done_scan, page

EXPIRED_CAP = {"finding_id": "cert.expired", "title": "The certificate has expired", "cap": "T", "severity": "high"}
TLS10_CAP = {"finding_id": "tls.protocol.tls1_0", "title": "TLS 1.0 is enabled", "cap": "C"}
WARNING = {"finding_id": "hsts.short", "title": "HSTS max-age is short"}


def report(**sections) -> dict:
    return {"grade": {"security": "B", "caps": [], "warnings": []}, **sections}


def test_a_report_that_read_the_page_and_scored_its_headers_says_so():
    facts = list_facts(report(content={"page_fetched": True}, web_security={"score": 72, "grade": "B"}))
    assert facts == {"mixed_checked": True, "web_checked": True, "web_grade": "B", "top_issue": None}


def test_a_report_without_the_page_or_a_web_score_says_neither_was_checked():
    facts = list_facts(report(content={"page_fetched": False}, web_security=None))
    assert (facts["mixed_checked"], facts["web_checked"], facts["web_grade"]) == (False, False, None)
    assert list_facts(report()) == {"mixed_checked": False, "web_checked": False, "web_grade": None, "top_issue": None}


def test_the_top_issue_is_the_worst_cap_with_only_what_a_list_shows():
    facts = list_facts(report(grade={"security": "T", "caps": [TLS10_CAP, EXPIRED_CAP], "warnings": [WARNING]}))
    assert facts["top_issue"] == {"finding_id": "cert.expired", "title": "The certificate has expired", "cap": "T"}


def test_without_caps_the_top_issue_is_the_first_warning():
    facts = list_facts(report(grade={"security": "A", "caps": [], "warnings": [WARNING, TLS10_CAP]}))
    assert facts["top_issue"] == {**WARNING, "cap": None}


def test_no_report_has_no_facts():
    assert list_facts(None) is None


@pytest.mark.django_db
def test_a_scan_saved_with_its_report_takes_its_facts_and_keeps_them_when_other_fields_are_saved(alice):
    site = Site.objects.create(owner=alice, hostname="a.example")
    scan = Scan.objects.create(site=site, status=Scan.Status.DONE, result=report(content={"page_fetched": True}))
    assert Scan.objects.get(pk=scan.pk).list_facts["mixed_checked"] is True
    scan.error = "noted"
    scan.save(update_fields=["error"])
    assert Scan.objects.get(pk=scan.pk).list_facts["mixed_checked"] is True
    scan.result = report(content={"page_fetched": False})
    scan.save(update_fields=["result"])
    assert Scan.objects.get(pk=scan.pk).list_facts["mixed_checked"] is False


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/?failing=on", "/portfolios/{portfolio}/", "/portfolios/{portfolio}/?sort=site"])
def test_the_site_lists_read_no_report(client, alice, url):
    portfolio = Portfolio.objects.create(owner=alice, name="Shops")
    for host, grade in (("a.example", "A"), ("b.example", "F")):
        site = Site.objects.create(owner=alice, hostname=host)
        done_scan(site, grade)
        portfolio.sites.add(site)
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        html = page(client, url.format(portfolio=portfolio.pk))
    assert "b.example" in html
    assert not [query["sql"] for query in queries.captured_queries if '"scanner_scan"."result"' in query["sql"]]


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_each_sites_latest_scan_its_facts(alice):
    with migrated_to([("scanner", "0022_site_compliance_failing")]) as apps:
        OldSite, OldScan = apps.get_model("scanner", "Site"), apps.get_model("scanner", "Scan")
        site = OldSite.objects.create(owner_id=alice.pk, hostname="old.example")
        earlier = OldScan.objects.create(site=site, status="done", result=report())
        latest = OldScan.objects.create(site=site, status="done", result=report(content={"page_fetched": True}))
        OldSite.objects.filter(pk=site.pk).update(latest_scan=latest)
        NewScan = migrate([("scanner", "0023_scan_list_facts")]).get_model("scanner", "Scan")
        assert NewScan.objects.get(pk=latest.pk).list_facts["mixed_checked"] is True
        assert NewScan.objects.get(pk=earlier.pk).list_facts is None  # never listed again: not read
