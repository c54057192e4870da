from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from webui.badge import grade_badge
from webui.observability import healthz, metrics
from webui.source import source_download

admin.autodiscover()  # settings.py: the admin's AppConfig is the simple one; its registry is filled here

urlpatterns = [
    path("api/v1/", include("webui.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up code as a script file (no inline script under the CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="apidocs/swagger_ui.html"),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="apidocs/redoc.html"),
        name="api-redoc",
    ),
    path("accounts/", include("django.contrib.auth.urls")),  # login, logout, password change (name "login")
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("source.tar.gz", source_download, name="source"),
    path("metrics", metrics, name="metrics"),
    path("badge/<int:site_id>.svg", grade_badge, name="grade-badge"),
    path("", include("webui.dashboard.urls")),
]

handler404 = "webui.api.errors.json_or_html_404"
handler500 = "webui.api.errors.json_or_html_500"
