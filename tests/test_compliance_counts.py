"""A portfolio's counts per compliance profile: how many of its evaluated sites fail each one."""

from __future__ import annotations

import pytest

from scanner.compliance_selectors import compliance_counts
from scanner.models import Portfolio, Site
from tests.grading_factories import scan
from tests.test_compliance_api import OLD_TLS, stored

pytestmark = pytest.mark.django_db

PROFILES = ["pci-dss-4.0.1", "mozilla-modern", "nist-sp800-52r2"]


@pytest.fixture
def shops(alice):
    """Two sites offering TLS 1.0, one that does not, and one never scanned."""
    portfolio = Portfolio.objects.create(owner=alice, name="Shops", compliance_profiles=PROFILES)
    portfolio.sites.add(
        stored(alice, "old.example", scan(OLD_TLS)).site,
        stored(alice, "older.example", scan(OLD_TLS)).site,
        stored(alice, "good.example").site,
        Site.objects.create(owner=alice, hostname="new.example"),
    )
    return portfolio


def test_each_profile_counts_the_sites_whose_latest_scan_fails_it_among_those_evaluated(shops):
    sites = shops.sites.select_related("latest_scan").filter(latest_scan__isnull=False)
    expected = {
        profile: sum(f" {profile} " in site.latest_scan.compliance_failing for site in sites) for profile in PROFILES
    }
    counts = compliance_counts(portfolio=shops, profiles=PROFILES)
    assert [row["profile"] for row in counts] == PROFILES
    assert {row["profile"]: row["failing"] for row in counts} == expected
    assert expected["pci-dss-4.0.1"] == 2
    # Summed over more than one grade: the standing they come from is counted per grade.
    assert len({site.grade for site in sites if " mozilla-modern " in site.latest_scan.compliance_failing}) == 2
    assert {row["evaluated"] for row in counts} == {3}  # the site never scanned is not evaluated


def test_no_profiles_chosen_counts_nothing(shops):
    assert compliance_counts(portfolio=shops, profiles=[]) == []
