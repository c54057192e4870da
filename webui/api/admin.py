"""Tokens in the admin: who holds which (name, prefix, last use, expiry), and revoking them. Never the token,
never its digest, and no way to create one here (a token is shown once, to the account that creates it)."""

from __future__ import annotations

from django.contrib import admin
from knox.models import AuthToken

from webui.api.models import ApiToken

# knox registers its own admin, which lists digests and prints new tokens in a message; ours replaces it.
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "token_key", "user", "created", "last_used", "expiry")
    list_filter = ("created", "last_used")
    search_fields = ("name", "token_key", "user__username")
    fields = ("name", "token_key", "user", "created", "last_used", "expiry")
    readonly_fields = fields
    ordering = ("-created",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
