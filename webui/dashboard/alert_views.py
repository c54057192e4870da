"""The user's alert history and the webhook endpoints their alerts are delivered to."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from scanner.models import Alert, WebhookEndpoint

from .forms import WebhookForm

ALERTS_SHOWN = 200


@login_required
def alerts(request):
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        WebhookEndpoint.objects.create(owner=request.user, **form.cleaned_data)
        messages.success(request, "Webhook added.")
        return redirect("dashboard:alerts")
    context = {
        "alerts": Alert.objects.filter(site__owner=request.user).select_related("site")[:ALERTS_SHOWN],
        "webhooks": WebhookEndpoint.objects.filter(owner=request.user).order_by("created_at"),
        "form": form,
    }
    return render(request, "dashboard/alerts.html", context)


@login_required
@require_POST
def delete_webhook(request, webhook_id: int):
    get_object_or_404(WebhookEndpoint, pk=webhook_id, owner=request.user).delete()
    messages.success(request, "Webhook removed.")
    return redirect("dashboard:alerts")
