"""Keeping and forgetting portfolios' daily standings (scanner.history_models.PortfolioDay).

Days are counted by the dashboard when it first needs them (webui/dashboard/history.py) and kept here once they
are over; whatever changes a past day's answer forgets the rows from that day on, so they are counted again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from scanner.models import Portfolio, PortfolioDay

KEEP_DAYS = 60  # rows older than this are never read again (the history shows 30 days)


def portfolio_days_keep(portfolio: Portfolio, snapshots: list[dict]) -> None:
    """Store finished days' standings ({"day", "grades", "evaluated", "failing"}), replacing any kept before."""
    if not snapshots:
        return
    PortfolioDay.objects.bulk_create(
        [
            PortfolioDay(
                portfolio=portfolio,
                day=snapshot["day"],
                grades=dict(snapshot["grades"]),
                evaluated=snapshot["evaluated"],
                failing=dict(snapshot["failing"]),
            )
            for snapshot in snapshots
        ],
        update_conflicts=True,
        unique_fields=["portfolio", "day"],
        update_fields=["grades", "evaluated", "failing"],
    )
    newest = max(snapshot["day"] for snapshot in snapshots)
    PortfolioDay.objects.filter(portfolio=portfolio, day__lt=newest - timedelta(days=KEEP_DAYS)).delete()


def portfolio_days_forget(
    *, portfolio_ids: Iterable[int] | None = None, site_id: int | None = None, since: date | None = None
) -> None:
    """Forget kept standings: of these portfolios, or of every portfolio holding this site (all when neither is
    given), from `since` on (every day when None)."""
    days = PortfolioDay.objects.all()
    if portfolio_ids is not None:
        days = days.filter(portfolio_id__in=list(portfolio_ids))
    if site_id is not None:
        days = days.filter(portfolio__sites=site_id)
    if since is not None:
        days = days.filter(day__gte=since)
    # A join in a DELETE is not allowed: delete by primary key.
    PortfolioDay.objects.filter(pk__in=list(days.values_list("pk", flat=True))).delete()
