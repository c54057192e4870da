from django.urls import path

from . import alert_views, bulk_views, compliance_views, portfolio_views, summary, token_views, views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("submit/", views.submit, name="submit"),
    path("sites/<int:site_id>/", views.site_report, name="site"),
    path("sites/<int:site_id>/rescan/", views.rescan, name="rescan"),
    path("sites/<int:site_id>/badge/", views.toggle_badge, name="toggle_badge"),
    path("sites/<int:site_id>/delete/", views.delete_site, name="delete_site"),
    path("sites/<int:site_id>/share/", views.toggle_share, name="toggle_share"),
    path("sites/<int:site_id>/mute/", views.toggle_mute, name="toggle_mute"),
    path("r/<str:token>/", views.shared_report, name="shared_report"),
    path("portfolios/", portfolio_views.portfolio_list, name="portfolios"),
    path("portfolios/<int:portfolio_id>/", portfolio_views.portfolio_detail, name="portfolio"),
    path("portfolios/<int:portfolio_id>/schedule/", portfolio_views.portfolio_schedule, name="portfolio_schedule"),
    path("portfolios/<int:portfolio_id>/import/", portfolio_views.portfolio_import, name="portfolio_import"),
    path("portfolios/<int:portfolio_id>/scan/", portfolio_views.portfolio_scan, name="portfolio_scan"),
    path(
        "portfolios/<int:portfolio_id>/operations/<int:operation_id>/",
        bulk_views.operation_detail,
        name="bulk_operation",
    ),
    path(
        "portfolios/<int:portfolio_id>/operations/<int:operation_id>.json",
        bulk_views.operation_status,
        name="bulk_operation_status",
    ),
    path("portfolios/<int:portfolio_id>/channels/", portfolio_views.portfolio_channels, name="portfolio_channels"),
    path(
        "portfolios/<int:portfolio_id>/export.<str:file_format>",
        portfolio_views.portfolio_export,
        name="portfolio_export",
    ),
    path(
        "portfolios/<int:portfolio_id>/compliance/", compliance_views.portfolio_compliance, name="portfolio_compliance"
    ),
    path(
        "portfolios/<int:portfolio_id>/compliance.<str:file_format>",
        compliance_views.portfolio_evidence,
        name="portfolio_evidence",
    ),
    path("portfolios/<int:portfolio_id>/evidence/", compliance_views.evidence_generate, name="evidence_generate"),
    path(
        "portfolios/<int:portfolio_id>/evidence/<int:evidence_id>.json",
        compliance_views.evidence_status,
        name="evidence_status",
    ),
    path(
        "portfolios/<int:portfolio_id>/evidence/<int:evidence_id>.pdf",
        compliance_views.evidence_download,
        name="evidence_download",
    ),
    path("alerts/", alert_views.alerts, name="alerts"),
    path("alerts/<int:alert_id>/acknowledge/", alert_views.acknowledge_alert, name="acknowledge_alert"),
    path("channels/", alert_views.channels, name="channels"),
    path("channels/<int:channel_id>/test/", alert_views.test_channel, name="test_channel"),
    path("channels/test-status.json", alert_views.channel_test_status, name="channel_test_status"),
    path("channels/<int:channel_id>/resend/", alert_views.resend_verification, name="resend_verification"),
    path("channels/<int:channel_id>/delete/", alert_views.delete_channel, name="delete_channel"),
    path("channels/<int:channel_id>/digest/", alert_views.channel_digest, name="channel_digest"),
    path("settings/", alert_views.account_settings, name="settings"),
    path("verify-email/<str:token>/", alert_views.verify_email, name="verify_email"),
    path("signup/", views.signup, name="signup"),
    path("tokens/", token_views.token_list, name="tokens"),
    path("tokens/<uuid:uid>/revoke/", token_views.token_revoke, name="token_revoke"),
    path("scan-status.json", views.scan_status, name="scan_status"),
    path("summary/", summary.summary, name="summary"),
]
