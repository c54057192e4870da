"""Reads for a portfolio's day-by-day history: the standings kept per day, the done scans since, and where its
sites stand now. The portfolio passed in is already the user's (selectors.portfolio_get)."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count, Exists, OuterRef, Subquery

from scanner.models import Portfolio, PortfolioDay, Scan, Site

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


def portfolio_standing_now(portfolio: Portfolio) -> list[tuple[str, str, int]]:
    """Where the portfolio's sites stand now, from each one's latest done scan: (grade, failing profile ids as
    stored, sites), one row per distinct pair."""
    return list(
        Site.objects.filter(portfolios=portfolio, latest_scan__isnull=False)
        .values("latest_scan__security_grade", "latest_scan__compliance_failing")
        .annotate(sites=Count("pk"))
        .values_list("latest_scan__security_grade", "latest_scan__compliance_failing", "sites")
        .order_by()
    )
