"""The per-target limit: one host and port is scanned at most once per SCANNER_TARGET_MIN_INTERVAL seconds, whoever
asks, so the service cannot be used to hammer a third party. A person's request and the bulk rescan planner
(scan_fanout) both answer by these rules."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from scanner import config
from scanner.alerts import evaluate_alerts
from scanner.models import Finding, Scan, Site
from scanner.services.compliance import record_scan_compliance
from scanner.services.errors import ScanRequestTooSoon
from scanner.services.scan_dispatch import stale_reason
from scanner.services.scan_results import changes_since_previous, site_attempted, site_took_result


def lock_targets(targets: list[tuple[str, int]]) -> None:
    """Requests for one target from different accounts lock different site rows; a transaction-scoped lock on
    the target itself (host and port) makes them take turns, so two cannot both start a scan. Several targets
    are locked in one statement, in the order given: callers pass them sorted, so two cannot deadlock."""
    if connection.vendor != "postgresql":
        return  # SQLite serialises writers anyway
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(key)) FROM unnest(%s::text[]) AS key",
            [[f"scan-target:{host}:{port}" for host, port in targets]],
        )


def recent_scan_of_target(site: Site) -> Scan | None:
    """The per-target limit: one host and port is scanned at most once per SCANNER_TARGET_MIN_INTERVAL seconds,
    whoever asks, so the service cannot be used to hammer a third party. Inside the window the recent result
    answers (copied onto the asker's own site: users never see each other's rows); a scan of the target still
    running for another account is refused for now with the time to retry."""
    window = config.target_min_interval()
    if not window:
        return None
    lock_targets([(site.hostname, site.https_port)])
    since = timezone.now() - timedelta(seconds=window)
    same_target = Scan.objects.filter(site__hostname=site.hostname, site__https_port=site.https_port)
    # Every attempt counts, failed ones included: a closed port or a tarpit is not knocked on again within the
    # window either. A scan that never started (its message could not be sent) never reached the target.
    attempted = same_target.filter(
        status__in=(Scan.Status.DONE, Scan.Status.FAILED), started_at__isnull=False, finished_at__gte=since
    )
    done = attempted.order_by("-finished_at").first()
    if done is not None:
        return done if done.site_id == site.pk else copy_scan(done, site)
    running = [
        scan
        for scan in same_target.filter(status__in=Scan.ACTIVE_STATUSES).exclude(site=site)
        if stale_reason(scan) is None  # a stuck scan of someone else's must not block the target for good
    ]
    if running:
        raise target_busy(site)
    return None


def copy_scan(source: Scan, site: Site) -> Scan:
    """A finished (done or failed) scan of the same target, recorded for another user's site as if it had been
    run for it."""
    copy_fields = (
        "started_at",
        "finished_at",
        "security_grade",
        "security_ignoring_trust",
        "score",
        "seo_score",
        "seo_grade",
        "error",
        "result",
        "ip",
    )
    scan = Scan.objects.create(
        site=site, status=source.status, attempts=0, **{name: getattr(source, name) for name in copy_fields}
    )
    if source.status == Scan.Status.DONE:
        scan.changes = changes_since_previous(scan)
        scan.save(update_fields=["changes"])
    Finding.objects.bulk_create(
        Finding(scan=scan, site=site, finding_id=f.finding_id, area=f.area, severity=f.severity, title=f.title)
        for f in source.findings.all()
    )
    record_scan_compliance(scan)  # before the site takes the result: it copies the failing profiles
    site_attempted(scan)
    if source.status == Scan.Status.DONE:
        site_took_result(scan)
    evaluate_alerts(scan)
    return scan


def target_busy(site: Site) -> ScanRequestTooSoon:
    """The refusal for a site whose target is being scanned right now for another account."""
    return ScanRequestTooSoon(
        f"{site} is being scanned right now for another account; its result will answer your request "
        "once it is done. Try again in a minute.",
        retry_after=60,
    )
