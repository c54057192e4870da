"""Portfolio pages: list and create, one portfolio's sites, its rescan schedule, bulk import and export.
Every portfolio is looked up through scanner.selectors, so another user's portfolio is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from scanner import exports, imports, selectors, services
from scanner.compliance_selectors import portfolio_profiles
from scanner.models import Scan
from scanner.services import ScanRequestError, schedules
from scanner.services.bulk import bulk_import_request, bulk_scan_request, import_is_bulk, portfolio_scan_is_bulk

from . import compliance_views, report_view, triage
from .access import owned_portfolio
from .forms import ImportForm, PortfolioChannelsForm, PortfolioForm, ScheduleForm

EXPORT_FORMATS = {
    "csv": (exports.csv_lines, "text/csv; charset=utf-8"),
    "json": (exports.json_chunks, "application/json"),
}


@login_required
def portfolio_list(request):
    form = PortfolioForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            portfolio = services.portfolio_create(owner=request.user, name=form.cleaned_data["name"])
        except ScanRequestError:
            form.add_error("name", "You already have a portfolio with this name.")
        else:
            return redirect("dashboard:portfolio", portfolio_id=portfolio.pk)
    portfolios = selectors.portfolio_list(user=request.user)
    return render(request, "dashboard/portfolios.html", {"form": form, "portfolios": portfolios})


PORTFOLIO_ROWS_PER_PAGE = 100


@triage.one_version_per_page
def _detail_page(
    request, portfolio, *, schedule_form=None, import_form=None, import_report=None, channels_form=None, status=200
):
    from . import matrix
    from .summary import summary_context
    from .views import filtered_sites, query_without_page

    schedule = schedules.describe_schedule(portfolio)
    counts = triage.triage_counts(user=request.user, portfolio=portfolio)
    filters, paginator = filtered_sites(request, portfolio=portfolio, per_page=PORTFOLIO_ROWS_PER_PAGE, counts=counts)
    page = paginator.get_page(request.GET.get("page"))
    listed = list(page.object_list)  # plain rows (queries.matrix_page_rows)
    # On PostgreSQL each row brought its tags along.
    tags = (
        None
        if not listed or "tag_names" in listed[0]
        else selectors.tags_by_site(user=request.user, site_ids=[row["id"] for row in listed])
    )
    site_rows = report_view.matrix_rows(listed, tags)
    cells = matrix.matrix_cells(listed)
    state = selectors.portfolio_page_state(user=request.user, portfolio=portfolio)
    active = state.active_scans
    on_page = sum(1 for row in site_rows if row.last_status in Scan.ACTIVE_STATUSES)
    profiles = portfolio_profiles(portfolio)
    # Where the sites stand now, summed from the triage groups once: the compliance counts and today's point of
    # the history both read it.
    standing = triage.standing(counts, profiles)
    compliance = compliance_views.portfolio_context(
        portfolio, listed, profiles=profiles, standing=standing, site_count=counts["total"], evidence=state.evidence
    )
    context = {
        **compliance,
        "portfolio": portfolio,
        "filters": filters,
        "page": page,
        # The compliance columns (one per chosen profile) follow the checks.
        "rows": [
            (
                row,
                cells[row.site.pk] + compliance["compliance_cells"][row.site.pk],
            )
            for row in site_rows
        ],
        "columns": matrix.columns() + compliance["compliance_columns"],
        **summary_context(user=request.user, portfolio=portfolio, profiles=profiles, counts=counts, standing=standing),
        "active_scans": active,
        "active_on_page": on_page,
        "active_elsewhere": max(active - on_page, 0),
        "query_without_page": query_without_page(request),
        "schedule": schedule,
        "schedule_form": schedule_form or ScheduleForm(initial=schedule or {"kind": "off"}),
        "import_form": import_form or ImportForm(),
        "import_report": import_report,
        "channels_form": channels_form
        or PortfolioChannelsForm(
            user=request.user,
            initial={
                "notify_all": "all" if portfolio.notify_all_channels else "chosen",
                "channels": state.chosen_channel_ids,
            },
        ),
        # Also whether the form lists any channel to tick: its choices are the same channels of the same user.
        "has_channels": state.has_channels,
        "bulk_operation": state.bulk_operation,
    }
    return render(request, "dashboard/portfolio.html", context, status=status)


@login_required
@require_GET
def portfolio_detail(request, portfolio_id: int):
    return _detail_page(request, owned_portfolio(request, portfolio_id))


@login_required
@require_POST
def portfolio_schedule(request, portfolio_id: int):
    portfolio = owned_portfolio(request, portfolio_id)
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
    portfolio = owned_portfolio(request, portfolio_id)
    form = ImportForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        text = form.cleaned_data["text"]
        try:
            if import_is_bulk(text):
                operation = bulk_import_request(request.user, portfolio, text)
                return redirect("dashboard:bulk_operation", portfolio_id=portfolio.pk, operation_id=operation.pk)
            report = imports.import_sites(request.user, portfolio, text)
        except ScanRequestError as exc:
            form.add_error(None, exc.message)
    return _detail_page(request, portfolio, import_form=form, import_report=report, status=200 if report else 400)


@login_required
@require_GET
def portfolio_export(request, portfolio_id: int, file_format: str):
    portfolio = owned_portfolio(request, portfolio_id)
    if file_format not in EXPORT_FORMATS:
        raise Http404("Unknown export format.")
    chunks, content_type = EXPORT_FORMATS[file_format]
    response = StreamingHttpResponse(chunks(portfolio), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="portfolio-{portfolio.pk}.{file_format}"'
    return response


@login_required
@require_POST
def portfolio_scan(request, portfolio_id: int):
    """ "Scan portfolio now": every site is queued; sites that cannot be scanned are recorded as failed scans."""
    portfolio = owned_portfolio(request, portfolio_id)
    try:
        if portfolio_scan_is_bulk(portfolio):
            # A large portfolio: a worker requests the scans in batches while a progress page polls.
            operation = bulk_scan_request(portfolio)
            return redirect("dashboard:bulk_operation", portfolio_id=portfolio.pk, operation_id=operation.pk)
        outcomes = services.submit_portfolio_scans(portfolio)
    except services.ScanRequestError as exc:  # over the quota, or the account may not scan yet
        messages.error(request, exc.message)
        return redirect("dashboard:portfolio", portfolio_id=portfolio.pk)
    queued = sum(1 for _, scan, _ in outcomes if scan is not None)
    refused = [(site, error) for site, scan, error in outcomes if scan is None]
    messages.success(request, f"{queued} scan{'s' if queued != 1 else ''} queued.")
    if refused:
        messages.error(
            request,
            f"{len(refused)} site{'s' if len(refused) != 1 else ''} could not be scanned: "
            + "; ".join(f"{site}: {error}" for site, error in refused[:5])
            + (f" (and {len(refused) - 5} more, marked failed below)" if len(refused) > 5 else ""),
        )
    return redirect("dashboard:portfolio", portfolio_id=portfolio.pk)


@login_required
@require_POST
def portfolio_channels(request, portfolio_id: int):
    portfolio = owned_portfolio(request, portfolio_id)
    form = PortfolioChannelsForm(request.POST, user=request.user)
    if form.is_valid():
        services.portfolio_set_channels(
            portfolio, notify_all=form.cleaned_data["notify_all"] == "all", channels=list(form.cleaned_data["channels"])
        )
        messages.success(request, "Alert channels saved.")
        return redirect("dashboard:portfolio", portfolio_id=portfolio.pk)
    return _detail_page(request, portfolio, channels_form=form, status=400)
