"""/api/v1/ routes. No trailing slashes, as the API documentation shows them."""

from __future__ import annotations

from django.urls import path, register_converter

from webui.api import bulk_views, export_views, token_views, views


class ExportFormatConverter:
    regex = "csv|json"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ExportFormatConverter, "export_format")


class EvidenceFormatConverter(ExportFormatConverter):
    regex = "csv|pdf"


register_converter(EvidenceFormatConverter, "evidence_format")

app_name = "api"

urlpatterns = [
    path("token", token_views.TokenLoginApi.as_view(), name="token"),
    path("tokens", token_views.TokenListCreateApi.as_view(), name="token-list"),
    path("tokens/current", token_views.TokenCurrentApi.as_view(), name="token-current"),
    path("tokens/<uuid:uid>", token_views.TokenDetailApi.as_view(), name="token-detail"),
    path("scans", views.ScanListCreateApi.as_view(), name="scan-list"),
    path("scans/<int:pk>", views.ScanDetailApi.as_view(), name="scan-detail"),
    path("sites", views.SiteListApi.as_view(), name="site-list"),
    path("sites/<int:pk>", views.SiteDetailApi.as_view(), name="site-detail"),
    path("sites/<int:pk>/scans", views.SiteScanListApi.as_view(), name="site-scans"),
    path("portfolios", views.PortfolioListCreateApi.as_view(), name="portfolio-list"),
    path("portfolios/<int:pk>", views.PortfolioDetailApi.as_view(), name="portfolio-detail"),
    path("portfolios/<int:pk>/sites", views.PortfolioSitesApi.as_view(), name="portfolio-sites"),
    path("portfolios/<int:pk>/scan", views.PortfolioScanApi.as_view(), name="portfolio-scan"),
    path("portfolios/<int:pk>/schedule", views.PortfolioScheduleApi.as_view(), name="portfolio-schedule"),
    path("portfolios/<int:pk>/import", views.PortfolioImportApi.as_view(), name="portfolio-import"),
    path(
        "portfolios/<int:pk>/operations/<int:operation_id>",
        bulk_views.PortfolioOperationApi.as_view(),
        name="portfolio-operation",
    ),
    path(
        "portfolios/<int:pk>/export.<export_format:fmt>",
        export_views.PortfolioExportApi.as_view(),
        name="portfolio-export",
    ),
    path(
        "portfolios/<int:pk>/compliance.<evidence_format:fmt>",
        export_views.PortfolioComplianceEvidenceApi.as_view(),
        name="portfolio-compliance-evidence",
    ),
    path(
        "portfolios/<int:pk>/evidence/<int:evidence_id>",
        export_views.PortfolioEvidenceStatusApi.as_view(),
        name="portfolio-evidence",
    ),
    path(
        "portfolios/<int:pk>/evidence/<int:evidence_id>.pdf",
        export_views.PortfolioEvidenceFileApi.as_view(),
        name="portfolio-evidence-file",
    ),
]
