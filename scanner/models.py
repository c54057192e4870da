"""Sites users own, portfolios grouping them, scans run against them and the findings each scan produced.

Portfolio-wide questions ("which of my sites have an expired certificate?", "all sites graded below B")
go through `Site.latest_scan`, so each is one indexed join instead of a "latest scan per site" subquery.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from scanner.grading.scale import GRADE_ORDER  # noqa: F401 - the one grade scale lives there; kept for old imports
from scanner.indexes import NullsOrderIndex
from scanner.list_facts import list_facts
from scanner.schedule_models import RescanSchedule


class Site(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sites")
    hostname = models.CharField(max_length=253)  # normalised A-label, lower case, no trailing dot
    https_port = models.PositiveIntegerField(default=443)
    http_port = models.PositiveIntegerField(default=80)
    created_at = models.DateTimeField(auto_now_add=True)
    # The most recent scan that finished with a result; failed attempts do not erase the last known state.
    latest_scan = models.ForeignKey("Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The owner's opt-in for /badge/<id>.svg; a badge reveals the grade to anyone with the URL.
    badge_public = models.BooleanField(default=False)
    # An opt-in read-only report at /r/<share_token>/; empty = not shared. Revoking clears it, so old links die.
    share_token = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # Alerts are still recorded for a muted site (so its history is complete) but sent to no channel.
    alerts_muted = models.BooleanField(default=False)
    # --- Current state, denormalised from the scans by scanner.services (never written elsewhere), so the
    # overview sorts and filters 10,000 sites on indexed columns of this table instead of per-row subqueries.
    grade = models.CharField(max_length=4, blank=True, default="")  # latest_scan.security_grade
    grade_rank = models.PositiveSmallIntegerField(null=True, blank=True)  # its place in GRADE_ORDER (0 = A+)
    cert_not_after = models.DateTimeField(null=True, blank=True)  # latest_scan's certificate expiry
    # latest_scan's failing compliance profiles as stored on it (" id1 id2 "): a portfolio's counts per profile
    # are then part of its one grouped pass over its sites (webui.dashboard.triage), no join to the scans.
    compliance_failing = models.CharField(max_length=400, blank=True, default="", db_default="")
    # The most recent attempt in any status (queued, running, failed...), unlike latest_scan, and when it was asked.
    last_scan = models.ForeignKey("Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_scan_at = models.DateTimeField(null=True, blank=True)
    # Worst first as one number (scanner.grading.scale.triage_rank): the grade and whether the last attempt failed.
    triage_rank = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("hostname", "https_port")
        constraints = (
            models.UniqueConstraint(fields=["owner", "hostname", "https_port"], name="site_unique_per_owner"),
        )
        # One per overview sort/filter, led by owner, in its ORDER BY's order: the first page comes off the index.
        indexes = (
            models.Index(F("owner"), F("triage_rank").desc(), F("hostname"), name="site_owner_triage"),
            models.Index(
                F("owner"), F("grade"), F("triage_rank").desc(), F("hostname"), name="site_owner_grade_triage"
            ),
            models.Index(F("owner"), F("cert_not_after").asc(), F("hostname"), name="site_owner_expiry"),
            NullsOrderIndex(
                F("owner"), F("last_scan_at").desc(nulls_last=True), F("hostname"), name="site_owner_scanned_last"
            ),
            # The per-target limit asks, for every scan requested, about the same host and port across accounts.
            models.Index(fields=["hostname", "https_port"], name="site_target"),
        )

    def __str__(self) -> str:
        return self.hostname if self.https_port == 443 else f"{self.hostname}:{self.https_port}"


class SiteTag(models.Model):
    """A label on a site (e.g. a client's name), set by imports and used by the overview's tag filter."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=32)

    class Meta:
        ordering = ("name",)
        constraints = (models.UniqueConstraint(fields=["site", "name"], name="sitetag_once_per_site"),)

    def __str__(self) -> str:
        return self.name


class Portfolio(RescanSchedule):  # rescan_cron, next_rescan_at: when beat's minute tick rescans it
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portfolios")
    name = models.CharField(max_length=100)
    sites = models.ManyToManyField(Site, blank=True, related_name="portfolios")
    # Days before expiry at which this portfolio's sites raise a certificate alert; None = SCANNER_ALERT_EXPIRY_DAYS.
    alert_expiry_days = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Which channels hear about this portfolio's sites: every channel of the owner, or only `channels`.
    notify_all_channels = models.BooleanField(default=True)
    channels = models.ManyToManyField("Channel", blank=True, related_name="portfolios")
    # Compliance profile ids (scanner.grading.compliance.PROFILE_IDS) shown and counted for this portfolio.
    compliance_profiles = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("name",)
        constraints = (models.UniqueConstraint(fields=["owner", "name"], name="portfolio_name_unique_per_owner"),)

    def __str__(self) -> str:
        return self.name


class Scan(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="scans")
    portfolio = models.ForeignKey(Portfolio, null=True, blank=True, on_delete=models.SET_NULL, related_name="scans")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    security_grade = models.CharField(max_length=4, blank=True, default="")
    security_ignoring_trust = models.CharField(max_length=4, blank=True, default="")
    score = models.IntegerField(null=True, blank=True)
    seo_score = models.IntegerField(null=True, blank=True)
    seo_grade = models.CharField(max_length=4, blank=True, default="")
    error = models.TextField(blank=True, default="")
    result = models.JSONField(null=True, blank=True)  # scanner.report.build_report's document
    # What a site list shows of the report (scanner.list_facts), derived from `result` on every save that writes
    # it, like a generated column: list pages read these few hundred bytes, never the report.
    list_facts = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)  # the address checked and scanned
    attempts = models.PositiveSmallIntegerField(default=0)  # >1 means a worker died and Celery redelivered
    celery_task_id = models.CharField(max_length=64, blank=True, default="")
    changes = models.JSONField(null=True, blank=True)  # scanner.changes.compare_reports vs the previous done scan
    # " id1 id2 " of the compliance profiles the report fails (scanner.services.compliance): space-delimited so
    # `?fails=` is one LIKE on the latest scans, without reading the report documents.
    compliance_failing = models.CharField(max_length=400, blank=True, default="")
    # Delivery bookkeeping (docs/reliability.md): a scheduled rescan batch is held back until release_at;
    # enqueued_at is when its message was last sent (null: not sent yet); a running scan's worker
    # ("host:pid") refreshes heartbeat_at, so the reaper can tell a dead worker from a slow scan.
    release_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=128, blank=True, default="")
    # The worker node ("name@host") that took the queued scan's message from the broker (its prefetch):
    # when that node's heartbeat stops, the message died with it and the reaper sends another at once.
    reserved_by = models.CharField(max_length=255, blank=True, default="")

    def save(self, *args: object, **kwargs: object) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "result" in update_fields:
            self.list_facts = list_facts(self.result)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "list_facts"}
        super().save(*args, **kwargs)

    class Meta:
        ordering = ("-requested_at", "-id")
        indexes = (
            models.Index(fields=["site", "-requested_at"], name="scan_site_history"),
            models.Index(fields=["status", "requested_at"], name="scan_status_age"),
            # Beat's 15 s release (held rows) and reaper (sent, waiting) must not read a day's held-back rescans.
            models.Index(
                fields=["release_at", "id"],
                name="scan_held_release",
                condition=Q(status="queued", enqueued_at__isnull=True),
            ),
            models.Index(
                fields=["enqueued_at"],
                name="scan_sent_waiting",
                condition=Q(status="queued", enqueued_at__isnull=False),
            ),
        )
        constraints = (
            # The database, not a race-prone check in Python, guarantees one queued/running scan per site.
            models.UniqueConstraint(
                fields=["site"], condition=Q(status__in=["queued", "running"]), name="scan_one_active_per_site"
            ),
        )

    def __str__(self) -> str:
        return f"scan {self.pk} of {self.site} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class ScanDocument(models.Model):
    """A finished scan's API document as it is sent (JSON bytes, its links relative to the service), rendered on
    its first read and served as stored after that: a finished scan does not change. `version` names the code
    that rendered it, so a deploy that changes the document (or the compliance profiles) renders it again;
    `scan_portfolio_id` is the scan's portfolio when rendered (deleting the portfolio clears the scan's)."""

    scan = models.OneToOneField(Scan, on_delete=models.CASCADE, primary_key=True, related_name="document")
    version = models.CharField(max_length=64)
    scan_portfolio_id = models.BigIntegerField(null=True)
    body = models.BinaryField()


