"""Alerts (with the delivery log of each), notification channels and the account's e-mail address.

Every object is looked up through scanner.selectors with request.user, so another user's alert or channel is
a 404; every change goes through scanner.services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from scanner import selectors, services
from scanner.models import Channel
from webui.api.throttling import client_address

from .forms import AccountEmailForm, AlertFilterForm, ChannelForm

ALERTS_SHOWN = 200


@login_required
@require_GET
def alerts(request):
    filters = AlertFilterForm(request.GET)
    filters.is_valid()
    chosen = filters.cleaned_data
    rows = selectors.alert_list(
        user=request.user, status=chosen.get("status") or None, open_only=bool(chosen.get("open_only"))
    )
    context = {
        "alerts": rows[:ALERTS_SHOWN],
        "filters": filters,
        "has_channels": selectors.channel_list(user=request.user).exists(),
    }
    return render(request, "dashboard/alerts.html", context)


@login_required
@require_POST
def acknowledge_alert(request, alert_id: int):
    alert = selectors.alert_get(user=request.user, alert_id=alert_id)
    if alert is None:
        raise Http404("No such alert.")
    services.alert_acknowledge(alert)
    messages.success(request, "Alert acknowledged.")
    return redirect(local_next(request, default="dashboard:alerts"))


def local_next(request, *, default: str) -> str:
    """The `next` URL a form asked to return to, when it is a path on this site; otherwise the default view's URL.
    Anything else (another host, a scheme, a bare word) would be an open redirect or a 500."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if (
        wanted.startswith("/")
        and not wanted.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return wanted
    return reverse(default)


def _channels_page(request, form, *, status=200):
    channels = list(selectors.channel_list(user=request.user))
    context = {
        "channels": channels,
        "tests_pending": any(channel.test_pending for channel in channels),
        "form": form,
        "kinds": Channel.Kind.choices,
    }
    return render(request, "dashboard/channels.html", context, status=status)


@login_required
def channels(request):
    form = ChannelForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                channel = services.channel_create(
                    owner=request.user,
                    kind=data["kind"],
                    target=data["target"],
                    name=data["name"],
                    secret=data["secret"],
                    requested_from=client_address(request),
                    weekly_digest=data["weekly_digest"],
                )
            except services.ScanRequestError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                if channel.kind == Channel.Kind.EMAIL:
                    messages.success(request, f"Channel added. We sent a confirmation link to {channel.target}.")
                else:
                    messages.success(request, "Channel added. Use “Send test” to check that it arrives.")
                return redirect("dashboard:channels")
        return _channels_page(request, form, status=400)
    return _channels_page(request, form)


def _owned_channel(request, channel_id: int) -> Channel:
    channel = selectors.channel_get(user=request.user, channel_id=channel_id)
    if channel is None:
        raise Http404("No such channel.")
    return channel


@login_required
@require_POST
def test_channel(request, channel_id: int):
    channel = _owned_channel(request, channel_id)
    if services.channel_test_request(channel):
        messages.success(request, f"Test queued for {channel}: its result appears in the table when it lands.")
    else:
        messages.info(request, f"A test to {channel} is already on its way.")
    return redirect("dashboard:channels")


@login_required
@require_GET
def channel_test_status(request):
    """What the channels page polls while a test is on its way: each channel's last test, by id."""
    rows = {}
    for channel in selectors.channel_list(user=request.user):
        if channel.test_pending:
            state = "pending"
        elif channel.last_test_at is None:
            state = "never"
        else:
            state = "failed" if channel.last_test_error else "sent"
        rows[str(channel.pk)] = {
            "state": state,
            "error": channel.last_test_error if state == "failed" else "",
            "at": channel.last_test_at.isoformat() if channel.last_test_at else "",
        }
    return JsonResponse({"channels": rows, "pending": sum(1 for row in rows.values() if row["state"] == "pending")})


@login_required
@require_POST
def resend_verification(request, channel_id: int):
    channel = _owned_channel(request, channel_id)
    if channel.kind == Channel.Kind.EMAIL and channel.verified_at is None:
        try:
            services.verification_resend(channel, requested_from=client_address(request))
        except services.ScanRequestTooSoon as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"We sent a new confirmation link to {channel.target}.")
    return redirect("dashboard:channels")


@login_required
@require_POST
def delete_channel(request, channel_id: int):
    channel = _owned_channel(request, channel_id)
    services.channel_delete(channel)
    messages.success(request, f"Channel {channel} removed.")
    return redirect("dashboard:channels")


@login_required
@require_POST
def channel_digest(request, channel_id: int):
    """Opt an e-mail channel in or out of the weekly portfolio digest."""
    channel = _owned_channel(request, channel_id)
    enabled = request.POST.get("weekly_digest") == "on"
    try:
        services.channel_set_weekly_digest(channel, enabled)
    except services.ScanRequestError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Weekly digest {'on' if enabled else 'off'} for {channel}.")
    return redirect("dashboard:channels")


def verify_email(request, token: str):
    """The link from the confirmation e-mail; works logged out (people open mail on another device)."""
    try:
        channel = services.verify_email(token)
    except services.ScanRequestError as exc:
        return render(request, "dashboard/verify_email.html", {"error": exc.message}, status=400)
    return render(request, "dashboard/verify_email.html", {"channel": channel})


@login_required
def account_settings(request):
    account_channel = selectors.account_email_channel(user=request.user)
    form = AccountEmailForm(request.POST or None, initial={"email": request.user.email})
    if request.method == "POST" and form.is_valid():
        try:
            channel = services.account_set_email(
                request.user, form.cleaned_data["email"], requested_from=client_address(request)
            )
        except services.ScanRequestError as exc:
            form.add_error("email", exc.message)
        else:
            if channel is None:
                messages.success(request, "Your e-mail address was removed.")
            elif channel.verified_at is None:
                messages.success(request, f"We sent a confirmation link to {channel.target}.")
            else:
                messages.success(request, "Nothing changed.")
            return redirect("dashboard:settings")
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/settings.html", {"form": form, "account_channel": account_channel}, status=status)
