"""Dashboard pages. Reads go through scanner.selectors and writes through scanner.services, so every
query here is scoped to the logged-in user by construction."""

from __future__ import annotations

import math
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from scanner import config, selectors, services
from scanner.models import Scan
from webui.api.throttling import client_address

from . import history as site_history
from . import queries, report_view, triage
from .access import owned_site, url_id
from .forms import OverviewFilterForm, SignupForm, SubmitForm
from .top_issue import top_issues

SITES_PER_PAGE = 50
HISTORY_LENGTH = 20


def filtered_sites(request, *, portfolio=None, per_page: int = SITES_PER_PAGE, counts: dict | None = None):
    """The overview's and the portfolio page's filters applied to the user's sites: (form, paginator of the
    matching sites in the chosen order; the portfolio page's as plain rows with the matrix's checks
    (queries.matrix_page_rows, or queries.MatrixPage), the overview's as sites with each site's top issue).
    `counts`, triage_counts of the same sites (the user's on the overview, the portfolio's on its page),
    counts the matching sites when the filters are ones it grouped by."""
    filters = OverviewFilterForm(request.GET, user=request.user, with_portfolio=portfolio is None)
    filters.is_valid()  # an invalid filter is shown as an error and ignored; the valid ones still apply
    chosen = filters.cleaned_data
    checks = portfolio is not None
    # The overview's counts are the user's: a portfolio chosen in its filters narrows the sites beyond them.
    counts = None if portfolio is None and chosen.get("portfolio") else counts
    if portfolio is None and chosen.get("portfolio"):
        portfolio = selectors.portfolio_get(user=request.user, portfolio_id=chosen["portfolio"])
    matching = {
        "user": request.user,
        "grade": chosen.get("grade", ""),
        "failing": chosen.get("failing", False),
        "expiring_within": chosen.get("expiring"),
        "portfolio": portfolio,
        "tag": chosen.get("tag", ""),
        "search": chosen.get("q", ""),
        "fails": chosen.get("fails", ""),
    }
    if checks and not any(matching[name] for name in ("tag", "search", "fails")):  # the filters triage counts
        sites = queries.MatrixPage(
            user=request.user,
            portfolio=portfolio,
            sort=chosen.get("sort", ""),
            grade=matching["grade"],
            failing=matching["failing"],
            expiring_within=matching["expiring_within"],
        )
    else:
        sites = queries.overview_sites(sort=chosen.get("sort", ""), checks=checks, issues=not checks, **matching)
        if checks:
            sites = queries.matrix_page_rows(sites)
    counted = triage.count_from_triage(counts, **matching) if counts is not None else None
    return filters, queries.SitePaginator(sites, per_page, matching=queries.matching_sites(**matching), counted=counted)


def query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@require_GET
def overview(request):
    counts = triage.triage_counts(user=request.user)
    filters, paginator = filtered_sites(request, counts=counts)
    page = paginator.get_page(request.GET.get("page"))
    tags = selectors.tags_by_site(user=request.user, site_ids=[site.pk for site in page.object_list])
    rows = report_view.overview_rows(page.object_list, tags)
    issues = top_issues(list(page.object_list))
    for row in rows:
        row.top_issue = issues.get(row.site.pk)
    active = selectors.scan_list(user=request.user).filter(status__in=Scan.ACTIVE_STATUSES).count()
    on_page = sum(1 for row in rows if row.last_status in Scan.ACTIVE_STATUSES)
    return render(
        request,
        "dashboard/overview.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "active_scans": active,
            "active_on_page": on_page,
            "active_elsewhere": max(active - on_page, 0),
            "distribution": triage.grade_distribution(user=request.user, counts=counts),
            "counts": counts,
            "has_any_site": counts["total"] > 0,  # the triage pass counted every one of the user's sites
            "query_without_page": query_without_page(request),
        },
    )


