"""Dashboard pages. Reads go through scanner.selectors and writes through scanner.services, so every
query here is scoped to the logged-in user by construction."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from scanner import selectors, services
from scanner.models import Scan
from webui.api.throttling import scan_quota_wait

from . import queries, report_view
from .forms import OverviewFilterForm, SignupForm, SubmitForm

SITES_PER_PAGE = 50
HISTORY_LENGTH = 20


@login_required
@require_GET
def overview(request):
    filters = OverviewFilterForm(request.GET)
    filters.is_valid()  # an invalid filter is shown as an error and ignored; the valid ones still apply
    chosen = filters.cleaned_data
    sites = queries.overview_sites(
        user=request.user,
        grade=chosen.get("grade", ""),
        failing=chosen.get("failing", False),
        expiring_within=chosen.get("expiring"),
        sort=chosen.get("sort", ""),
    )
    page = Paginator(sites, SITES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [report_view.overview_row(site) for site in page.object_list]
    active = selectors.scan_list(user=request.user).filter(status__in=Scan.ACTIVE_STATUSES).count()
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return render(
        request,
        "dashboard/overview.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "active_scans": active,
            "distribution": queries.grade_distribution(user=request.user),
            "has_any_site": bool(page.paginator.count) or selectors.site_list(user=request.user).exists(),
            "query_without_page": query_without_page.urlencode(),
        },
    )


@login_required
def submit(request):
    form = SubmitForm(request.POST or None)
    rejected: list[tuple[str, str]] = []
    queued: list[tuple[str, Scan, bool]] = []
    if request.method == "POST" and form.is_valid():
        wait = scan_quota_wait(request.user, cost=len(form.cleaned_data["domains"]))
        if wait is not None:
            form.add_error("domains", f"Scan quota reached: try again in {max(1, wait // 60)} minutes.")
            return render(request, "dashboard/submit.html", {"form": form, "rejected": [], "queued": []}, status=429)
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


def _owned_site(request, site_id: int):
    site = selectors.site_get(user=request.user, site_id=site_id)
    if site is None:  # someone else's site and a missing one look the same
        raise Http404("No such site.")
    return site


@login_required
@require_GET
def site_report(request, site_id: int):
    site = _owned_site(request, site_id)
    history = list(selectors.scan_list(user=request.user, site=site)[:HISTORY_LENGTH])
    context = report_view.site_report_context(site, history)
    context["badge_url"] = request.build_absolute_uri(reverse("grade-badge", args=[site.pk]))
    return render(request, "dashboard/site.html", context)


@login_required
@require_POST
def rescan(request, site_id: int):
    site = _owned_site(request, site_id)
    wait = scan_quota_wait(request.user)
    if wait is not None:
        messages.error(request, f"Scan quota reached: try again in {max(1, wait // 60)} minutes.")
        return redirect("dashboard:site", site_id=site.pk)
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
            messages.success(request, "This site was scanned minutes ago; that result is shown.")
    return redirect("dashboard:site", site_id=site.pk)


@login_required
@require_POST
def toggle_badge(request, site_id: int):
    site = _owned_site(request, site_id)
    services.site_set_badge_public(site, public=not site.badge_public)
    messages.success(request, "The badge is now public." if site.badge_public else "The badge is now private.")
    return redirect("dashboard:site", site_id=site.pk)


@login_required
@require_GET
def scan_status(request):
    """What progress.js polls: the status of the user's queued/running scans (optionally for one site)."""
    scans = selectors.scan_list(user=request.user).filter(status__in=Scan.ACTIVE_STATUSES)
    if request.GET.get("site", "").isdigit():
        scans = scans.filter(site_id=int(request.GET["site"]))
    active = {str(site_id): status for site_id, status in scans.values_list("site_id", "status")}
    return JsonResponse({"active": active, "count": len(active)})


def signup(request):
    if request.user.is_authenticated:
        return redirect("dashboard:overview")
    if not settings.SCANNER_SIGNUP_OPEN:
        # Closed by the operator: the page says so, and a POST is refused like any other bad request.
        return render(request, "dashboard/signup.html", {}, status=400 if request.method == "POST" else 200)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        welcome = f"Welcome, {user.username}. Add the domains you want to watch."
        if form.cleaned_data.get("email"):
            services.account_set_email(user, form.cleaned_data["email"])
            welcome += f" We sent a confirmation link to {form.cleaned_data['email']}."
        else:
            welcome += " Add an e-mail address or another channel so alerts reach you."
        messages.success(request, welcome)
        return redirect("dashboard:submit")
    return render(request, "dashboard/signup.html", {"form": form})
