"""A portfolio's 30-day history is read from the days kept per portfolio (PortfolioDay) plus today counted live,
and says exactly what replaying every scan of its sites says: on first sight, once kept, after days passed, and
after the changes that rewrite past days (a site joining, leaving or deleted, a result copied from an earlier day,
re-evaluated compliance)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scanner import imports, services
from scanner.grading.compliance import PROFILE_IDS
from scanner.models import Portfolio, PortfolioDay, Scan
from tests.grading_factories import http, scan
from tests.test_compliance_api import OLD_TLS, rescan, stored
from webui.dashboard import history

pytestmark = pytest.mark.django_db

PROFILES = ["pci-dss-4.0.1", "mozilla-intermediate"]
GOOD, OLD, NO_HSTS = scan(), scan(OLD_TLS), scan(http_result=http(hsts=None))


def every_scan_replayed(portfolio: Portfolio, profiles: list[str], days: int = history.MIX_DAYS) -> list[dict]:
    """The history as the page computed it before days were kept: every done scan of the portfolio's sites,
    replayed in the order they finished (the reference the kept days must match)."""
    today = timezone.now().date()
    start = today - timedelta(days=days - 1)
    scans = list(
        Scan.objects.filter(site__portfolios=portfolio, status=Scan.Status.DONE, finished_at__isnull=False)
        .order_by("finished_at")
        .values_list("site_id", "finished_at", "security_grade", "compliance_failing")
    )
    current: dict[int, tuple[str, set[str]]] = {}
    grades: Counter[str] = Counter()
    failing: Counter[str] = Counter()
    snapshots, index = [], 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        while index < len(scans) and scans[index][1].date() <= day:
            site_id, _, grade, failing_ids = scans[index]
            if site_id in current:
                old_grade, old_failing = current[site_id]
                grades[old_grade] -= 1
                failing.subtract(old_failing)
            new_failing = set(failing_ids.split()) & set(profiles)
            current[site_id] = (grade, new_failing)
            grades[grade] += 1
            failing.update(new_failing)
            index += 1
        snapshots.append(
            {
                "day": day,
                "grades": +grades,
                "evaluated": len(current),
                "failing": {profile: failing[profile] for profile in profiles},
            }
        )
    return snapshots


def scanned(site_or_owner, host: str | None, result, days_ago: int) -> Scan:
    """A result stored through the services, then dated `days_ago` days back (call oldest first)."""
    done = stored(site_or_owner, host, result) if host else rescan(site_or_owner, result)
    if days_ago:
        Scan.objects.filter(pk=done.pk).update(finished_at=timezone.now() - timedelta(days=days_ago))
    return done


@pytest.fixture
def shops(alice) -> Portfolio:
    """Five sites scanned on and off over six weeks, grades and compliance verdicts changing; one scanned today."""
    portfolio = Portfolio.objects.create(owner=alice, name="Shops", compliance_profiles=PROFILES)
    sites = [
        scanned(alice, f"shop{n}.example", result, ago).site
        for n, (result, ago) in enumerate([(GOOD, 45), (OLD, 40), (NO_HSTS, 20), (GOOD, 12), (OLD, 3)])
    ]
    for site, result, ago in [
        (sites[0], OLD, 25),
        (sites[1], GOOD, 25),
        (sites[0], NO_HSTS, 10),
        (sites[2], GOOD, 10),
        (sites[1], OLD, 5),
        (sites[3], OLD, 2),
        (sites[0], GOOD, 0),
    ]:
        scanned(site, None, result, ago)
    portfolio.sites.add(*sites)
    return portfolio


def test_first_sight_equals_replaying_every_scan(shops):
    assert history.portfolio_days(shops, PROFILES) == every_scan_replayed(shops, PROFILES)


def test_days_that_are_over_are_kept_and_today_is_not(shops):
    history.portfolio_days(shops, PROFILES)
    kept = list(PortfolioDay.objects.filter(portfolio=shops).order_by("day").values_list("day", flat=True))
    today = timezone.now().date()
    assert kept[-1] in (today - timedelta(days=1), today - timedelta(days=2))  # yesterday once it has settled
    assert today not in kept and len(kept) >= history.MIX_DAYS - 2


def test_kept_days_are_read_instead_of_the_scans(shops):
    first = history.portfolio_days(shops, PROFILES)
    with CaptureQueriesContext(connection) as queries:
        again = history.portfolio_days(shops, PROFILES)
    assert again == first == every_scan_replayed(shops, PROFILES)
    if history.SETTLED_AFTER <= timezone.now() - timezone.now().replace(hour=0, minute=0, second=0, microsecond=0):
        assert len(queries) == 2  # the kept days, and where the sites stand now


def test_every_profile_is_kept_whichever_the_page_chose(shops):
    history.portfolio_days(shops, ["pci-dss-4.0.1"])
    assert history.portfolio_days(shops, list(PROFILE_IDS)) == every_scan_replayed(shops, list(PROFILE_IDS))


def test_days_passed_since_the_newest_kept_one_are_replayed_from_the_scans_since(shops):
    history.portfolio_days(shops, PROFILES)
    newest = timezone.now().date() - timedelta(days=7)
    PortfolioDay.objects.filter(portfolio=shops, day__gt=newest).delete()  # as if last read a week ago
    assert history.portfolio_days(shops, PROFILES) == every_scan_replayed(shops, PROFILES)
    assert PortfolioDay.objects.filter(portfolio=shops, day__gt=newest).count() >= 5


def test_a_gap_in_the_kept_days_is_counted_again(shops):
    history.portfolio_days(shops, PROFILES)
    PortfolioDay.objects.filter(portfolio=shops, day=timezone.now().date() - timedelta(days=15)).delete()
    PortfolioDay.objects.filter(portfolio=shops, day=timezone.now().date() - timedelta(days=16)).update(evaluated=99)
    assert history.portfolio_days(shops, PROFILES) == every_scan_replayed(shops, PROFILES)


def test_a_rescan_today_shows_today_without_touching_the_kept_days(shops):
    history.portfolio_days(shops, PROFILES)
    rescan(shops.sites.get(hostname="shop4.example"), GOOD)
    assert history.portfolio_days(shops, PROFILES) == every_scan_replayed(shops, PROFILES)


def test_a_site_joining_the_portfolio_counts_on_every_past_day(alice, shops):
    history.portfolio_days(shops, PROFILES)
    newcomer = scanned(alice, "new.example", OLD, 18).site
    services.portfolio_add_site(shops, site=newcomer)
    assert history.portfolio_days(shops, PROFILES) == every_scan_replayed(shops, PROFILES)


def test_a_site_imported_into_the_portfolio_counts_on_every_past_day(alice, shops):
    history.portfolio_days(shops, PROFILES)
    scanned(alice, "imported.example", NO_HSTS, 8)
    assert imports.import_sites(alice, shops, "imported.example\n").created == 1
    assert history.portfolio_days(shops, PROFILES) == every_scan_replayed(shops, PROFILES)


def test_a_site_leaving_the_portfolio_leaves_every_past_day(shops):
    history.portfolio_days(shops, PROFILES)
    services.portfolio_remove_site(shops, site=shops.sites.get(hostname="shop1.example"))
    assert history.portfolio_days(shops, PROFILES) == every_scan_replayed(shops, PROFILES)


def test_a_deleted_site_leaves_every_past_day(shops):
    history.portfolio_days(shops, PROFILES)
    services.site_delete(shops.sites.get(hostname="shop2.example"))
    assert history.portfolio_days(shops, PROFILES) == every_scan_replayed(shops, PROFILES)


def test_a_result_recorded_for_an_earlier_day_recounts_the_days_since(shops):
    history.portfolio_days(shops, PROFILES)
    site = shops.sites.get(hostname="shop3.example")
    original = stored(site.owner, "copy-source.example", OLD)
    copy = Scan.objects.create(
        site=site,
        status=Scan.Status.DONE,
        finished_at=timezone.now() - timedelta(days=4),
        security_grade=original.security_grade,
        compliance_failing=original.compliance_failing,
        result=original.result,
    )
    services.site_took_result(copy)  # as a result copied from another account's recent scan is recorded
    assert history.portfolio_days(shops, PROFILES) == every_scan_replayed(shops, PROFILES)


def test_refreshed_compliance_verdicts_recount_the_kept_days(shops):
    history.portfolio_days(shops, PROFILES)
    Scan.objects.filter(site__portfolios=shops).update(compliance_failing=" pci-dss-4.0.1 ")
    assert services.refresh_compliance(Scan.objects.filter(site__portfolios=shops, status=Scan.Status.DONE)) > 0
    assert history.portfolio_days(shops, PROFILES) == every_scan_replayed(shops, PROFILES)


def just_after_midnight(monkeypatch) -> None:
    """The clock set to 00:05 tomorrow: today is yesterday, and not settled yet (history.SETTLED_AFTER)."""
    tomorrow = timezone.now().date() + timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: datetime.combine(tomorrow, time(0, 5), tzinfo=UTC))


def scans_replayed(queries: CaptureQueriesContext) -> int:
    return sum('"finished_at"' in query["sql"] and "scanner_scan" in query["sql"] for query in queries)


def test_yesterday_not_yet_settled_is_replayed_once_not_on_every_view(shops, monkeypatch):
    history.portfolio_days(shops, PROFILES)  # the days before today kept
    just_after_midnight(monkeypatch)
    first = history.portfolio_days(shops, PROFILES)
    with CaptureQueriesContext(connection) as queries:
        again = history.portfolio_days(shops, PROFILES)
    assert again == first == every_scan_replayed(shops, PROFILES)
    assert scans_replayed(queries) == 0
    assert timezone.now().date() - timedelta(days=1) not in {row.day for row in PortfolioDay.objects.all()}


def test_a_scan_of_yesterday_committed_after_midnight_is_replayed_on_the_next_view(shops, monkeypatch):
    history.portfolio_days(shops, PROFILES)
    just_after_midnight(monkeypatch)
    history.portfolio_days(shops, PROFILES)
    late = rescan(shops.sites.get(hostname="shop4.example"), GOOD)
    Scan.objects.filter(pk=late.pk).update(finished_at=timezone.now() - timedelta(minutes=6))  # 23:59 yesterday
    assert history.portfolio_days(shops, PROFILES) == every_scan_replayed(shops, PROFILES)


def charts_on(page: str) -> list[str]:
    return [part.split("</svg>")[0] for part in page.split("<svg")[1:]]


def test_the_portfolio_page_draws_the_same_charts_from_kept_days(client, alice, shops):
    client.force_login(alice)
    url = f"/portfolios/{shops.pk}/"
    first = client.get(url).content.decode()
    assert PortfolioDay.objects.filter(portfolio=shops).exists()
    assert charts_on(client.get(url).content.decode()) == charts_on(first)
    assert "Grade mix of Shops per day" in first and "Pass rate per compliance profile of Shops" in first
