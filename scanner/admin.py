from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from scanner.models import Finding, Portfolio, Scan, Site
from scanner.services import ScanRequestError
from scanner.services.schedules import RESCAN_TASK, check_beat_schedule


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
    # Set through the dashboard or the API, which check the cron and the minimum interval and compute the next run.
    readonly_fields = ("rescan_cron", "next_rescan_at")


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


# --- A beat entry calling the rescan task, made or edited in the admin, obeys the same minimum interval as the
# API and the dashboard (the product's own schedules are on the portfolios, read by one minute tick) ---------


def _check_rescan_schedule(**schedule: CrontabSchedule | IntervalSchedule | None) -> None:
    try:
        check_beat_schedule(**schedule)
    except ScanRequestError as exc:
        raise forms.ValidationError(exc.message) from None


def _used_by_rescans(**lookup: CrontabSchedule | IntervalSchedule) -> bool:
    return PeriodicTask.objects.filter(task=RESCAN_TASK, **lookup).exists()


class RescanPeriodicTaskForm(beat_admin.PeriodicTaskForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("task") == RESCAN_TASK:
            _check_rescan_schedule(crontab=data.get("crontab"), interval=data.get("interval"))
        return data


class RescanCrontabForm(forms.ModelForm):
    class Meta:
        model = CrontabSchedule
        fields = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.instance.pk and _used_by_rescans(crontab=self.instance) and not self.errors:
            _check_rescan_schedule(crontab=CrontabSchedule(**{name: data.get(name) for name in ("minute", "hour")}))
        return data


class RescanIntervalForm(forms.ModelForm):
    class Meta:
        model = IntervalSchedule
        fields = ("every", "period")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.instance.pk and _used_by_rescans(interval=self.instance) and not self.errors:
            _check_rescan_schedule(interval=IntervalSchedule(every=data["every"], period=data["period"]))
        return data


for model, admin_class, form in (
    (PeriodicTask, beat_admin.PeriodicTaskAdmin, RescanPeriodicTaskForm),
    (CrontabSchedule, beat_admin.CrontabScheduleAdmin, RescanCrontabForm),
    (IntervalSchedule, beat_admin.IntervalScheduleAdmin, RescanIntervalForm),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, type(admin_class.__name__, (admin_class,), {"form": form}))
