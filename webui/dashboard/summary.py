"""The summary above a site list (triage counts and grade mix), also served alone so the live progress
(static/dashboard/progress.js) redraws it when a scan ends instead of leaving the numbers of page load."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from scanner.compliance_selectors import portfolio_profiles

from . import charts, history, triage
from .access import owned_portfolio, url_id


def summary_context(
    *,
    user,
    portfolio=None,
    profiles: list[str] | None = None,
    counts: dict | None = None,
    standing: list[dict] | None = None,
) -> dict:
    """The summary's numbers; a portfolio page passes what it already has (its triage `counts`, its chosen
    `profiles` and its `standing` from them: triage.standing)."""
    if counts is None:
        # Asked for when a scan has just ended: counted again, not taken from what this process kept, in case
        # the scan's worker has committed the scan but not yet renewed the version of its owner's sites.
        counts = triage.triage_counts(user=user, portfolio=portfolio, recount=True)
    distribution = triage.grade_distribution(user=user, portfolio=portfolio, counts=counts)
    context = {"counts": counts, "distribution": distribution}
    if portfolio is not None:
        context["mix_bar"] = charts.stacked_mix(distribution, f"Grade mix of {portfolio.name}")
        # The grade mix and each chosen profile's pass rate per day (history.portfolio_charts); today's point
        # comes from the triage pass already made.
        chosen = profiles if profiles is not None else portfolio_profiles(portfolio)
        if standing is None:
            standing = triage.standing(counts, chosen)
        context.update(history.portfolio_charts(portfolio, chosen, standing_now=standing))
    return context


@login_required
@require_GET
def summary(request):
    """The overview's summary, or with ?portfolio=ID that portfolio's, as an HTML fragment."""
    portfolio_id = request.GET.get("portfolio", "")
    if not portfolio_id:
        return render(request, "dashboard/_overview_summary.html", summary_context(user=request.user))
    try:
        portfolio = owned_portfolio(request, url_id(portfolio_id))
    except ValueError:  # not an id at all ('²' passes str.isdigit())
        raise Http404("No such portfolio.") from None
    return render(
        request,
        "dashboard/_portfolio_summary.html",
        {"portfolio": portfolio, **summary_context(user=request.user, portfolio=portfolio)},
    )
