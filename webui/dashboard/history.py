"""History for the charts: a site's scans over time, a portfolio's grade mix and compliance pass rates day by day."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.utils import timezone

from scanner import selectors
from scanner.grading.compliance import PROFILES
from scanner.models import Portfolio, Scan, Site

from . import charts
from .report_view import grade_css

SITE_POINTS = 60  # the chart shows the latest this many finished scans
MIX_DAYS = 30


def site_points(*, user, site: Site) -> list[dict]:
    scans = list(
        selectors.scan_list(user=user, site=site)
        .filter(status=Scan.Status.DONE, finished_at__isnull=False)
        .order_by("-finished_at")
        .only("finished_at", "security_grade", "score", "seo_score", "site")[:SITE_POINTS]
    )
    scans.reverse()
    return [
        {
            "when": scan.finished_at,
            "grade": scan.security_grade,
            "score": scan.score,
            "seo": scan.seo_score,
            "css": grade_css(scan.security_grade),
        }
        for scan in scans
    ]


def site_chart(*, user, site: Site):
    points = site_points(user=user, site=site)
    return charts.history_chart(points, f"Score and SEO score of {site} over its last {len(points)} scans"), points


def portfolio_days(portfolio: Portfolio, profiles: list[str], *, days: int = MIX_DAYS) -> list[dict]:
    """For each of the last `days` days, the portfolio as of the end of that day (each site's last done scan by
    then): its grade counts, how many sites had been evaluated and, per profile, how many of them failed it
    (Scan.compliance_failing, stored per scan). One query for every chart of the portfolio page.

    [{"day": date, "grades": Counter, "evaluated": int, "failing": {profile: int}}], oldest first.
    """
    today = timezone.now().date()
    start = today - timedelta(days=days - 1)
    scans = list(
        # A join through the portfolio's sites, not a list of their ids fetched first: one query, not two.
        Scan.objects.filter(site__portfolios=portfolio, status=Scan.Status.DONE, finished_at__isnull=False)
        .order_by("finished_at")
        .values_list("site_id", "finished_at", "security_grade", "compliance_failing")
    )
    current: dict[int, tuple[str, set[str]]] = {}
    grades: Counter[str] = Counter()
    failing: Counter[str] = Counter()
    snapshots = []
    index = 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        while index < len(scans) and scans[index][1].date() <= day:
            site_id, _, grade, failing_ids = scans[index]
            # Counted incrementally: a site's new scan replaces what its previous one counted.
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
                "grades": +grades,  # unary plus drops the grades no site holds any more
                "evaluated": len(current),
                "failing": {profile: failing[profile] for profile in profiles},
            }
        )
    return snapshots


def portfolio_mix(snapshots: list[dict]) -> list[dict]:
    """Each day's grade counts among the sites graded by then; days before any site was graded are left out."""
    mix = []
    for snapshot in snapshots:
        rows = [
            {"grade": grade, "count": count, "css": grade_css(grade)}
            for grade, count in snapshot["grades"].items()
            if grade
        ]
        if rows:
            mix.append({"day": snapshot["day"], "rows": rows})
    return mix


def pass_rates(snapshots: list[dict], profiles: list[str]) -> list[dict]:
    """Per profile, the share of evaluated sites meeting it on each day (None before any site was evaluated),
    and the latest figures for the text beside the chart."""
    series = []
    for index, profile in enumerate(profiles):
        rates = [
            100 * (day["evaluated"] - day["failing"][profile]) / day["evaluated"] if day["evaluated"] else None
            for day in snapshots
        ]
        last = snapshots[-1] if snapshots else {"evaluated": 0, "failing": {profile: 0}}
        series.append(
            {
                "profile": profile,
                "short": PROFILES[profile].short,
                "style": index % charts.RATE_STYLES,  # the line's colour, and its swatch's in the legend
                "rates": rates,
                "latest": rates[-1] if rates else None,
                "first": next((rate for rate in rates if rate is not None), None),
                "evaluated": last["evaluated"],
                "passing": last["evaluated"] - last["failing"][profile],
            }
        )
    return series


def portfolio_charts(portfolio: Portfolio, profiles: list[str]) -> dict:
    """The portfolio page's history: the grade mix per day and each chosen profile's pass rate per day."""
    snapshots = portfolio_days(portfolio, profiles)
    mix = portfolio_mix(snapshots)
    series = pass_rates(snapshots, profiles)
    with_data = any(rate is not None for line in series for rate in line["rates"])
    return {
        "mix_history": charts.grade_mix_chart(
            mix, f"Grade mix of {portfolio.name} per day over the last {MIX_DAYS} days"
        )
        if mix
        else "",
        "pass_rate_history": charts.pass_rate_chart(
            [snapshot["day"] for snapshot in snapshots],
            series,
            f"Pass rate per compliance profile of {portfolio.name} per day over the last {MIX_DAYS} days",
        )
        if with_data
        else "",
        "pass_rate_series": series if with_data else [],
    }
