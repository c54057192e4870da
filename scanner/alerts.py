"""Alerts about a site after each finished scan; scanner.notifications delivers them to channels.

Each condition carries a state key (the expiring certificate's fingerprint, the grade drop, the outage's
start); Alert's unique (site, kind, state_key) makes a condition alert once until its state changes.
"""

from __future__ import annotations

import logging

from django.db import transaction

from scanner import config
from scanner.models import Alert, Scan
from scanner.queueing import DELIVER_ALERT, send_task

logger = logging.getLogger(__name__)

# --- Evaluating ------------------------------------------------------------


def _previous_finished(scan: Scan) -> Scan | None:
    return (
        Scan.objects.filter(site_id=scan.site_id, status__in=[Scan.Status.DONE, Scan.Status.FAILED])
        .exclude(pk=scan.pk)
        .order_by("-finished_at", "-id")
        .first()
    )


def expiry_window_days(site) -> int:
    """The widest window among the site's portfolios: whoever asked to hear earliest is told."""
    windows = [days for days in site.portfolios.values_list("alert_expiry_days", flat=True) if days is not None]
    return max(windows, default=config.alert_expiry_days())


def _certificate_within_window(scan: Scan) -> dict | None:
    certificate = (scan.result or {}).get("certificate") if scan.status == Scan.Status.DONE else None
    if not certificate or certificate.get("days_to_expiry") is None:
        return None
    if certificate["days_to_expiry"] > expiry_window_days(scan.site):
        return None
    return certificate


def _expiring_certificate(scan: Scan) -> tuple[str, str] | None:
    certificate = _certificate_within_window(scan)
    if certificate is None or certificate["days_to_expiry"] < 0:
        return None
    days = certificate["days_to_expiry"]
    when = f"expires in {days} day{'s' if days != 1 else ''}"
    return certificate["sha256_fingerprint"], f"The certificate of {scan.site} {when}."


def _expired_certificate(scan: Scan) -> tuple[str, str] | None:
    """Its own kind, so the title says "expired", and a certificate that was expiring alerts again on expiry."""
    certificate = _certificate_within_window(scan)
    if certificate is None or certificate["days_to_expiry"] >= 0:
        return None
    return certificate["sha256_fingerprint"], f"The certificate of {scan.site} has expired."


def _grade_drop(scan: Scan) -> tuple[str, str] | None:
    changes = scan.changes or {}
    if scan.status != Scan.Status.DONE or changes.get("direction") != "down":
        return None
    before, after = changes["grade_before"], changes["grade_after"]
    # The previous done scan is part of the key: a later drop between the same grades is a new event.
    key = f"{before}->{after}@{changes.get('previous_scan_id')}"
    return key, f"The grade of {scan.site} dropped from {before} to {after}."


def _unreachable(scan: Scan) -> tuple[str, str] | None:
    if scan.status != Scan.Status.FAILED:
        return None
    previous = _previous_finished(scan)
    if previous is None or previous.status != Scan.Status.FAILED:
        return None
    # One outage = the failures since the last good scan.
    key = f"since-scan-{scan.site.latest_scan_id or 0}"
    return key, f"{scan.site} could not be scanned twice in a row: {scan.error}"[:2000]


def _rescan_failed(scan: Scan) -> tuple[str, str] | None:
    """A portfolio rescan (scheduled or "Scan portfolio now") that failed or was skipped, e.g. a name that no
    longer resolves: nobody is watching that scan, so it must not fail silently. Once per outage."""
    if scan.status != Scan.Status.FAILED or scan.portfolio_id is None:
        return None
    key = f"since-scan-{scan.site.latest_scan_id or 0}"
    return key, f"The rescan of {scan.site} failed: {scan.error}"[:2000]


CONDITIONS = (
    (Alert.Kind.CERT_EXPIRING, _expiring_certificate),
    (Alert.Kind.CERT_EXPIRED, _expired_certificate),
    (Alert.Kind.GRADE_DROPPED, _grade_drop),
    (Alert.Kind.UNREACHABLE, _unreachable),
    (Alert.Kind.SCAN_FAILED, _rescan_failed),
)


def evaluate_alerts(scan: Scan) -> list[Alert]:
    """Create the alerts `scan` raises that were not raised before, and queue their delivery after commit."""
    raised = []
    for kind, condition in CONDITIONS:
        found = condition(scan)
        if found is None:
            continue
        state_key, message = found
        alert, created = Alert.objects.get_or_create(
            site=scan.site, kind=kind, state_key=state_key[:128], defaults={"message": message, "scan": scan}
        )
        if created:
            raised.append(alert)
            transaction.on_commit(lambda alert_id=alert.pk: _enqueue_delivery(alert_id))
    return raised


def _enqueue_delivery(alert_id: int) -> None:
    try:
        send_task(DELIVER_ALERT, args=[alert_id])
    except Exception:  # broker down: the alert stays "sending" (visible in its row) rather than failing a scan
        logger.exception("could not queue delivery of alert %s", alert_id)
