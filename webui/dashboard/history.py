"""History for the charts: a site's scans over time, a portfolio's grade mix and compliance pass rates day by day."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from scanner import history_selectors, selectors, services
from scanner.grading.compliance import PROFILE_IDS, PROFILES
from scanner.models import Portfolio, PortfolioDay, Scan, Site

from . import charts
from .report_view import grade_css
from .triage import kept_for_sites

SITE_POINTS = 60  # the chart shows the latest this many finished scans
MIX_DAYS = 30
# A scan finished just before midnight may be committed just after it: a day is kept only once this has passed.
SETTLED_AFTER = timedelta(minutes=10)


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


def portfolio_days(
    portfolio: Portfolio, profiles: list[str], *, days: int = MIX_DAYS, standing_now: list[dict] | None = None
) -> list[dict]:
    """For each of the last `days` days, the portfolio as of the end of that day (each site's last done scan by
    then): its grade counts, how many sites had been evaluated and, per profile, how many of them failed it
    (Scan.compliance_failing, stored per scan).

    `standing_now`, when the caller counted it (history_selectors.portfolio_standing_now's rows for `profiles`,
    as triage.standing reads them from the page's triage pass), is today's point without a query of its own.

    Days that are over are kept (PortfolioDay, every profile counted) once counted; today is counted live from
    each site's latest done scan. So a page reads at most `days` kept rows and one count, and replays scans only
    for the days not kept yet (since the newest kept day; every scan the first time, or after a change that
    forgot the kept days).

    [{"day": date, "grades": Counter, "evaluated": int, "failing": {profile: int}}], oldest first.
    """
    now = timezone.now()
    today = now.date()
    start = today - timedelta(days=days - 1)
    kept = _usable_kept_days(history_selectors.portfolio_days_kept(portfolio, before=today, limit=days), start)
    base = kept[-1] if kept else None
    counted = _replayed_days(portfolio, base, start=start, today=today)
    settled = today if now - _midnight(today) >= SETTLED_AFTER else today - timedelta(days=1)
    if to_keep := [snapshot for snapshot in counted if snapshot["day"] < settled]:
        services.portfolio_days_keep(portfolio, to_keep)
    snapshots = (
        [_kept_snapshot(row) for row in kept] + counted + [_standing_now(portfolio, profiles, today, standing_now)]
    )
    return [
        {**snapshot, "failing": {profile: snapshot["failing"].get(profile, 0) for profile in profiles}}
        for snapshot in snapshots
        if snapshot["day"] >= start
    ]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _usable_kept_days(rows: list[PortfolioDay], start: date) -> list[PortfolioDay]:
    """Of the kept days (newest first), those to use as they are, oldest first: the newest, and before it every
    day back to `start` without a gap; none when there is a gap, or a profile was added since they were kept."""
    run: list[PortfolioDay] = []
    for row in rows:
        if run and (run[-1].day <= start or row.day != run[-1].day - timedelta(days=1)):
            break
        if not set(PROFILE_IDS) <= row.failing.keys():
            return []
        run.append(row)
    if run and start <= run[0].day and run[-1].day > start:
        return []
    return run[::-1]


def _kept_snapshot(row: PortfolioDay) -> dict:
    return {"day": row.day, "grades": +Counter(row.grades), "evaluated": row.evaluated, "failing": row.failing}


def _replayed_days(portfolio: Portfolio, base: PortfolioDay | None, *, start: date, today: date) -> list[dict]:
    """The days after the newest kept one (from `start` when none is kept) up to yesterday, each site's scans
    replayed in the order they finished (_replay).

    Usually there are none: a page keeps the days it replayed (portfolio_days). But in the first SETTLED_AFTER
    of a day yesterday is not kept yet, and every view would replay it (15-20 ms of SQL at 10,000 sites): the
    replay is kept by this process like the triage counts, while the portfolio's sites keep their version (a
    scan of yesterday committed after midnight renews it, scanner.services.site_took_result)."""
    first = base.day + timedelta(days=1) if base else start
    if first >= today:
        return []
    return kept_for_sites(
        portfolio.owner_id,
        ("replayed", portfolio.pk, base.day if base else None, first, today),
        lambda: _replay(portfolio, base, first=first, today=today),
    )


def _replay(portfolio: Portfolio, base: PortfolioDay | None, *, first: date, today: date) -> list[dict]:
    """Only the sites scanned since the kept day need their standing then."""
    since = _midnight(first) if base else None
    scans = history_selectors.portfolio_done_scans(portfolio, since=since, until=_midnight(today))
    current: dict[int, tuple[str, set[str]]] = {}
    grades: Counter[str] = Counter(base.grades if base else {})
    failing: Counter[str] = Counter(base.failing if base else {})
    evaluated = base.evaluated if base else 0
    if base and scans:
        for site_id, _, grade, failing_ids in history_selectors.portfolio_scans_before(
            portfolio, before=_midnight(first), rescanned_until=_midnight(today)
        ):
            current[site_id] = (grade, set(failing_ids.split()) & set(PROFILE_IDS))
    snapshots = []
    index = 0
    for offset in range((today - first).days):
        day = first + timedelta(days=offset)
        while index < len(scans) and scans[index][1].date() <= day:
            site_id, _, grade, failing_ids = scans[index]
            # Counted incrementally: a site's new scan replaces what its previous one counted.
            if site_id in current:
                old_grade, old_failing = current[site_id]
                grades[old_grade] -= 1
                failing.subtract(old_failing)
            else:
                evaluated += 1
            new_failing = set(failing_ids.split()) & set(PROFILE_IDS)
            current[site_id] = (grade, new_failing)
            grades[grade] += 1
            failing.update(new_failing)
            index += 1
        snapshots.append(
            {
                "day": day,
                "grades": +grades,  # unary plus drops the grades no site holds any more
                "evaluated": evaluated,
                "failing": {profile: failing[profile] for profile in PROFILE_IDS},
            }
        )
    return snapshots


def _standing_now(portfolio: Portfolio, profiles: list[str], today: date, standing: list[dict] | None) -> dict:
    if standing is None:
        standing = history_selectors.portfolio_standing_now(portfolio, profiles)
    return {
        "day": today,
        "grades": +Counter({row["grade"]: row["sites"] for row in standing}),
        "evaluated": sum(row["sites"] for row in standing),
        "failing": {profile: sum(row[profile] for row in standing) for profile in profiles},
    }


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


def portfolio_charts(portfolio: Portfolio, profiles: list[str], *, standing_now: list[dict] | None = None) -> dict:
    """The portfolio page's history: the grade mix per day and each chosen profile's pass rate per day."""
    snapshots = portfolio_days(portfolio, profiles, standing_now=standing_now)
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