@login_required
def submit(request):
    form = SubmitForm(request.POST or None)
    rejected: list[tuple[str, str]] = []
    queued: list[tuple[str, Scan, bool]] = []
    if request.method == "POST" and form.is_valid():
        try:  # all or nothing: a list that does not fit in the quota queues none of its lines
            services.scan_permission_check(request.user)
            services.scan_quota_check(request.user, cost=len(form.cleaned_data["domains"]))
        except services.ScanRequestError as exc:
            form.add_error("domains", exc.message)
            status = getattr(exc, "status", 400)
            return render(request, "dashboard/submit.html", {"form": form, "rejected": [], "queued": []}, status=status)
        for entry in form.cleaned_data["domains"]:
            try:
                scan, created = services.submit_scan(request.user, entry)
            except services.ScanRequestError as exc:
                rejected.append((entry, exc.message))
            else:
                queued.append((entry, scan, created))
        if not rejected:
            messages.success(request, _queued_message(len(queued)))
            return redirect("dashboard:overview")
        # Keep only the bad lines in the box so the user can fix them and resubmit.
        form = SubmitForm(initial={"domains": "\n".join(entry for entry, _ in rejected)})
    # A POST that gets here was refused (an accepted one redirected): a 400, as in the API.
    refused = request.method == "POST"
    return render(
        request,
        "dashboard/submit.html",
        {"form": form, "rejected": rejected, "queued": queued},
        status=400 if refused else 200,
    )


def _queued_message(count: int) -> str:
    return f"{count} domain{'s' if count != 1 else ''} queued for scanning."


@login_required
@require_GET
def site_report(request, site_id: int):
    site = owned_site(request, site_id)
    scans = selectors.scan_list(user=request.user, site=site)
    total = scans.count()
    show_all = request.GET.get("history") == "all"
    history = list(scans if show_all else scans[:HISTORY_LENGTH])
    context = report_view.site_report_context(site, history)
    context["history_more"] = not show_all and total > HISTORY_LENGTH
    context["history_total"] = total
    context["chart"], _ = site_history.site_chart(user=request.user, site=site)
    context["site_tags"] = [tag.name for tag in site.tags.all()]
    context["badge_url"] = request.build_absolute_uri(reverse("grade-badge", args=[site.pk]))
    context["share_url"] = (
        request.build_absolute_uri(reverse("dashboard:shared_report", args=[site.share_token]))
        if site.share_token
        else ""
    )
    return render(request, "dashboard/site.html", context)


@require_GET
def shared_report(request, token: str):
    """The read-only report behind an owner's share link; no login. A revoked or wrong token is a 404."""
    site = selectors.site_for_share_token(token=token)
    if site is None:
        raise Http404("No such report.")
    context = report_view.site_report_context(site, [])
    context["public"] = True
    context["chart"], _ = site_history.site_chart(user=site.owner, site=site)
    response = render(request, "dashboard/shared_report.html", context)
    response["X-Robots-Tag"] = "noindex"  # shared with people, not with search engines
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to links followed from the page
    return response


def _rescan_not_yet(recent: Scan) -> str:
    """Why a rescan was answered by a recent scan, and when the per-target limit lets one run again."""
    finished = recent.finished_at or timezone.now()
    allowed_at = finished + timedelta(seconds=config.target_min_interval())
    wait_minutes = max(1, math.ceil((allowed_at - timezone.now()).total_seconds() / 60))
    return (
        f"This site was scanned at {finished:%H:%M} UTC and one host is scanned at most every "
        f"{math.ceil(config.target_min_interval() / 60)} minutes, so that result is shown. "
        f"Rescan now may run again at {allowed_at:%H:%M} UTC (in {wait_minutes} minute{'s' if wait_minutes != 1 else ''})."
    )


@login_required
@require_POST
def rescan(request, site_id: int):
    site = owned_site(request, site_id)
    try:
        # max_age=0: the user asked for a fresh scan, so a recent result must not answer it.
        scan, created = services.submit_scan(
            request.user, site.hostname, port=site.https_port, http_port=site.http_port, max_age=0
        )
    except services.ScanRequestError as exc:
        messages.error(request, f"Could not rescan {site}: {exc.message}")
    else:
        if created:
            messages.success(request, "Rescan queued.")
        elif scan.is_active:
            messages.success(request, "A scan of this site is already in progress.")
        else:  # the per-target limit answered with a scan of the last few minutes
            messages.info(request, _rescan_not_yet(scan))
    return redirect("dashboard:site", site_id=site.pk)


@login_required
@require_POST
def toggle_badge(request, site_id: int):
    site = owned_site(request, site_id)
    services.site_set_badge_public(site, public=not site.badge_public)
    messages.success(request, "The badge is now public." if site.badge_public else "The badge is now private.")
    return redirect("dashboard:site", site_id=site.pk)


