"""History for the charts: a site's scans over time and a portfolio's grade mix day by day."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.utils import timezone

from scanner import selectors
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


def portfolio_mix(portfolio: Portfolio, *, days: int = MIX_DAYS) -> list[dict]:
    """For each of the last `days` days: each site's grade as of the end of that day (its last done scan by
    then), counted per grade. Sites not graded by that day are left out of that day's column."""
    today = timezone.now().date()
    start = today - timedelta(days=days - 1)
    site_ids = list(portfolio.sites.values_list("pk", flat=True))
    scans = (
        Scan.objects.filter(site_id__in=site_ids, status=Scan.Status.DONE, finished_at__isnull=False)
        .order_by("finished_at")
        .values_list("site_id", "finished_at", "security_grade")
    )
    current: dict[int, str] = {}
    snapshots = []
    pending = list(scans)
    index = 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        while index < len(pending) and pending[index][1].date() <= day:
            site_id, _, grade = pending[index]
            current[site_id] = grade
            index += 1
        counts = Counter(grade for grade in current.values() if grade)
        if counts:
            rows = [{"grade": grade, "count": count, "css": grade_css(grade)} for grade, count in counts.items()]
            snapshots.append({"day": day, "rows": rows})
    return snapshots


def portfolio_mix_chart(portfolio: Portfolio):
    snapshots = portfolio_mix(portfolio)
    if len(snapshots) < 1:
        return ""
    return charts.grade_mix_chart(snapshots, f"Grade mix of {portfolio.name} per day over the last {MIX_DAYS} days")
