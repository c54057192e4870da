from __future__ import annotations

from django.contrib import admin

from scanner.models import Finding, Portfolio, Scan, Site


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("hostname", "https_port", "owner", "latest_scan", "created_at")
    search_fields = ("hostname", "owner__username")
    raw_id_fields = ("latest_scan",)


@admin.register(Portfolio)
class PortfolioAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")
    search_fields = ("name", "owner__username")
    filter_horizontal = ("sites",)


class FindingInline(admin.TabularInline):
    model = Finding
    extra = 0
    fields = ("finding_id", "area", "severity", "title")
    readonly_fields = fields


@admin.register(Scan)
class ScanAdmin(admin.ModelAdmin):
    list_display = ("id", "site", "status", "security_grade", "seo_score", "requested_at", "finished_at", "attempts")
    list_filter = ("status", "security_grade")
    search_fields = ("site__hostname",)
    raw_id_fields = ("site", "portfolio")
    readonly_fields = ("result",)
    inlines = (FindingInline,)


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ("finding_id", "severity", "site", "scan")
    list_filter = ("severity", "area")
    search_fields = ("finding_id", "site__hostname")
    raw_id_fields = ("scan", "site")
