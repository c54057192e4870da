"""Input serializers validate what clients send (strictly: unknown fields are errors); output serializers
shape what they read. Neither holds business logic: that lives in scanner.services."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import serializers

from scanner.grading.compliance import PROFILE_IDS
from scanner.grading.scale import GRADE_ORDER
from scanner.models import Finding, Portfolio, Scan, Site
from scanner.report import with_compliance
from scanner.report_reader import ReportView
from scanner.services.schedules import SCHEDULE_KINDS, describe_schedule
from webui.api.links import links_for

# Ids are PostgreSQL bigints: a larger number cannot name a row, and would make the database raise.
MAX_ID = 2**63 - 1
# max_age is turned into a timedelta; ten years is already "any finished scan", and bigger values overflow it.
MAX_AGE_SECONDS = 10 * 366 * 24 * 3600


class StrictInputSerializer(serializers.Serializer):
    """Rejects fields it does not know, so a typo ("hots") is an error instead of silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class GradeField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=GRADE_ORDER, **kwargs)

    def to_internal_value(self, data):
        # "?grade=A+" arrives as "A " because '+' means space in a query string; accept it as meant.
        if isinstance(data, str) and data.strip() and data.endswith(" "):
            data = data.rstrip() + "+"
        return super().to_internal_value(data)


