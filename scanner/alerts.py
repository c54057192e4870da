"""Alerts about a site after each finished scan; scanner.notifications delivers them to channels.

Each condition carries a state key (the expiring certificate's fingerprint, the grade drop, the outage's
start); Alert's unique (site, kind, state_key) makes a condition alert once until its state changes.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q

from scanner import config
from scanner.alert_reasons import message_text, scan_details
from scanner.compliance_alerts import compliance_change
from scanner.models import Alert, Scan, Site
from scanner.queueing import DELIVER_ALERT, send_task
from scanner.report_reader import CertificateView, ReportView

logger = logging.getLogger(__name__)

# --- Evaluating ------------------------------------------------------------


def _previous_finished(scan: Scan) -> Scan | None:
    # Only its status is read: not its report, a document of tens of kilobytes decoded for nothing.
    return (
        Scan.objects.filter(site_id=scan.site_id, status__in=[Scan.Status.DONE, Scan.Status.FAILED])
        .exclude(pk=scan.pk)
        .order_by("-finished_at", "-id")
        .only("id", "status")
        .first()
    )


def _previous_done(scan: Scan) -> Scan | None:
    return (
        Scan.objects.filter(site_id=scan.site_id, status=Scan.Status.DONE)
        .exclude(pk=scan.pk)
        .order_by("-finished_at", "-id")
        .first()
    )


def expiry_window_days(site: Site) -> int:
    """The widest window among the site's portfolios: whoever asked to hear earliest is told."""
    windows = [days for days in site.portfolios.values_list("alert_expiry_days", flat=True) if days is not None]
    return max(windows, default=config.alert_expiry_days())


def _certificate_within_window(scan: Scan) -> CertificateView | None:
    certificate = ReportView.from_document(scan.result).certificate if scan.status == Scan.Status.DONE else None
    if certificate is None or certificate.days_to_expiry is None:
        return None
    if certificate.days_to_expiry > expiry_window_days(scan.site):
        return None
    return certificate


def _expiring_certificate(scan: Scan) -> tuple[str, str] | None:
    certificate = _certificate_within_window(scan)
    if certificate is None or certificate.days_to_expiry < 0:
        return None
    days = certificate.days_to_expiry
    when = f"expires in {days} day{'s' if days != 1 else ''}"
    return certificate.sha256_fingerprint, f"The certificate of {scan.site} {when}."


def _expired_certificate(scan: Scan) -> tuple[str, str] | None:
    """Its own kind, so the title says "expired", and a certificate that was expiring alerts again on expiry."""
    certificate = _certificate_within_window(scan)
    if certificate is None or certificate.days_to_expiry >= 0:
        return None
    return certificate.sha256_fingerprint, f"The certificate of {scan.site} has expired."


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


# A first result this bad, or a first attempt that failed, alerts at once: a new site that is broken or
# untrusted must not stay silent until it changes.
BAD_FIRST_GRADES = ("F", "T", "M")
FIRST_RESULT, FIRST_ATTEMPT = "first-result", "first-attempt"


def _bad_first_scan(scan: Scan) -> tuple[str, str] | None:
    if scan.status == Scan.Status.DONE:
        if not (scan.changes or {}).get("first_scan") or scan.security_grade not in BAD_FIRST_GRADES:
            return None
        return FIRST_RESULT, f"The first scan of {scan.site} was graded {scan.security_grade}."
    # A portfolio rescan's failure already alerts as "Rescan failed" (_rescan_failed).
    if scan.status == Scan.Status.FAILED and scan.portfolio_id is None and _previous_finished(scan) is None:
        return FIRST_ATTEMPT, f"The first scan of {scan.site} failed: {scan.error}"[:2000]
    return None


# The alerts a recovery answers: a recovery is news only after a problem was reported and not yet recovered.
GRADE_PROBLEMS = Q(kind=Alert.Kind.GRADE_DROPPED) | Q(kind=Alert.Kind.FIRST_SCAN_BAD, state_key=FIRST_RESULT)
OUTAGE_PROBLEMS = Q(kind__in=[Alert.Kind.UNREACHABLE, Alert.Kind.SCAN_FAILED]) | Q(
    kind=Alert.Kind.FIRST_SCAN_BAD, state_key=FIRST_ATTEMPT
)


def _problem_open(scan: Scan, problems: Q, recovery_prefix: str) -> bool:
    last_problem = Alert.objects.filter(problems, site_id=scan.site_id).order_by("-id").first()
    if last_problem is None:
        return False
    recovered = Alert.objects.filter(
        site_id=scan.site_id, kind=Alert.Kind.RECOVERED, state_key__startswith=recovery_prefix, id__gt=last_problem.pk
    )
    return not recovered.exists()


def _grade_recovered(scan: Scan) -> tuple[str, str] | None:
    changes = scan.changes or {}
    if scan.status != Scan.Status.DONE or changes.get("direction") != "up":
        return None
    if not _problem_open(scan, GRADE_PROBLEMS, "grade"):
        return None
    before, after = changes["grade_before"], changes["grade_after"]
    return f"grade:{after}@{scan.pk}", f"{scan.site} is back to {after} (the grade rose from {before})."


def _reachable_again(scan: Scan) -> tuple[str, str] | None:
    if scan.status != Scan.Status.DONE:
        return None
    previous = _previous_finished(scan)
    if previous is None or previous.status != Scan.Status.FAILED:
        return None
    if not _problem_open(scan, OUTAGE_PROBLEMS, "reachable"):
        return None
    graded = f" (graded {scan.security_grade})" if scan.security_grade else ""
    return f"reachable@{scan.pk}", f"{scan.site} is reachable again{graded}."


CONDITIONS = (
    (Alert.Kind.CERT_EXPIRING, _expiring_certificate),
    (Alert.Kind.CERT_EXPIRED, _expired_certificate),
    (Alert.Kind.GRADE_DROPPED, _grade_drop),
    (Alert.Kind.UNREACHABLE, _unreachable),
    (Alert.Kind.SCAN_FAILED, _rescan_failed),
    (Alert.Kind.COMPLIANCE_CHANGED, compliance_change),
    (Alert.Kind.FIRST_SCAN_BAD, _bad_first_scan),
    (Alert.Kind.RECOVERED, _grade_recovered),
    (Alert.Kind.RECOVERED, _reachable_again),
)


def evaluate_alerts(scan: Scan) -> list[Alert]:
    """Create the alerts `scan` raises that were not raised before, and queue their delivery after commit.
    Each carries its reason (scanner.alert_reasons): in its message, and as data in `details`."""
    raised = []
    details = None
    for kind, condition in CONDITIONS:
        found = condition(scan)
        if found is None:
            continue
        state_key, headline = found
        if details is None:
            details = scan_details(scan, _previous_done(scan))
        alert, created = Alert.objects.get_or_create(
            site=scan.site,
            kind=kind,
            state_key=state_key[:128],
            defaults={"message": message_text(headline, details), "details": details, "scan": scan},
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
