"""Compliance over time: a portfolio's pass rate per profile day by day (a chart on its page), and a site's
compliance changes in its history and in each scan's changes."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from scanner.changes import compare_reports
from scanner.grading.compliance import failing_profiles
from scanner.models import Portfolio, Scan
from scanner.report import build_report
from tests.grading_factories import grade, scan
from tests.test_compliance_api import OLD_TLS, rescan, stored
from webui.dashboard import history

pytestmark = pytest.mark.django_db


def report(result=None) -> dict:
    result = result or scan()
    return build_report(result, grade(result))


def finished_days_ago(done: Scan, days: int) -> Scan:
    Scan.objects.filter(pk=done.pk).update(finished_at=timezone.now() - timedelta(days=days))
    return done


@pytest.fixture
def shops(alice):
    """good.example meets PCI DSS since 3 days ago; old.example (TLS 1.0) fails it since yesterday."""
    portfolio = Portfolio.objects.create(owner=alice, name="Shops", compliance_profiles=["pci-dss-4.0.1"])
    good = finished_days_ago(stored(alice, "good.example"), 3)
    old = finished_days_ago(stored(alice, "old.example", scan(OLD_TLS)), 1)
    portfolio.sites.add(good.site, old.site)
    return portfolio


# --- the changes document -----------------------------------------------------------------------------------


def test_changes_name_the_profiles_a_scan_stopped_meeting():
    changes = compare_reports(report(), report(scan(OLD_TLS)))
    assert "pci-dss-4.0.1" in changes["compliance_failed"] and changes["compliance_met"] == []


def test_changes_name_the_profiles_a_scan_meets_again():
    changes = compare_reports(report(scan(OLD_TLS)), report())
    assert changes["compliance_met"] == sorted(
        set(failing_profiles(report(scan(OLD_TLS)))) - set(failing_profiles(report()))
    )
    assert changes["compliance_failed"] == []


def test_a_stored_scan_records_its_compliance_changes(alice):
    site = stored(alice, "shop.example").site
    later = rescan(site, scan(OLD_TLS))
    assert "pci-dss-4.0.1" in later.changes["compliance_failed"]


# --- a site's history -----------------------------------------------------------------------------------------


def test_site_history_shows_when_it_stopped_and_started_meeting_a_profile(client, alice):
    site = stored(alice, "shop.example").site
    broken = rescan(site, scan(OLD_TLS))
    fixed = rescan(site, scan())
    client.force_login(alice)
    page = client.get(reverse("dashboard:site", args=[site.pk])).content.decode()
    cell = page.split(f'data-compliance-changes="{broken.pk}">')[1].split("</td>")[0]
    assert '<span class="bad">no longer meets ANSSI, Mozilla intermediate, NCSC-NL, PCI DSS</span>' in cell
    cell = page.split(f'data-compliance-changes="{fixed.pk}">')[1].split("</td>")[0]
    assert '<span class="good">meets ANSSI, Mozilla intermediate, NCSC-NL, PCI DSS again</span>' in cell
    assert "no longer" not in cell


def test_the_changes_section_names_the_profiles_the_latest_scan_stopped_meeting(client, alice):
    site = stored(alice, "shop.example").site
    rescan(site, scan(OLD_TLS))
    client.force_login(alice)
    page = client.get(reverse("dashboard:site", args=[site.pk])).content.decode()
    section = page.split('id="recorded-changes-heading"')[1].split("</section>")[0]
    assert "<dt>Compliance</dt>" in section and "PCI DSS" in section.split("no longer meets")[1]


def test_an_unchanged_verdict_shows_no_compliance_change(client, alice):
    site = stored(alice, "shop.example", scan(OLD_TLS)).site
    again = rescan(site, scan(OLD_TLS))
    client.force_login(alice)
    page = client.get(reverse("dashboard:site", args=[site.pk])).content.decode()
    cell = page.split(f'data-compliance-changes="{again.pk}">')[1].split("</td>")[0]
    assert "meets" not in cell


# --- a portfolio's pass rate over time -------------------------------------------------------------------------


def test_pass_rate_per_day_counts_each_site_by_its_last_scan_of_that_day(shops):
    days = history.portfolio_days(shops, ["pci-dss-4.0.1"])
    [line] = history.pass_rates(days, ["pci-dss-4.0.1"])
    assert line["rates"][-5:] == [None, 100.0, 100.0, 50.0, 50.0]
    assert (line["passing"], line["evaluated"]) == (1, 2)


def test_a_rescan_replaces_what_the_sites_earlier_scan_counted(alice, shops):
    old = shops.sites.get(hostname="old.example")
    rescan(old, scan())  # fixed today
    [line] = history.pass_rates(history.portfolio_days(shops, ["pci-dss-4.0.1"]), ["pci-dss-4.0.1"])
    assert line["rates"][-3:] == [100.0, 50.0, 100.0]


def test_portfolio_page_draws_the_pass_rate_chart_with_its_numbers_as_text(client, alice, shops):
    client.force_login(alice)
    page = client.get(reverse("dashboard:portfolio", args=[shops.pk])).content.decode()
    assert 'aria-label="Pass rate per compliance profile of Shops per day over the last 30 days"' in page
    assert "PCI DSS: 1 of 2 sites pass today (50%), 100% at the start of the chart" in page
    assert page.count('class="line-rate-0"') == 1


def test_a_portfolio_without_chosen_profiles_has_no_pass_rate_chart(client, alice, shops):
    Portfolio.objects.filter(pk=shops.pk).update(compliance_profiles=[])
    client.force_login(alice)
    page = client.get(reverse("dashboard:portfolio", args=[shops.pk])).content.decode()
    assert "Pass rate per compliance profile" not in page


def test_refresh_all_re_evaluates_the_history_too(alice):
    site = stored(alice, "shop.example").site
    first = Scan.objects.get(site=site)
    rescan(site, scan())
    first.result["protocols"]["TLSv1.0"] = True
    Scan.objects.filter(pk=first.pk).update(result=first.result)
    call_command("compliance_refresh", stdout=io.StringIO())
    assert " pci-dss-4.0.1 " not in Scan.objects.get(pk=first.pk).compliance_failing  # not the latest: left alone
    call_command("compliance_refresh", "--all", stdout=io.StringIO())
    assert " pci-dss-4.0.1 " in Scan.objects.get(pk=first.pk).compliance_failing
