"""The dashboard's access checks: "this user's portfolio / site, or 404". Someone else's row and a missing one
look the same, so ids cannot be probed."""

from __future__ import annotations

from django.http import Http404

from scanner import selectors
from scanner.models import Portfolio, Site


def owned_portfolio(request, portfolio_id: int) -> Portfolio:
    portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
    if portfolio is None:
        raise Http404("No such portfolio.")
    return portfolio


def owned_site(request, site_id: int) -> Site:
    site = selectors.site_get(user=request.user, site_id=site_id)
    if site is None:
        raise Http404("No such site.")
    return site
