"""A portfolio's compliance profiles: the choice of profiles, the matrix columns and the auditor's evidence."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from scanner import compliance_evidence, services
from scanner.compliance_pdf import portfolio_pdf
from scanner.compliance_selectors import compliance_counts, portfolio_profiles
from scanner.grading.compliance import PROFILES

from .access import owned_portfolio
from .matrix import Cell


class ComplianceProfilesForm(forms.Form):
    profiles = forms.MultipleChoiceField(
        label="Compliance profiles for this portfolio",
        required=False,
        choices=[(profile.id, f"{profile.title} {profile.version}") for profile in PROFILES.values()],
        widget=forms.CheckboxSelectMultiple,
    )


def portfolio_context(portfolio, sites: list) -> dict:
    """What the portfolio page adds: a matrix column and a count per chosen profile, and the chooser."""
    profiles = portfolio_profiles(portfolio)
    cells = {}
    for site in sites:
        failing = (site.latest_scan.compliance_failing or "").split() if site.latest_scan_id else []
        cells[site.pk] = [
            Cell("none")
            if not site.latest_scan_id
            else Cell("fail", [f"fails {PROFILES[profile].title}"])
            if profile in failing
            else Cell("pass")
            for profile in profiles
        ]
    return {
        "compliance_columns": [(profile, PROFILES[profile].short) for profile in profiles],
        "compliance_cells": cells,
        "compliance_counts": compliance_counts(portfolio=portfolio, profiles=profiles),
        "compliance_form": ComplianceProfilesForm(initial={"profiles": profiles}),
    }


@login_required
@require_POST
def portfolio_compliance(request, portfolio_id: int):
    portfolio = owned_portfolio(request, portfolio_id)
    form = ComplianceProfilesForm(request.POST)
    if form.is_valid():
        services.portfolio_set_compliance_profiles(portfolio, profiles=form.cleaned_data["profiles"])
        messages.success(request, "Compliance profiles saved.")
    else:
        messages.error(request, "Unknown compliance profile.")
    return redirect("dashboard:portfolio", portfolio_id=portfolio.pk)


@login_required
@require_GET
def portfolio_evidence(request, portfolio_id: int, file_format: str):
    portfolio = owned_portfolio(request, portfolio_id)
    filename = f"compliance-portfolio-{portfolio.pk}.{file_format}"
    if file_format == "csv":
        response = StreamingHttpResponse(
            compliance_evidence.csv_lines(portfolio), content_type="text/csv; charset=utf-8"
        )
    elif file_format == "pdf":
        response = HttpResponse(portfolio_pdf(portfolio), content_type="application/pdf")
    else:
        raise Http404("Unknown evidence format.")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