class Finding(models.Model):
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="findings")
    # Denormalised from scan.site so "every site with finding X" needs no join through scans.
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="findings")
    finding_id = models.CharField(max_length=64)  # e.g. cert.expired
    area = models.CharField(max_length=32, blank=True, default="")
    severity = models.CharField(max_length=16, blank=True, default="")
    title = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ("id",)
        indexes = (
            models.Index(fields=["finding_id", "site"], name="finding_id_site"),
            models.Index(fields=["scan", "finding_id"], name="finding_scan_id"),
        )

    def __str__(self) -> str:
        return f"{self.finding_id} on {self.site}"


class Alert(models.Model):
    """One notification about a site. `state_key` identifies the condition's state (e.g. the expiring
    certificate's fingerprint), so the same state never alerts twice.

    `status` is derived from the alert's deliveries (scanner.notifications.refresh_alert_status) and stored
    so lists can filter on it; it never claims more than the deliveries show.
    """

    class Kind(models.TextChoices):
        CERT_EXPIRING = "cert_expiring", "Certificate expiring"
        CERT_EXPIRED = "cert_expired", "Certificate expired"
        GRADE_DROPPED = "grade_dropped", "Grade dropped"
        UNREACHABLE = "unreachable", "Unreachable"
        SCAN_FAILED = "scan_failed", "Rescan failed"
        COMPLIANCE_CHANGED = "compliance_changed", "Compliance changed"
        FIRST_SCAN_BAD = "first_scan_bad", "Bad first scan"
        RECOVERED = "recovered", "Recovered"

    class Status(models.TextChoices):
        PENDING = "pending", "sending"
        SENT = "sent", "sent"
        PARTLY_FAILED = "partly_failed", "partly failed"
        FAILED = "failed", "failed"
        NO_CHANNEL = "no_channel", "no channel configured"
        MUTED = "muted", "muted (not sent)"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="alerts")
    scan = models.ForeignKey(Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state_key = models.CharField(max_length=128)
    message = models.TextField()
    # Why, as data (scanner.alert_reasons.scan_details): grades before/after, findings new/fixed, certificate dates.
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = (models.UniqueConstraint(fields=["site", "kind", "state_key"], name="alert_once_per_state"),)

    def __str__(self) -> str:
        return f"{self.kind} on {self.site}"


class Channel(models.Model):
    """Where a user's alerts go: an e-mail address, a signed webhook, a Slack or a Microsoft Teams webhook."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook (signed JSON)"
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100, blank=True, default="")
    target = models.CharField(max_length=500)  # an e-mail address or an https URL
    secret = models.CharField(max_length=128, blank=True, default="")  # webhook signing secret
    # The account's own address (set at signup and in settings): follows changes of the account e-mail.
    is_account_email = models.BooleanField(default=False)
    # E-mail addresses receive nothing until their owner follows the link sent to them; URLs need no check.
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_error = models.TextField(blank=True, default="")
    test_requested_at = models.DateTimeField(null=True, blank=True)  # "Send test" queued, not yet answered
    # Opt-in (e-mail channels only): a weekly digest per portfolio this channel hears about (scanner.digest).
    weekly_digest = models.BooleanField(default=False)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()}: {self.shown_target}"

    # Slack and Teams incoming-webhook URLs are bearer secrets: whoever reads one can post to the channel.
    SECRET_URL_KINDS = ("slack", "teams")

    @property
    def shown_target(self) -> str:
        """The target as pages and logs show it: a Slack or Teams URL keeps its host and last 4 characters."""
        if self.kind not in self.SECRET_URL_KINDS:
            return self.target
        scheme, _, rest = self.target.partition("://")
        host = rest.split("/", 1)[0]
        return f"{scheme}://{host}/…{self.target[-4:]}"

    @property
    def usable(self) -> bool:
        return self.verified_at is not None

    @property
    def test_pending(self) -> bool:
        """A "Send test" is queued and its outcome has not landed yet."""
        return self.test_requested_at is not None and (
            self.last_test_at is None or self.last_test_at < self.test_requested_at
        )


class Delivery(models.Model):
    """One alert sent to one channel: the delivery log. Attempts count tries, so "retried" is visible."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        RETRYING = "retrying", "retrying"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")
    channel_label = models.CharField(max_length=200)  # kept when the channel is deleted later
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        constraints = (models.UniqueConstraint(fields=["alert", "channel"], name="delivery_once_per_channel"),)

    def __str__(self) -> str:
        return f"{self.alert} to {self.channel_label}: {self.status}"


