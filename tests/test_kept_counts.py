"""The triage counts a web process keeps from one page to the next (webui/dashboard/kept_counts.py): counted once
while nothing they count changes, counted again after any change a service makes (here or, once committed, in
another process), after a certificate moves into the next expiry window, and after their maximum age."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scanner import services
from scanner.models import Portfolio, Site, SitesVersion
from scanner.targets import parse_target
from tests.test_portfolio_view import done_scan, failed_scan, page

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def portfolio(alice):
    portfolio = Portfolio.objects.create(owner=alice, name="Client A")
    for host, grade in (("a.example", "A"), ("b.example", "F")):
        site = Site.objects.create(owner=alice, hostname=host)
        done_scan(site, grade)
        portfolio.sites.add(site)
    return portfolio


def triage_number(html: str, label: str) -> int:
    return int(re.search(rf'class="triage-number[^"]*">(\d+)</span> {label}<', html).group(1))


def triage_passes(client, url: str) -> int:
    """How many grouped passes over the sites one view of `url` made."""
    with CaptureQueriesContext(connection) as queries:
        page(client, url)
    return sum('AS "window"' in query["sql"] and "GROUP BY" in query["sql"] for query in queries.captured_queries)


def test_a_portfolio_viewed_again_in_another_order_and_filter_is_not_counted_again(client, alice, portfolio):
    client.force_login(alice)
    url = f"/portfolios/{portfolio.pk}/"
    assert triage_passes(client, url) == 1
    assert triage_passes(client, url + "?sort=site") == 0
    assert triage_passes(client, url + "?failing=on") == 0


def test_the_overview_is_kept_apart_from_each_portfolio(client, alice, portfolio):
    client.force_login(alice)
    page(client, f"/portfolios/{portfolio.pk}/")
    assert triage_passes(client, "/") == 1
    assert triage_passes(client, "/") == 0


def test_a_scan_stored_between_two_views_is_counted_in_the_second(client, alice, portfolio):
    client.force_login(alice)
    url = f"/portfolios/{portfolio.pk}/"
    assert triage_number(page(client, url), "graded F/T/M") == 1
    done_scan(portfolio.sites.get(hostname="a.example"), "F")
    assert triage_number(page(client, url), "graded F/T/M") == 2


def test_a_failed_attempt_between_two_views_is_counted_as_unreachable(client, alice, portfolio):
    client.force_login(alice)
    url = f"/portfolios/{portfolio.pk}/"
    assert triage_number(page(client, url), "unreachable") == 0
    failed_scan(portfolio.sites.get(hostname="a.example"))
    assert triage_number(page(client, url), "unreachable") == 1


def test_a_site_joining_or_leaving_a_portfolio_between_two_views_changes_its_counts(client, alice, portfolio):
    client.force_login(alice)
    url = f"/portfolios/{portfolio.pk}/"
    assert triage_number(page(client, url), "never scanned") == 0
    newcomer = Site.objects.create(owner=alice, hostname="new.example")
    services.portfolio_add_site(portfolio, site=newcomer)
    assert triage_number(page(client, url), "never scanned") == 1
    services.portfolio_remove_site(portfolio, site=newcomer)
    assert triage_number(page(client, url), "never scanned") == 0


def test_a_site_deleted_between_two_views_is_no_longer_counted(client, alice, portfolio):
    client.force_login(alice)
    assert triage_number(page(client, "/"), "graded F/T/M") == 1
    services.site_delete(portfolio.sites.get(hostname="b.example"))
    assert triage_number(page(client, "/"), "graded F/T/M") == 0


def test_a_change_another_process_committed_is_counted_once_it_renews_the_version(client, alice, portfolio):
    client.force_login(alice)
    assert triage_number(page(client, "/"), "never scanned") == 0
    # What a worker does elsewhere: its change is committed, then the version of alice's sites is renewed.
    Site.objects.create(owner=alice, hostname="elsewhere.example")
    assert triage_number(page(client, "/"), "never scanned") == 0  # kept: this process did not see it made
    SitesVersion.objects.update_or_create(owner_id=alice.pk, defaults={"version": uuid.uuid4()})
    assert triage_number(page(client, "/"), "never scanned") == 1


def test_another_owners_change_leaves_the_counts_kept(client, alice, bob, portfolio):
    client.force_login(alice)
    page(client, "/")
    done_scan(Site.objects.create(owner=bob, hostname="bob.example"), "F")
    assert triage_passes(client, "/") == 0


def test_the_version_of_an_owners_sites_is_renewed_when_a_change_commits(alice, django_capture_on_commit_callbacks):
    site = Site.objects.create(owner=alice, hostname="a.example")
    with django_capture_on_commit_callbacks(execute=True):
        done_scan(site, "B")
    first = SitesVersion.objects.get(owner_id=alice.pk).version
    with django_capture_on_commit_callbacks(execute=True):
        failed_scan(site)
    assert SitesVersion.objects.get(owner_id=alice.pk).version != first


def test_a_scan_stored_with_its_new_site_renews_the_version_once(alice, django_capture_on_commit_callbacks):
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        site = services.site_for_target(alice, parse_target("new.example"))
        done_scan(site, "B")  # an attempt recorded, then its result
    renewals = [query for query in queries.captured_queries if "scanner_sitesversion" in query["sql"]]
    assert len(renewals) == 1


def test_a_change_rolled_back_leaves_the_version_as_it_was(alice, django_capture_on_commit_callbacks):
    site = Site.objects.create(owner=alice, hostname="a.example")
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        done_scan(site, "B")
        raise RuntimeError("the store failed")
    assert callbacks == []
    assert not SitesVersion.objects.filter(owner_id=alice.pk).exists()


def test_a_certificate_moving_into_the_next_window_is_counted_there_with_no_change_to_its_site(alice, monkeypatch):
    from webui.dashboard.triage import triage_counts

    # 8 days and 15 seconds left: "in 8 days" now, "in 7 days" 15 seconds from now.
    done_scan(Site.objects.create(owner=alice, hostname="soon.example"), "A", days_left=8 + 15 / 86400)
    now = timezone.now()
    assert triage_counts(user=alice)["expiring_7"] == 0
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(seconds=30))  # well within the maximum age
    assert triage_counts(user=alice)["expiring_7"] == 1


def test_counts_kept_are_counted_again_after_their_maximum_age(alice, monkeypatch):
    from webui.dashboard import triage
    from webui.dashboard.kept_counts import MAX_AGE

    Site.objects.create(owner=alice, hostname="a.example")
    now = timezone.now()
    assert triage.triage_counts(user=alice)["never_scanned"] == 1
    # Changed outside the services (by hand, in the admin): no new version.
    Site.objects.create(owner=alice, hostname="b.example")
    assert triage.triage_counts(user=alice)["never_scanned"] == 1
    monkeypatch.setattr(timezone, "now", lambda: now + MAX_AGE + timedelta(seconds=1))
    assert triage.triage_counts(user=alice)["never_scanned"] == 2


def group(window, first_expiry) -> dict:
    return {"window": window, "first_expiry": first_expiry}


@pytest.mark.parametrize(
    ("window", "days_left", "change_in_days"),
    [
        (None, 60, 60 - 31),  # into "within 30 days" once fewer than 31 whole days are left
        (30, 20, 20 - 15),
        (14, 10, 10 - 8),
        (7, 3, 3),  # expired
    ],
)
def test_counts_by_expiry_window_hold_until_the_first_certificate_reaches_the_next_window(
    window, days_left, change_in_days
):
    from webui.dashboard.triage import windows_change

    groups = [group(window, T0 + timedelta(days=days_left)), group(None, None)]
    assert windows_change(groups, T0) == T0 + timedelta(days=change_in_days)


def test_expired_certificates_and_sites_without_one_never_change_window():
    from webui.dashboard.triage import windows_change

    assert windows_change([group(-1, T0 - timedelta(days=3)), group(None, None)], T0) > T0 + timedelta(days=3650)


def test_the_earliest_change_of_all_groups_is_the_one_that_counts():
    from webui.dashboard.triage import windows_change

    groups = [group(None, T0 + timedelta(days=40)), group(30, T0 + timedelta(days=16))]
    assert windows_change(groups, T0) == T0 + timedelta(days=1)


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, until: datetime):
        def count():
            self.calls += 1
            return f"counted {self.calls}", until

        return count


def test_kept_counts_are_used_again_under_the_same_version_until_their_change():
    from webui.dashboard.kept_counts import KeptCounts

    kept, counter = KeptCounts(), Counter()
    count = counter(T0 + timedelta(seconds=30))
    assert kept.get("p", version="v1", now=T0, count=count) == "counted 1"
    assert kept.get("p", version="v1", now=T0 + timedelta(seconds=29), count=count) == "counted 1"
    assert kept.get("p", version="v1", now=T0 + timedelta(seconds=30), count=count) == "counted 2"


def test_kept_counts_under_another_version_are_counted_again():
    from webui.dashboard.kept_counts import KeptCounts

    kept, counter = KeptCounts(), Counter()
    count = counter(T0 + timedelta(days=1))
    kept.get("p", version="v1", now=T0, count=count)
    assert kept.get("p", version="v2", now=T0, count=count) == "counted 2"


def test_only_the_most_recently_counted_scopes_are_kept():
    from webui.dashboard.kept_counts import KeptCounts

    kept, counter = KeptCounts(max_kept=2), Counter()
    count = counter(T0 + timedelta(days=1))
    for scope in ("p1", "p2", "p3"):
        kept.get(scope, version="v", now=T0, count=count)
    assert kept.get("p3", version="v", now=T0, count=count) == "counted 3"
    assert kept.get("p1", version="v", now=T0, count=count) == "counted 4"


def test_the_summary_redrawn_when_a_scan_ends_is_counted_again(client, alice, portfolio):
    client.force_login(alice)
    assert triage_number(page(client, f"/portfolios/{portfolio.pk}/"), "never scanned") == 0
    # A worker's scan committed, its version not renewed yet: the page's live progress asks for the summary.
    portfolio.sites.add(Site.objects.create(owner=alice, hostname="elsewhere.example"))
    summary = page(client, f"/summary/?portfolio={portfolio.pk}")
    assert triage_number(summary, "never scanned") == 1


def passes_over_scans(client, url: str) -> int:
    """How many queries of one view of `url` counted the verdicts stored on the portfolio's sites' scans."""
    with CaptureQueriesContext(connection) as queries:
        page(client, url)
    return sum(
        "COUNT(" in query["sql"] and '"scanner_scan"."compliance_failing"' in query["sql"]
        for query in queries.captured_queries
    )


def test_a_portfolios_compliance_counts_and_pass_rates_today_come_from_its_triage_pass(client, alice, portfolio):
    services.portfolio_set_compliance_profiles(portfolio, profiles=["pci-dss-4.0.1", "mozilla-intermediate"])
    client.force_login(alice)
    url = f"/portfolios/{portfolio.pk}/"
    assert (passes_over_scans(client, url), triage_passes(client, url + "?sort=site")) == (0, 0)
    Site.objects.filter(portfolios=portfolio).update(compliance_failing=" pci-dss-4.0.1 ")
    services.sites_changed(owner_ids=[alice.pk])
    assert "2 of 2 sites fail PCI DSS" in page(client, url)


def test_a_verdict_re_evaluated_renews_the_version_of_its_owners_sites(alice, django_capture_on_commit_callbacks):
    from scanner.models import Scan

    scan = done_scan(Site.objects.create(owner=alice, hostname="a.example"), "B")
    verdict = Scan.objects.get(pk=scan.pk).compliance_failing
    other = "" if verdict else "pci-dss-4.0.1"
    Scan.objects.filter(pk=scan.pk).update(compliance_failing=other)  # as judged before the profiles changed
    with django_capture_on_commit_callbacks(execute=True):
        changed = services.refresh_compliance(Scan.objects.filter(pk=scan.pk))
    assert changed == 1
    assert SitesVersion.objects.filter(owner_id=alice.pk).exists()


def test_a_portfolio_page_reads_the_version_of_its_owners_sites_once(client, alice, portfolio):
    services.portfolio_set_compliance_profiles(portfolio, profiles=["pci-dss-4.0.1", "mozilla-intermediate"])
    client.force_login(alice)
    for _ in range(2):  # counting, then counts kept
        with CaptureQueriesContext(connection) as queries:
            page(client, f"/portfolios/{portfolio.pk}/")
        assert sum("scanner_sitesversion" in query["sql"] for query in queries.captured_queries) == 1
