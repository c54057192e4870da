from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("submit/", views.submit, name="submit"),
    path("sites/<int:site_id>/", views.site_report, name="site"),
    path("sites/<int:site_id>/rescan/", views.rescan, name="rescan"),
    path("signup/", views.signup, name="signup"),
    path("scan-status.json", views.scan_status, name="scan_status"),
]
