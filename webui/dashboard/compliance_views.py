"""A portfolio's compliance profiles: the choice of profiles, the matrix columns and the auditor's evidence.

The PDF of a portfolio up to SCANNER_EVIDENCE_INLINE_LIMIT sites is built inside the request; a larger one is
built by a worker: "Generate compliance report (PDF)" queues it, the page shows its progress
(static/dashboard/evidence.js polls evidence_status) and offers the download when it is stored."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from scanner import compliance_evidence, services
from scanner.compliance_pdf import portfolio_pdf
from scanner.compliance_selectors import compliance_counts, evidence_get
from scanner.grading.compliance import PROFILES

from .access import owned_portfolio
from .matrix import Cell
from .remembered_widgets import RememberedWidgets


class ComplianceProfilesForm(forms.Form):
    # Drawn on every portfolio page: each distinct widget (plain contexts only) is rendered once.
    default_renderer = RememberedWidgets()

    profiles = forms.MultipleChoiceField(
        label="Compliance profiles for this portfolio",
        required=False,
        choices=[(profile.id, f"{profile.title} {profile.version}") for profile in PROFILES.values()],
        widget=forms.CheckboxSelectMultiple,
    )


def portfolio_context(
    portfolio, rows: list[dict], *, profiles: list[str], standing: list[dict], site_count: int, evidence
) -> dict:
    """What the portfolio page adds: a matrix column and a count per chosen profile (`profiles`, as
    portfolio_profiles gives them), the chooser, and the worker-built report of a large portfolio (`evidence`,
    its newest, read with the page's other state: selectors.portfolio_page_state). `rows` are the page's sites
    as queries.matrix_page_rows reads them; `standing` the portfolio's standing now (triage.standing), from
    which the counts per profile are summed."""
    cells = {}
    for row in rows:
        scanned = bool(row["latest_scan_id"])
        failing = (row["latest_scan__compliance_failing"] or "").split() if scanned else []
        cells[row["id"]] = [
            Cell("none")
            if not scanned
            else Cell("fail", [f"fails {PROFILES[profile].title}"])
            if profile in failing
            else Cell("pass")
            for profile in profiles
        ]
    return {
        "compliance_columns": [(profile, PROFILES[profile].short) for profile in profiles],
        "compliance_cells": cells,
        "compliance_counts": compliance_counts(portfolio=portfolio, profiles=profiles, standing=standing),
        "compliance_form": ComplianceProfilesForm(initial={"profiles": profiles}),
        "evidence_by_worker": services.evidence_is_built_by_worker(portfolio, site_count=site_count),
        "evidence": evidence,
        # Lost with its worker or message: the button works again (asking replaces it).
        "evidence_stuck": evidence is not None and services.evidence_abandoned(evidence),
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
        if services.evidence_is_built_by_worker(portfolio):
            messages.info(request, "This portfolio is large: its compliance report is built in the background.")
            return redirect(reverse("dashboard:portfolio", args=[portfolio.pk]) + "#evidence")
        response = HttpResponse(portfolio_pdf(portfolio), content_type="application/pdf")
    else:
        raise Http404("Unknown evidence format.")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def evidence_status_body(portfolio, evidence) -> dict:
    """What evidence.js polls: the state, the progress and, once stored, where to download the file."""
    done = evidence.status == evidence.Status.DONE
    return {
        "id": evidence.pk,
        "status": evidence.status,
        "progress": evidence.progress,
        "sites_done": evidence.sites_done,
        "sites_total": evidence.sites_total,
        "error": evidence.error,
        "download_url": reverse("dashboard:evidence_download", args=[portfolio.pk, evidence.pk]) if done else "",
    }


@login_required
@require_POST
def evidence_generate(request, portfolio_id: int):
    portfolio = owned_portfolio(request, portfolio_id)
    services.evidence_request(portfolio)
    return redirect(reverse("dashboard:portfolio", args=[portfolio.pk]) + "#evidence")


@login_required
@require_GET
def evidence_status(request, portfolio_id: int, evidence_id: int):
    portfolio = owned_portfolio(request, portfolio_id)
    evidence = evidence_get(portfolio, evidence_id)
    if evidence is None:
        raise Http404("No such report.")
    return JsonResponse(evidence_status_body(portfolio, evidence))


@login_required
@require_GET
def evidence_download(request, portfolio_id: int, evidence_id: int):
    portfolio = owned_portfolio(request, portfolio_id)
    evidence = evidence_get(portfolio, evidence_id, with_content=True)
    if evidence is None or evidence.status != evidence.Status.DONE or evidence.content is None:
        raise Http404("This report is not ready.")
    response = HttpResponse(bytes(evidence.content), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="compliance-portfolio-{portfolio.pk}-{evidence.finished_at:%Y%m%d-%H%M}.pdf"'
    )
    return response
