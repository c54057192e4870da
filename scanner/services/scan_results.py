"""Storing what a scan ended with: grades, findings, the report document, the site's current state, and
the alerts its changes raise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from scanner.alerts import evaluate_alerts
from scanner.changes import compare_reports
from scanner.grading.scale import GRADE_ORDER, UNREACHABLE_RANK, triage_rank
from scanner.models import Finding, Scan, Site
from scanner.report_reader import ReportView
from scanner.services.compliance import record_scan_compliance
from scanner.services.portfolio_days import portfolio_days_forget
from scanner.services.scan_documents import scan_documents_forget
from scanner.services.site_versions import sites_changed

if TYPE_CHECKING:
    from scanner.engine.results import ScanResult
    from scanner.grading import Grades


def _graded_rank(grade: str | F) -> Value | Coalesce:
    """The grade's part of Site.triage_rank: a given letter's, or (F) the site's stored grade_rank's."""
    if isinstance(grade, F):
        return Coalesce(grade + 1, Value(0))
    return Value(triage_rank(grade, unreachable=False))


def _unreachable_rank(failed: bool | Exists) -> Value | Case:
    if isinstance(failed, Exists):
        return Case(When(failed, then=Value(UNREACHABLE_RANK)), default=Value(0))
    return Value(UNREACHABLE_RANK if failed else 0)


def site_attempted(scan: Scan) -> None:
    """The site's most recent attempt is this new scan (denormalised for the overview's "last scanned"); the
    site is unreachable from now on only if that attempt is already a failure (a copied one)."""
    Site.objects.filter(pk=scan.site_id).update(
        last_scan=scan,
        last_scan_at=scan.requested_at,
        triage_rank=_graded_rank(F("grade_rank")) + _unreachable_rank(scan.status == Scan.Status.FAILED),
    )
    sites_changed(owner_ids=[scan.site.owner_id])


def sites_attempted(scans: list[Scan]) -> None:
    """site_attempted for many new queued scans, one per site, in one statement: each site's last attempt is its
    scan here, and none of them makes its site unreachable (a queued scan has not failed)."""
    new_scan = Scan.objects.filter(pk__in=[scan.pk for scan in scans], site_id=OuterRef("pk"))
    Site.objects.filter(pk__in=[scan.site_id for scan in scans]).update(
        last_scan=Subquery(new_scan.values("pk")[:1]),
        last_scan_at=Subquery(new_scan.values("requested_at")[:1]),
        triage_rank=_graded_rank(F("grade_rank")) + _unreachable_rank(False),
    )
    sites_changed(owner_ids=[scan.site.owner_id for scan in scans])


def site_attempt_failed(scan: Scan) -> None:
    """A failed scan that is still the site's last attempt makes the site unreachable (a newer attempt, already
    asked for, decides that instead)."""
    if Site.objects.filter(pk=scan.site_id, last_scan=scan).update(
        triage_rank=_graded_rank(F("grade_rank")) + _unreachable_rank(True)
    ):
        sites_changed(owner_ids=[scan.site.owner_id])


def site_took_result(scan: Scan) -> None:
    """A done scan is the site's current state: its grade, certificate expiry and failing compliance profiles
    (recorded on the scan first: record_scan_compliance), copied onto the site so the overview filters and sorts
    on indexed columns and a portfolio's counts read no scans."""
    certificate = ReportView.from_document(scan.result).certificate
    not_after = certificate.not_after if certificate else None
    try:
        expiry = datetime.fromisoformat(str(not_after)) if not_after else None
    except ValueError:
        expiry = None
    if expiry is not None and expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=UTC)
    grade = scan.security_grade or ""
    # A result may land after a newer attempt already failed: the site stays unreachable until one succeeds.
    last_failed = Exists(Scan.objects.filter(pk=OuterRef("last_scan_id"), status=Scan.Status.FAILED))
    Site.objects.filter(pk=scan.site_id).update(
        latest_scan=scan,
        grade=grade,
        grade_rank=GRADE_ORDER.index(grade) if grade in GRADE_ORDER else None,
        cert_not_after=expiry,
        compliance_failing=scan.compliance_failing,
        triage_rank=_graded_rank(grade) + _unreachable_rank(last_failed),
    )
    sites_changed(owner_ids=[scan.site.owner_id])
    if scan.finished_at and scan.finished_at.date() < timezone.now().date():
        # A copied result finished on an earlier day: the portfolios' standings kept since then were without it.
        portfolio_days_forget(site_id=scan.site_id, since=scan.finished_at.date())


def store_outcome(scan: Scan, result: ScanResult, grades: Grades, document: dict) -> Scan:
    """Persist a finished engine run (done or failed) with its grades, findings and report document."""
    site = scan.site
    with transaction.atomic():
        scan.status = Scan.Status.FAILED if result.error else Scan.Status.DONE
        scan.error = result.error or ""
        scan.finished_at = timezone.now()
        scan.ip = result.ip or scan.ip
        scan.security_grade = grades.security or ""
        scan.security_ignoring_trust = grades.security_ignoring_trust or ""
        scan.score = grades.score
        scan.seo_score = grades.seo_score
        scan.seo_grade = grades.seo_grade or ""
        scan.result = document
        scan.changes = None if result.error else changes_since_previous(scan)
        scan.save()
        scan.findings.all().delete()  # a redelivered scan may have stored some before its worker died
        scan_documents_forget([scan.pk])  # ...and been read, its document stored, in between
        Finding.objects.bulk_create(
            Finding(
                scan=scan,
                site=site,
                finding_id=finding.id[:64],
                area=(finding.area or "")[:32],
                severity=str(finding.severity or "")[:16],
                title=(finding.title or "")[:255],
            )
            for finding in grades.findings
        )
        # Before the site takes the result (it copies the failing profiles) and the alerts (a profile newly failed
        # is one of them).
        record_scan_compliance(scan)
        if scan.status == Scan.Status.DONE:
            site_took_result(scan)
        else:
            site_attempt_failed(scan)
        evaluate_alerts(scan)
    return scan


def changes_since_previous(scan: Scan) -> dict:
    """compare_reports against the site's previous done scan, plus that scan's id."""
    previous = (
        Scan.objects.filter(site_id=scan.site_id, status=Scan.Status.DONE)
        .exclude(pk=scan.pk)
        .order_by("-finished_at", "-id")
        .first()
    )
    return {
        **compare_reports(previous.result if previous else None, scan.result or {}),
        "previous_scan_id": previous.pk if previous else None,
    }


def fail_scan(scan_id: int, reason: str) -> Scan | None:
    with transaction.atomic():
        scan = Scan.objects.select_for_update().filter(pk=scan_id).first()
        if scan is None:
            return None
        return finish_failed(scan, reason)


def finish_failed(scan: Scan, reason: str) -> Scan:
    scan.status = Scan.Status.FAILED
    scan.error = reason
    scan.finished_at = timezone.now()
    scan.save(update_fields=["status", "error", "finished_at"])
    site_attempt_failed(scan)
    # Crashes, time limits and given-up redeliveries never reach store_outcome, yet count as outages too.
    evaluate_alerts(scan)
    return scan
