"""The dashboard's access checks: "this user's portfolio / site, or 404". Someone else's row and a missing one
look the same, so ids cannot be probed."""

from __future__ import annotations

from django.http import Http404

from scanner import selectors
from scanner.models import Portfolio, Site

MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints; a larger number is no id, not a database error


def url_id(text: str) -> int:
    """An id typed in a URL: ASCII digits only (str.isdigit() accepts '²', which int() then refuses)."""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        raise ValueError(f"'{text[:20]}' is not an id.")
    return int(text)


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
