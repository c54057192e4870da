"""A portfolio's counts per compliance profile: how many of its evaluated sites fail each one, summed from its one
grouped pass over its sites (webui.dashboard.triage), which reads each site's copy of its latest scan's failing
profiles (Site.compliance_failing) instead of the scans."""

from __future__ import annotations

import pytest

from scanner import services
from scanner.compliance_selectors import compliance_counts
from scanner.grading.compliance import PROFILE_IDS
from scanner.history_selectors import portfolio_standing_now
from scanner.models import Portfolio, Scan, Site
from tests.grading_factories import scan
from tests.test_compliance_api import OLD_TLS, rescan, stored
from tests.test_portfolio_view import failed_scan
from webui.dashboard import triage

pytestmark = pytest.mark.django_db

PROFILES = ["pci-dss-4.0.1", "mozilla-modern", "nist-sp800-52r2"]


@pytest.fixture
def shops(alice):
    """Two sites offering TLS 1.0, one that does not, one never scanned and one whose last attempt failed."""
    portfolio = Portfolio.objects.create(owner=alice, name="Shops", compliance_profiles=PROFILES)
    down = stored(alice, "down.example", scan(OLD_TLS)).site
    failed_scan(down)
    portfolio.sites.add(
        stored(alice, "old.example", scan(OLD_TLS)).site,
        stored(alice, "older.example", scan(OLD_TLS)).site,
        stored(alice, "good.example").site,
        Site.objects.create(owner=alice, hostname="new.example"),
        down,
    )
    return portfolio


def failing_per_site(portfolio: Portfolio) -> dict[str, str]:
    return dict(portfolio.sites.values_list("hostname", "compliance_failing"))


def latest_scans_failing(portfolio: Portfolio) -> dict[str, str]:
    return {
        site.hostname: site.latest_scan.compliance_failing if site.latest_scan else ""
        for site in portfolio.sites.select_related("latest_scan")
    }


def test_each_profile_counts_the_sites_whose_latest_scan_fails_it_among_those_evaluated(shops):
    sites = shops.sites.select_related("latest_scan").filter(latest_scan__isnull=False)
    expected = {
        profile: sum(f" {profile} " in site.latest_scan.compliance_failing for site in sites) for profile in PROFILES
    }
    counts = compliance_counts(portfolio=shops, profiles=PROFILES)
    assert [row["profile"] for row in counts] == PROFILES
    assert {row["profile"]: row["failing"] for row in counts} == expected
    assert expected["pci-dss-4.0.1"] == 3
    # Summed over more than one grade: the standing they come from is counted per grade.
    assert len({site.grade for site in sites if " mozilla-modern " in site.latest_scan.compliance_failing}) == 2
    assert {row["evaluated"] for row in counts} == {4}  # the site never scanned is not evaluated


def test_no_profiles_chosen_counts_nothing(shops):
    assert compliance_counts(portfolio=shops, profiles=[]) == []


def test_the_standing_read_from_the_triage_groups_is_the_standing_counted_over_the_scans(alice, shops):
    from_groups = triage.standing(triage.triage_counts(user=alice, portfolio=shops), list(PROFILE_IDS))
    over_the_scans = portfolio_standing_now(shops, list(PROFILE_IDS))
    assert sorted(from_groups, key=lambda row: row["grade"]) == sorted(over_the_scans, key=lambda row: row["grade"])
    assert sum(row["pci-dss-4.0.1"] for row in from_groups) == 3


def test_a_site_holds_its_latest_scans_failing_profiles(shops):
    assert failing_per_site(shops) == latest_scans_failing(shops)
    assert " pci-dss-4.0.1 " in failing_per_site(shops)["old.example"]
    assert failing_per_site(shops)["new.example"] == ""


def test_a_rescan_replaces_the_sites_failing_profiles(shops):
    rescan(shops.sites.get(hostname="old.example"), scan())
    assert (
        failing_per_site(shops)["old.example"]
        == Scan.objects.filter(site__hostname="old.example").latest("id").compliance_failing
    )
    assert " pci-dss-4.0.1 " not in failing_per_site(shops)["old.example"]


def test_a_failed_attempt_leaves_the_last_results_failing_profiles(shops):
    assert " pci-dss-4.0.1 " in failing_per_site(shops)["down.example"]


def test_verdicts_re_evaluated_are_copied_to_the_sites_they_are_the_latest_of(shops):
    old = shops.sites.get(hostname="old.example")
    Scan.objects.filter(site__portfolios=shops).update(compliance_failing=" anssi-tls ")  # as judged before
    Site.objects.filter(portfolios=shops, latest_scan__isnull=False).update(compliance_failing=" anssi-tls ")
    first = Scan.objects.filter(site=old).order_by("id").first()
    rescan(old, scan())  # its first scan, failing more than this one, is not its latest any more
    services.refresh_compliance(Scan.objects.filter(site__portfolios=shops, status=Scan.Status.DONE))
    assert failing_per_site(shops) == latest_scans_failing(shops)
    assert Site.objects.get(pk=old.pk).compliance_failing != Scan.objects.get(pk=first.pk).compliance_failing


def test_a_result_copied_from_another_accounts_scan_brings_its_failing_profiles(alice, bob):
    from scanner.services.scan_targets import copy_scan

    source = stored(bob, "old.example", scan(OLD_TLS))
    site = Site.objects.create(owner=alice, hostname="old.example")
    copy_scan(source, site)
    assert Site.objects.get(pk=site.pk).compliance_failing == source.compliance_failing != ""


def test_a_portfolio_without_profiles_chosen_is_not_split_by_the_profiles_failed(alice, shops):
    split = triage.triage_counts(user=alice, portfolio=shops)
    Portfolio.objects.filter(pk=shops.pk).update(compliance_profiles=[])
    whole = triage.triage_counts(user=alice, portfolio=Portfolio.objects.get(pk=shops.pk))
    assert {group[4] for group in whole["groups"]} == {""} != {group[4] for group in split["groups"]}
    assert triage.standing(whole, []) == triage.standing(split, [])
    with pytest.raises(ValueError):
        triage.standing(whole, ["pci-dss-4.0.1"])
