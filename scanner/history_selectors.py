"""Reads for a portfolio's day-by-day history: the standings kept per day, the done scans since, and where its
sites stand now. The portfolio passed in is already the user's (selectors.portfolio_get)."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count, Exists, OuterRef, Subquery

from scanner.models import Portfolio, PortfolioDay, Scan, Site
from scanner.selectors import fails_profile

# (site id, finished at, security grade, failing profile ids as stored): one done scan as the history counts it.
ScanMark = tuple[int, datetime, str, str]


def portfolio_days_kept(portfolio: Portfolio, *, before: date, limit: int) -> list[PortfolioDay]:
    """The latest `limit` kept days before `before`, newest first."""
    return list(PortfolioDay.objects.filter(portfolio=portfolio, day__lt=before).order_by("-day")[:limit])


def portfolio_done_scans(portfolio: Portfolio, *, since: datetime | None, until: datetime) -> list[ScanMark]:
    """The done scans of the portfolio's sites finished in [since, until) (since None: from the first), oldest
    first. A join through the portfolio's sites, not a list of their ids fetched first: one query, not two."""
    scans = Scan.objects.filter(site__portfolios=portfolio, status=Scan.Status.DONE, finished_at__lt=until)
    if since is not None:
        scans = scans.filter(finished_at__gte=since)
    return list(
        scans.order_by("finished_at").values_list("site_id", "finished_at", "security_grade", "compliance_failing")
    )


def portfolio_scans_before(portfolio: Portfolio, *, before: datetime, rescanned_until: datetime) -> list[ScanMark]:
    """For each site of the portfolio with a done scan in [before, rescanned_until), its last done scan before
    `before` (sites with none before are left out): what those later scans replace."""
    done = Scan.objects.filter(site=OuterRef("pk"), status=Scan.Status.DONE)
    rescanned = Site.objects.filter(portfolios=portfolio).filter(
        Exists(done.filter(finished_at__gte=before, finished_at__lt=rescanned_until))
    )
    last_before = done.filter(finished_at__lt=before).order_by("-finished_at", "-pk").values("pk")[:1]
    return list(
        Scan.objects.filter(pk__in=rescanned.annotate(last=Subquery(last_before)).values("last")).values_list(
            "site_id", "finished_at", "security_grade", "compliance_failing"
        )
    )


def portfolio_standing_now(portfolio: Portfolio, profiles: list[str]) -> list[dict]:
    """Where the portfolio's sites stand now, by each one's latest done scan: per grade (Site.grade, that scan's
    grade as scanner.services keeps it), how many sites hold it and how many of them fail each of `profiles`.
    Only the profiles' counts read the scans: {"grade", "sites", profile: failing, ...} per grade."""
    counts = {"sites": Count("pk")} | {
        f"fails_{index}": Count("pk", filter=fails_profile(profile)) for index, profile in enumerate(profiles)
    }
    rows = Site.objects.filter(portfolios=portfolio, latest_scan__isnull=False).order_by().values("grade")
    return [
        {"grade": row["grade"], "sites": row["sites"]}
        | {profile: row[f"fails_{index}"] for index, profile in enumerate(profiles)}
        for row in rows.annotate(**counts)
    ]
