"""API tokens in the dashboard: create (shown once), list (prefix and last use), revoke. The same service
functions as the API (webui.api.tokens), so both apply the same rules."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from scanner.services import ScanRequestError
from webui.api import tokens

EXPIRY_CHOICES = [("", "Never"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


class TokenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="What will use it, e.g. “nightly report script”.")
    expires_in_days = forms.TypedChoiceField(
        label="Expires", choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False
    )


@login_required
def token_list(request):
    form = TokenForm(request.POST or None)
    created = secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created, secret = tokens.token_create(user=request.user, **form.cleaned_data)
            except ScanRequestError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        if secret is None:
            status = 400
        else:
            form = TokenForm()  # the token is shown in this response only: no redirect, nothing in the session
    return render(
        request,
        "dashboard/tokens.html",
        {"form": form, "tokens": tokens.token_list(user=request.user), "created": created, "secret": secret},
        status=status,
    )


@login_required
@require_POST
def token_revoke(request, uid):
    if not tokens.token_revoke(user=request.user, uid=uid):
        raise Http404("No such token.")
    messages.success(request, "Token revoked: it no longer works.")
    return redirect("dashboard:tokens")
