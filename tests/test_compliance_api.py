"""Compliance through the service: stored per scan, filtered with ?fails=, chosen per portfolio, exported,
and re-evaluated at read time from the stored report."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest
from django.core.management import call_command

from scanner import services
from scanner.models import Alert, Portfolio, Scan, Site
from scanner.report import build_report
from tests.grading_factories import grade, scan, tls
from tests.test_api import client_for

pytestmark = pytest.mark.django_db

OLD_TLS = tls(protocols=("TLSv1.0", "TLSv1.2", "TLSv1.3"))


def stored(owner, host: str, result=None) -> Scan:
    result = replace(result or scan(), host=host)
    grades = grade(result)
    site = Site.objects.create(owner=owner, hostname=host)
    running = Scan.objects.create(site=site, status=Scan.Status.RUNNING)
    return services.store_outcome(running, result, grades, build_report(result, grades))


def test_a_stored_scan_records_the_profiles_it_fails(alice):
    done = stored(alice, "old.example", scan(OLD_TLS))
    assert " pci-dss-4.0.1 " in done.compliance_failing
    assert " mozilla-intermediate " in done.compliance_failing


def test_a_failed_scan_fails_no_profile(alice):
    failed = stored(alice, "down.example", scan(tls_result=None, http_result=None, error="connection refused"))
    assert failed.status == Scan.Status.FAILED and failed.compliance_failing == ""


def test_sites_api_filters_on_a_failed_profile(alice):
    stored(alice, "old.example", scan(OLD_TLS))
    stored(alice, "good.example")
    response = client_for(alice).get("/api/v1/sites", {"fails": "pci-dss-4.0.1"})
    assert response.status_code == 200
    assert [site["hostname"] for site in response.json()["results"]] == ["old.example"]


def test_sites_api_refuses_an_unknown_profile(alice):
    response = client_for(alice).get("/api/v1/sites", {"fails": "pci-dss-3"})
    assert response.status_code == 400
    assert "fails" in response.json()["error"]["fields"]


def test_another_users_failing_site_is_not_listed(alice, bob):
    stored(bob, "old.example", scan(OLD_TLS))
    assert client_for(alice).get("/api/v1/sites", {"fails": "pci-dss-4.0.1"}).json()["results"] == []


def test_scan_detail_evaluates_compliance_from_the_stored_report(alice):
    done = stored(alice, "old.example", scan(OLD_TLS))
    done.result.pop("compliance")  # a report stored before compliance profiles existed
    Scan.objects.filter(pk=done.pk).update(result=done.result)
    compliance = client_for(alice).get(f"/api/v1/scans/{done.pk}").json()["result"]["compliance"]
    pci = next(entry for entry in compliance if entry["profile"] == "pci-dss-4.0.1")
    assert pci["status"] == "fail"
    assert pci["failed"][0]["requirement"] == "4.2.1 secure versions"


def test_portfolio_stores_its_chosen_profiles(alice):
    portfolio = Portfolio.objects.create(owner=alice, name="shops")
    response = client_for(alice).patch(
        f"/api/v1/portfolios/{portfolio.pk}",
        {"compliance_profiles": ["pci-dss-4.0.1", "bsi-tr-02102-2"]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["compliance_profiles"] == ["bsi-tr-02102-2", "pci-dss-4.0.1"]  # profiles.toml order


def test_portfolio_refuses_an_unknown_profile(alice):
    portfolio = Portfolio.objects.create(owner=alice, name="shops")
    response = client_for(alice).patch(
        f"/api/v1/portfolios/{portfolio.pk}", {"compliance_profiles": ["hipaa"]}, format="json"
    )
    assert response.status_code == 400
    assert Portfolio.objects.get(pk=portfolio.pk).compliance_profiles == []


def test_export_lists_the_failed_profiles_per_site(alice):
    portfolio = Portfolio.objects.create(owner=alice, name="shops")
    portfolio.sites.add(stored(alice, "old.example", scan(OLD_TLS)).site)
    response = client_for(alice).get(f"/api/v1/portfolios/{portfolio.pk}/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert "pci-dss-4.0.1" in rows[0]["compliance_fails"].split()


def test_refresh_command_re_evaluates_latest_scans(alice):
    done = stored(alice, "good.example")
    assert " pci-dss-4.0.1 " not in done.compliance_failing
    # The stored report changes as if the profiles had changed: the refresh applies it without rescanning.
    done.result["protocols"]["TLSv1.0"] = True
    Scan.objects.filter(pk=done.pk).update(result=done.result)
    call_command("compliance_refresh", stdout=io.StringIO())
    assert " pci-dss-4.0.1 " in Scan.objects.get(pk=done.pk).compliance_failing


# --- alerts --------------------------------------------------------------------------------------------


def rescan(site: Site, result) -> Scan:
    result = replace(result, host=site.hostname)
    grades = grade(result)
    running = Scan.objects.create(site=site, status=Scan.Status.RUNNING)
    return services.store_outcome(running, result, grades, build_report(result, grades))


def compliance_alerts(site: Site) -> list[Alert]:
    return list(Alert.objects.filter(site=site, kind=Alert.Kind.COMPLIANCE_CHANGED).order_by("id"))


@pytest.fixture
def watched_site(alice) -> Site:
    site = stored(alice, "shop.example").site
    Portfolio.objects.create(owner=alice, name="shops", compliance_profiles=["pci-dss-4.0.1"]).sites.add(site)
    return site


def test_site_that_stops_meeting_a_watched_profile_raises_an_alert(watched_site):
    rescan(watched_site, scan(OLD_TLS))
    [alert] = compliance_alerts(watched_site)
    # The first line says what happened; the reason lines after it (grade, findings) come from alert_reasons.
    headline, *reasons = alert.message.splitlines()
    assert headline == "shop.example no longer meets PCI DSS v4.0.1 requirement 4.2.1 (strong cryptography)."
    assert any("TLSv1.0" in line for line in reasons)


def test_site_that_meets_the_profile_again_raises_a_second_alert(watched_site):
    rescan(watched_site, scan(OLD_TLS))
    rescan(watched_site, scan())
    headline = compliance_alerts(watched_site)[-1].message.splitlines()[0]
    assert headline.endswith("meets PCI DSS v4.0.1 requirement 4.2.1 (strong cryptography) again.")


def test_an_unchanged_verdict_raises_no_alert(watched_site):
    rescan(watched_site, scan(OLD_TLS))
    rescan(watched_site, scan(OLD_TLS))
    assert len(compliance_alerts(watched_site)) == 1


def test_a_profile_no_portfolio_watches_raises_no_alert(alice):
    site = stored(alice, "blog.example").site
    rescan(site, scan(OLD_TLS))  # fails PCI DSS, which no portfolio of this site watches
    assert compliance_alerts(site) == []


def test_evidence_csv_through_the_api_with_a_token(alice, bob):
    portfolio = Portfolio.objects.create(owner=alice, name="shops", compliance_profiles=["pci-dss-4.0.1"])
    portfolio.sites.add(stored(alice, "old.example", scan(OLD_TLS)).site)
    response = client_for(alice).get(f"/api/v1/portfolios/{portfolio.pk}/compliance.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["host"], row["profile"], row["verdict"]) for row in rows] == [("old.example", "pci-dss-4.0.1", "fail")]
    assert client_for(bob).get(f"/api/v1/portfolios/{portfolio.pk}/compliance.csv").status_code == 404


def test_evidence_pdf_through_the_api(alice):
    portfolio = Portfolio.objects.create(owner=alice, name="shops")
    response = client_for(alice).get(f"/api/v1/portfolios/{portfolio.pk}/compliance.pdf")
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
