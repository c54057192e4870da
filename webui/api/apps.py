from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API as an app: it owns the API token model (knox's, swapped for a named, listable one)."""

    name = "webui.api"
    label = "api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from webui.api import signals  # noqa: F401 - connects token revocation to password and account changes
