"""Why an alert was raised, in data (stored on Alert.details, sent as the webhook's fields) and in words.

An operator reading an alert in a mailbox or a chat channel should not have to open the dashboard to learn
what changed: the grade before and after, which findings are new and which were fixed (with their titles),
the certificate's dates, the error of a failed scan.
"""

from __future__ import annotations

from scanner.models import Scan
from scanner.report_reader import FindingView, ReportView

# Sent in the webhook payload as "version": receivers can tell which fields to expect (docs/alerts.md).
DETAILS_VERSION = 2


def _finding_summary(finding: FindingView) -> dict:
    return {"id": finding.id, "severity": finding.severity or "", "title": finding.title or ""}


def _certificate_dates(report: ReportView) -> dict | None:
    certificate = report.certificate
    if certificate is None:
        return None
    return {
        "subject": certificate.subject,
        "issuer": certificate.issuer,
        "not_before": certificate.not_before,
        "not_after": certificate.not_after,
        "days_to_expiry": certificate.days_to_expiry,
    }


def scan_details(scan: Scan, previous: Scan | None) -> dict:
    """What `scan` shows against `previous` (the site's previous scan with a result, or None)."""
    changes = scan.changes or {}
    current = scan.result if scan.status == Scan.Status.DONE else None
    previous_report = ReportView.from_document(previous.result if previous else None)
    before = previous_report.findings_by_id()
    after = ReportView.from_document(current).findings_by_id()
    new_ids = changes.get("findings_new", sorted(set(after) - set(before))) if current else []
    fixed_ids = changes.get("findings_fixed", sorted(set(before) - set(after))) if current else []
    return {
        "grade": {
            "before": (previous.security_grade or None) if previous else None,
            "after": (scan.security_grade or None) if current is not None else None,
        },
        "findings_new": [_finding_summary(after[i]) for i in new_ids if i in after],
        "findings_fixed": [_finding_summary(before[i]) for i in fixed_ids if i in before],
        "certificate": _certificate_dates(
            ReportView.from_document(current) if current is not None else previous_report
        ),
        "certificate_change": changes.get("certificate") if current is not None else None,
        "scan": {
            "id": scan.pk,
            "status": scan.status,
            "error": scan.error or None,
            "finished_at": scan.finished_at.isoformat() if scan.finished_at else None,
        },
        "first_scan": previous is None,
    }


def _date(value: str | None) -> str:
    return str(value)[:10] if value else "?"


def reason_lines(details: dict) -> list[str]:
    """The details in words, one fact per line, for e-mail, chat and the alerts page."""
    lines = []
    grade = details.get("grade") or {}
    failed = (details.get("scan") or {}).get("status") == "failed"
    if failed and grade.get("before"):
        lines.append(f"Last good grade: {grade['before']}")
    elif not failed and grade.get("before") and grade.get("before") == grade.get("after"):
        lines.append(f"Grade: {grade['after']} (unchanged)")  # a recovery after an outage: "A -> A" reads as a typo
    elif not failed and grade.get("after") and not grade.get("before"):
        lines.append(f"Grade: {grade['after']} (first scan)")
    elif not failed and (grade.get("before") or grade.get("after")):
        lines.append(f"Grade: {grade.get('before') or 'none'} -> {grade.get('after') or 'none'}")
    error = (details.get("scan") or {}).get("error")
    if error:
        lines.append(f"Error: {error}")
    for label, key in (("New finding", "findings_new"), ("Fixed", "findings_fixed")):
        for finding in details.get(key) or ():
            severity = f" ({finding['severity']})" if finding.get("severity") else ""
            lines.append(f"{label}{severity}: {finding['title'] or finding['id']} [{finding['id']}]")
    certificate = details.get("certificate")
    if certificate:
        days = certificate.get("days_to_expiry")
        left = "" if days is None else (f", expired {-days} days ago" if days < 0 else f", {days} days left")
        change = details.get("certificate_change")
        changed = f" ({change})" if change and change not in ("unchanged", "added") else ""
        lines.append(
            f"Certificate{changed}: valid {_date(certificate.get('not_before'))} to "
            f"{_date(certificate.get('not_after'))}{left}"
        )
    return lines


def message_text(headline: str, details: dict) -> str:
    # A failed scan's headline already quotes its error.
    lines = [line for line in reason_lines(details) if line.removeprefix("Error: ") not in headline]
    return "\n".join([headline, *lines])[:4000]