class LimitEvent(models.Model):
    """One counted event of an abuse limit: scans an account requested, a sign-up from an address, a
    confirmation mail to a recipient. Kept for a day (the longest window), whatever happens to the sites or
    channels it was about, so deleting them gives nothing back. Pruned daily (services.prune_limit_events)."""

    class Kind(models.TextChoices):
        SCANS = "scans", "scans requested by an account"
        SIGNUP_ADDRESS = "signup_address", "sign-ups from a client address"
        SIGNUP = "signup", "sign-ups, all addresses"
        MAIL_ADDRESS = "mail_address", "confirmation mails asked for from a client address"
        MAIL_RECIPIENT = "mail_recipient", "confirmation mails sent to a recipient"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=255)  # user id, client address or e-mail recipient, by kind
    cost = models.PositiveIntegerField(default=1)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = (models.Index(fields=["kind", "key", "at"], name="limit_event_lookup"),)


class AccountSignup(models.Model):
    """An account created through the public sign-up form (not by the operator): such accounts scan only once
    their e-mail address is confirmed, when SCANNER_SCANS_NEED_CONFIRMED_EMAIL is on."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signup")
    address = models.CharField(max_length=64, blank=True, default="")
    signed_up_at = models.DateTimeField(auto_now_add=True)


from scanner.bulk_models import BulkOperation  # noqa: F401 - registered with the app through this module
from scanner.evidence_models import ComplianceEvidence  # noqa: F401 - likewise
from scanner.history_models import PortfolioDay  # noqa: F401 - likewise
from scanner.site_state_models import SitesVersion  # noqa: F401 - likewise
