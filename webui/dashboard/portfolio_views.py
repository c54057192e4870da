"""Portfolio pages: list and create, one portfolio's sites, its rescan schedule, bulk import and export.
Every portfolio is looked up through scanner.selectors, so another user's portfolio is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from scanner import exports, imports, schedules, selectors
from scanner.models import Portfolio
from scanner.services import ScanRequestError

from .forms import ImportForm, PortfolioForm, ScheduleForm

EXPORT_FORMATS = {
    "csv": (exports.csv_lines, "text/csv; charset=utf-8"),
    "json": (exports.json_chunks, "application/json"),
}


def _owned_portfolio(request, portfolio_id: int) -> Portfolio:
    portfolio = selectors.portfolio_get(user=request.user, portfolio_id=portfolio_id)
    if portfolio is None:  # someone else's portfolio and a missing one look the same
        raise Http404("No such portfolio.")
    return portfolio


@login_required
def portfolio_list(request):
    form = PortfolioForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        if selectors.portfolio_list(user=request.user).filter(name=name).exists():
            form.add_error("name", "You already have a portfolio with this name.")
        else:
            portfolio = Portfolio.objects.create(owner=request.user, name=name)
            return redirect("dashboard:portfolio", portfolio_id=portfolio.pk)
    portfolios = selectors.portfolio_list(user=request.user)
    return render(request, "dashboard/portfolios.html", {"form": form, "portfolios": portfolios})


def _detail_page(request, portfolio, *, schedule_form=None, import_form=None, import_report=None, status=200):
    schedule = schedules.describe_schedule(portfolio)
    context = {
        "portfolio": portfolio,
        "sites": portfolio.sites.select_related("latest_scan").order_by("hostname", "https_port"),
        "schedule": schedule,
        "schedule_form": schedule_form or ScheduleForm(initial=schedule or {"kind": "off"}),
        "import_form": import_form or ImportForm(),
        "import_report": import_report,
    }
    return render(request, "dashboard/portfolio.html", context, status=status)


@login_required
@require_GET
def portfolio_detail(request, portfolio_id: int):
    return _detail_page(request, _owned_portfolio(request, portfolio_id))


@login_required
@require_POST
def portfolio_schedule(request, portfolio_id: int):
    portfolio = _owned_portfolio(request, portfolio_id)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        kind, cron = form.cleaned_data["kind"], form.cleaned_data["cron"].strip()
        try:
            schedules.set_portfolio_schedule(portfolio, kind, cron if kind == "cron" else None)
        except ScanRequestError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Schedule saved.")
            return redirect("dashboard:portfolio", portfolio_id=portfolio.pk)
    return _detail_page(request, portfolio, schedule_form=form, status=400)


@login_required
@require_POST
def portfolio_import(request, portfolio_id: int):
    portfolio = _owned_portfolio(request, portfolio_id)
    form = ImportForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        try:
            report = imports.import_sites(request.user, portfolio, form.cleaned_data["text"])
        except ScanRequestError as exc:
            form.add_error(None, exc.message)
    return _detail_page(request, portfolio, import_form=form, import_report=report, status=200 if report else 400)


@login_required
@require_GET
def portfolio_export(request, portfolio_id: int, file_format: str):
    portfolio = _owned_portfolio(request, portfolio_id)
    if file_format not in EXPORT_FORMATS:
        raise Http404("Unknown export format.")
    chunks, content_type = EXPORT_FORMATS[file_format]
    response = StreamingHttpResponse(chunks(portfolio), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="portfolio-{portfolio.pk}.{file_format}"'
    return response
