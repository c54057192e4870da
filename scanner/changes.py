"""What changed between two report documents (scanner.report.build_report) of the same site.

Pure: no database, so the comparison is testable with plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scanner.grading.compliance import failing_profiles
from scanner.grading.scale import GRADE_ORDER, grade_rank
from scanner.report_reader import CertificateView, ReportView


def grade_direction(before: str | None, after: str | None) -> str:
    """'up' when `after` is better than `before`, 'down' when worse, else 'same' (also when either is unknown)."""
    if before not in GRADE_ORDER or after not in GRADE_ORDER or before == after:
        return "same"
    return "up" if grade_rank(after) < grade_rank(before) else "down"


def _failing(report: ReportView) -> set[str]:
    return set(failing_profiles(report)) if report else set()


def certificate_change(before: CertificateView | None, after: CertificateView | None) -> str:
    """'unchanged', 'renewed' (same subject, new certificate), 'replaced' (different subject) or 'removed'/'added'."""
    if not before and not after:
        return "unchanged"
    if not after:
        return "removed"
    if not before:
        return "added"
    if before.sha256_fingerprint == after.sha256_fingerprint:
        return "unchanged"
    return "renewed" if before.subject == after.subject else "replaced"


def compare_reports(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> dict:
    """Changes from `previous` (None for a site's first scan) to `current`."""
    before, after = ReportView.from_document(previous), ReportView.from_document(current)
    grade_before, grade_after = before.grade.security, after.grade.security
    findings_before, findings_after = before.finding_ids, after.finding_ids
    protocols_before, protocols_after = before.enabled_protocols, after.enabled_protocols
    failing_before, failing_after = _failing(before), _failing(after)
    return {
        "first_scan": previous is None,
        "grade_before": grade_before,
        "grade_after": grade_after,
        "direction": grade_direction(grade_before, grade_after),
        "findings_new": sorted(findings_after - findings_before),
        "findings_fixed": sorted(findings_before - findings_after),
        "certificate": certificate_change(before.certificate, after.certificate),
        "protocols_added": sorted(protocols_after - protocols_before),
        "protocols_removed": sorted(protocols_before - protocols_after),
        # Compliance profiles the site stopped meeting / meets again (ids; the current profiles' verdicts).
        "compliance_failed": sorted(failing_after - failing_before),
        "compliance_met": sorted(failing_before - failing_after),
    }