MAX_STATUS_SITES = 200


@login_required
@require_GET
def scan_status(request):
    """What progress.js polls. `active`/`count`: the user's queued and running scans (one per site), optionally
    for one site or portfolio. `sites`: for the rows a page shows (?sites=1,2,3), each row's own latest state,
    so a row switches to its grade the moment its own scan ends, not when the batch does."""
    scans = selectors.scan_list(user=request.user).filter(status__in=Scan.ACTIVE_STATUSES)
    try:
        site_id, portfolio_id = _id_param(request, "site"), _id_param(request, "portfolio")
        sites_param = request.GET.get("sites", "")
        wanted = [url_id(part) for part in sites_param.split(",")][:MAX_STATUS_SITES] if sites_param else []
    except ValueError as exc:
        return JsonResponse({"error": {"code": "invalid", "message": str(exc), "fields": {}}}, status=400)
    if site_id is not None:
        scans = scans.filter(site_id=site_id)
    if portfolio_id is not None:
        scans = scans.filter(site__portfolios__pk=portfolio_id)
    active = {str(site_id): status for site_id, status in scans.values_list("site_id", "status")}
    rows = {}
    if wanted:
        sites = queries.annotated_sites(user=request.user).filter(pk__in=wanted).defer("latest_scan__result")
        for site in sites:
            row = report_view.overview_row(site)
            rows[str(site.pk)] = {
                "status": row.last_status or "",
                "grade": row.grade,
                "grade_css": row.grade_css,
                "unreachable": row.unreachable,
                "error": row.last_error if row.unreachable else "",
            }
    return JsonResponse({"active": active, "count": len(active), "sites": rows})


def _id_param(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return url_id(value) if value else None


def signup(request):
    if request.user.is_authenticated:
        return redirect("dashboard:overview")
    if not config.signup_open():
        # Closed by the operator: the page says so, and a POST is refused like any other bad request.
        return render(request, "dashboard/signup.html", {}, status=400 if request.method == "POST" else 200)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data.get("email") or ""
        try:
            user = services.account_signup(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                email=email,
                requested_from=client_address(request),
            )
        except services.ScanRequestError as exc:
            form.add_error(None, exc.message)
            status = 429 if isinstance(exc, services.ScanRequestTooSoon) else 400
            response = render(request, "dashboard/signup.html", {"form": form}, status=status)
            if isinstance(exc, services.ScanRequestTooSoon):
                response["Retry-After"] = str(exc.retry_after)
            return response
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        welcome = f"Welcome, {user.username}. Add the domains you want to watch."
        if email:
            welcome += f" We sent a confirmation link to {email}."
            if config.scans_need_confirmed_email():
                welcome += " Follow it to start scanning."
        elif config.scans_need_confirmed_email():
            welcome += " Set and confirm an e-mail address in Settings to start scanning."
        else:
            welcome += " Add an e-mail address or another channel so alerts reach you."
        messages.success(request, welcome)
        return redirect("dashboard:submit")
    return render(request, "dashboard/signup.html", {"form": form})


@login_required
def delete_site(request, site_id: int):
    """GET asks for confirmation; POST deletes the site with its whole history."""
    site = owned_site(request, site_id)
    if request.method == "POST":
        name = str(site)
        services.site_delete(site)
        messages.success(request, f"{name} and its history were deleted.")
        return redirect("dashboard:overview")
    scans = selectors.scan_list(user=request.user, site=site).count()
    return render(request, "dashboard/delete_site.html", {"site": site, "scan_count": scans})


@login_required
@require_POST
def toggle_share(request, site_id: int):
    site = owned_site(request, site_id)
    services.site_share(site, enabled=not site.share_token)
    messages.success(
        request,
        "Anyone with the link can now read this report." if site.share_token else "The share link no longer works.",
    )
    return redirect("dashboard:site", site_id=site.pk)


@login_required
@require_POST
def toggle_mute(request, site_id: int):
    site = owned_site(request, site_id)
    services.site_set_muted(site, muted=not site.alerts_muted)
    messages.success(
        request, "Alerts for this site are muted." if site.alerts_muted else "Alerts for this site are on."
    )
    return redirect("dashboard:site", site_id=site.pk)