class PortField(serializers.IntegerField):
    """A port: a JSON number, or a string of ASCII digits. int() would read '٤٤٣' as 443; that is refused."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=65535, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and not (data.strip().isascii() and data.strip().isdigit()):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(data)


# --- Inputs ------------------------------------------------------------------


class ScanCreateInput(StrictInputSerializer):
    host = serializers.CharField(max_length=1000, help_text="Hostname or https:// URL without a path.")
    port = PortField(required=False, help_text="HTTPS port (443).")
    http_port = PortField(required=False, help_text="Plain-HTTP port probed for the redirect (80).")
    portfolio = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text="Also add the site to this portfolio."
    )
    max_age = serializers.IntegerField(
        min_value=0,
        max_value=MAX_AGE_SECONDS,
        required=False,
        help_text="Seconds: return a finished scan at most this old instead of starting a new one.",
    )


class ScanFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=Scan.Status.choices, required=False)
    site = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


class SiteFilter(serializers.Serializer):
    grade = GradeField(required=False, help_text="Latest security grade equals this (A%2B for A+).")
    below = GradeField(required=False, help_text="Latest security grade is worse than this, e.g. B.")
    finding = serializers.CharField(max_length=64, required=False, help_text="Latest scan has this finding id.")
    tag = serializers.CharField(max_length=32, required=False, help_text="The site carries this tag.")
    portfolio = serializers.IntegerField(required=False, min_value=1, help_text="Only sites in this portfolio.")
    q = serializers.CharField(max_length=253, required=False, help_text="Host name or tag contains this text.")
    fails = serializers.ChoiceField(
        choices=PROFILE_IDS, required=False, help_text="Latest scan fails this compliance profile, e.g. pci-dss-4.0.1."
    )


class PortfolioInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100)


class PortfolioUpdateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    alert_expiry_days = serializers.IntegerField(
        min_value=1,
        max_value=365,
        required=False,
        allow_null=True,
        help_text="Alert when a certificate expires within this many days; null = the service default.",
    )
    compliance_profiles = serializers.ListField(
        child=serializers.ChoiceField(choices=PROFILE_IDS),
        required=False,
        max_length=len(PROFILE_IDS),
        help_text='Compliance profiles shown and counted for this portfolio, e.g. ["pci-dss-4.0.1"].',
    )


class PortfolioSiteInput(StrictInputSerializer):
    host = serializers.CharField(max_length=1000, required=False)
    port = PortField(required=False)
    http_port = PortField(required=False)
    site = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)

    def validate(self, attrs):
        if ("host" in attrs) == ("site" in attrs):
            raise serializers.ValidationError("Give either 'host' or 'site' (a site id), not both or neither.")
        for name in ("port", "http_port"):
            if name in attrs and "host" not in attrs:
                raise serializers.ValidationError({name: [f"'{name}' goes with 'host'."]})
        return attrs


class PortfolioScheduleInput(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=SCHEDULE_KINDS)
    cron = serializers.CharField(
        max_length=200, required=False, allow_null=True, help_text="With kind 'cron': 'minute hour dom month dow'."
    )


class PortfolioImportInput(StrictInputSerializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text="host[,port][,tag;tag] per line.")


# --- Outputs -----------------------------------------------------------------


def _absolute(context, name: str, pk: int) -> str:
    return links_for(context).to(name, pk)


def site_state(last_status: str | None, latest_scan_id: int | None) -> str:
    """A site's state from its last attempt's status (None: never attempted) and whether it has a result."""
    if last_status == Scan.Status.FAILED:
        return "unreachable"
    if last_status in Scan.ACTIVE_STATUSES:
        return "scanning"
    return "graded" if latest_scan_id else "never_scanned"


class FindingOutput(serializers.ModelSerializer):
    id = serializers.CharField(source="finding_id")

    class Meta:
        model = Finding
        fields = ("id", "area", "severity", "title")


class ScanSummaryOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    site = serializers.IntegerField(source="site_id")
    host = serializers.CharField(source="site.hostname")
    https_port = serializers.IntegerField(source="site.https_port")
    http_port = serializers.IntegerField(source="site.http_port")
    portfolio = serializers.IntegerField(source="portfolio_id", allow_null=True)
    security_grade = serializers.CharField(allow_null=True)
    security_ignoring_trust = serializers.CharField(allow_null=True)
    seo_grade = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_null=True)

    class Meta:
        model = Scan
        fields = (
            "id",
            "url",
            "status",
            "site",
            "host",
            "https_port",
            "http_port",
            "portfolio",
            "requested_at",
            "started_at",
            "finished_at",
            "security_grade",
            "security_ignoring_trust",
            "score",
            "seo_score",
            "seo_grade",
            "error",
            "ip",
            "attempts",
        )

    def get_url(self, scan: Scan) -> str:
        return _absolute(self.context, "api:scan-detail", scan.pk)

    def to_representation(self, scan):
        data = super().to_representation(scan)
        # Empty strings in the database mean "no grade yet"; clients get null.
        for name in ("security_grade", "security_ignoring_trust", "seo_grade", "error"):
            data[name] = data[name] or None
        return data


class ScanDetailOutput(ScanSummaryOutput):
    findings = FindingOutput(many=True, read_only=True)
    web_security = serializers.SerializerMethodField(
        help_text="The web security score (Mozilla HTTP Observatory's method): {score, grade, modifiers}; "
        "null when the https page was not read."
    )
    result = serializers.JSONField(allow_null=True, help_text="The full report document once the scan finished.")
    changes = serializers.JSONField(
        allow_null=True, help_text="What changed since the site's previous finished scan (scanner.changes)."
    )

    class Meta(ScanSummaryOutput.Meta):
        fields = (*ScanSummaryOutput.Meta.fields, "web_security", "findings", "result", "changes")

    def get_web_security(self, scan: Scan) -> dict | None:
        web_security = ReportView.from_document(scan.result).web_security
        return dict(web_security) if web_security is not None else None

    def to_representation(self, scan):
        data = super().to_representation(scan)
        # Compliance is evaluated at read time from the stored report, so profile updates apply to old scans.
        if ReportView.from_document(data.get("result")).schema_version:  # a report, not a pruned or foreign one
            data["result"] = with_compliance(data["result"])
        return data


class ScanAcceptedOutput(ScanSummaryOutput):
    reused = serializers.SerializerMethodField(
        help_text="True when an existing scan (recent, or already queued/running) answers the request."
    )

    class Meta(ScanSummaryOutput.Meta):
        fields = (*ScanSummaryOutput.Meta.fields, "reused")

    def get_reused(self, scan: Scan) -> bool:
        return not self.context.get("created", True)


class LatestScanOutput(serializers.ModelSerializer):
    security_grade = serializers.CharField(allow_null=True)
    seo_grade = serializers.CharField(allow_null=True)

    class Meta:
        model = Scan
        fields = ("id", "finished_at", "security_grade", "score", "seo_score", "seo_grade")

    def to_representation(self, scan):
        data = super().to_representation(scan)
        data["security_grade"] = data["security_grade"] or None
        data["seo_grade"] = data["seo_grade"] or None
        return data


class LastAttemptOutput(serializers.ModelSerializer):
    error = serializers.CharField(allow_null=True)

    class Meta:
        model = Scan
        fields = ("id", "status", "requested_at", "finished_at", "error")

    def to_representation(self, scan):
        data = super().to_representation(scan)
        data["error"] = data["error"] or None
        return data


class SiteOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    scans_url = serializers.SerializerMethodField()
    latest_scan = LatestScanOutput(allow_null=True, read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    state = serializers.SerializerMethodField(
        help_text="unreachable (the last attempt failed: `latest_scan` is the last good result), scanning, graded "
        "or never_scanned."
    )
    last_error = serializers.SerializerMethodField(
        help_text="Why the last attempt failed, when `state` is unreachable."
    )
    last_attempt = LastAttemptOutput(source="last_scan", allow_null=True, read_only=True)

    class Meta:
        model = Site
        fields = (
            "id",
            "url",
            "hostname",
            "https_port",
            "http_port",
            "created_at",
            "tags",
            "state",
            "last_error",
            "latest_scan",
            "last_attempt",
            "scans_url",
        )

    def get_state(self, site: Site) -> str:
        return site_state(site.last_scan.status if site.last_scan is not None else None, site.latest_scan_id)

    def get_last_error(self, site: Site) -> str | None:
        return (site.last_scan.error or None) if self.get_state(site) == "unreachable" else None

    def get_url(self, site: Site) -> str:
        return _absolute(self.context, "api:site-detail", site.pk)

    def get_scans_url(self, site: Site) -> str:
        return _absolute(self.context, "api:site-scans", site.pk)


class PortfolioSiteOutput(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ("id", "hostname", "https_port", "http_port")


class PortfolioOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    sites = PortfolioSiteOutput(many=True, read_only=True)
    schedule = serializers.SerializerMethodField()

    class Meta:
        model = Portfolio
        fields = ("id", "url", "name", "created_at", "alert_expiry_days", "compliance_profiles", "schedule", "sites")

    def get_schedule(self, portfolio: Portfolio) -> dict | None:
        return describe_schedule(portfolio)

    def get_url(self, portfolio: Portfolio) -> str:
        return _absolute(self.context, "api:portfolio-detail", portfolio.pk)


class PortfolioSummaryOutput(serializers.ModelSerializer):
    """A portfolio in the list: its size and a link to its sites (paginated), never the sites themselves,
    so a page of portfolios stays small however many sites they hold."""

    url = serializers.SerializerMethodField()
    site_count = serializers.IntegerField(read_only=True)
    sites_url = serializers.SerializerMethodField()
    schedule = serializers.SerializerMethodField()

    class Meta:
        model = Portfolio
        fields = ("id", "url", "name", "created_at", "alert_expiry_days", "schedule", "site_count", "sites_url")

    def get_schedule(self, portfolio: Portfolio) -> dict | None:
        return describe_schedule(portfolio)

    def get_url(self, portfolio: Portfolio) -> str:
        return _absolute(self.context, "api:portfolio-detail", portfolio.pk)

    def get_sites_url(self, portfolio: Portfolio) -> str:
        return f"{links_for(self.context).plain('api:site-list')}?portfolio={portfolio.pk}"


class BulkScanItemOutput(serializers.Serializer):
    site = serializers.IntegerField()
    host = serializers.CharField()
    scan = ScanSummaryOutput(allow_null=True)
    error = serializers.CharField(allow_null=True)


class ImportErrorOutput(serializers.Serializer):
    line_no = serializers.IntegerField()
    line = serializers.CharField()
    reason = serializers.CharField()


class ImportReportOutput(serializers.Serializer):
    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    errors = serializers.SerializerMethodField()

    def get_errors(self, report) -> list[dict]:
        return [{"line_no": line_no, "line": line, "reason": reason} for line_no, line, reason in report.errors]
