"""What changed between two report documents (scanner.report.build_report) of the same site.

Pure: no database, so the comparison is testable with plain dicts.
"""

from __future__ import annotations

from scanner.grading.compliance import failing_profiles
from scanner.grading.scale import GRADE_ORDER, grade_rank


def grade_direction(before: str | None, after: str | None) -> str:
    """'up' when `after` is better than `before`, 'down' when worse, else 'same' (also when either is unknown)."""
    if before not in GRADE_ORDER or after not in GRADE_ORDER or before == after:
        return "same"
    return "up" if grade_rank(after) < grade_rank(before) else "down"


def _grade(report: dict | None) -> str | None:
    return ((report or {}).get("grade") or {}).get("security")


def _finding_ids(report: dict | None) -> set[str]:
    return {finding["id"] for finding in (report or {}).get("findings") or ()}


def _enabled_protocols(report: dict | None) -> set[str]:
    return {name for name, enabled in ((report or {}).get("protocols") or {}).items() if enabled}


def _failing(report: dict | None) -> set[str]:
    return set(failing_profiles(report)) if report else set()


def certificate_change(before: dict | None, after: dict | None) -> str:
    """'unchanged', 'renewed' (same subject, new certificate), 'replaced' (different subject) or 'removed'/'added'."""
    if not before and not after:
        return "unchanged"
    if not after:
        return "removed"
    if not before:
        return "added"
    if before.get("sha256_fingerprint") == after.get("sha256_fingerprint"):
        return "unchanged"
    return "renewed" if before.get("subject") == after.get("subject") else "replaced"


def compare_reports(previous: dict | None, current: dict) -> dict:
    """Changes from `previous` (None for a site's first scan) to `current`."""
    grade_before, grade_after = _grade(previous), _grade(current)
    findings_before, findings_after = _finding_ids(previous), _finding_ids(current)
    protocols_before, protocols_after = _enabled_protocols(previous), _enabled_protocols(current)
    failing_before, failing_after = _failing(previous), _failing(current)
    return {
        "first_scan": previous is None,
        "grade_before": grade_before,
        "grade_after": grade_after,
        "direction": grade_direction(grade_before, grade_after),
        "findings_new": sorted(findings_after - findings_before),
        "findings_fixed": sorted(findings_before - findings_after),
        "certificate": certificate_change((previous or {}).get("certificate"), current.get("certificate")),
        "protocols_added": sorted(protocols_after - protocols_before),
        "protocols_removed": sorted(protocols_before - protocols_after),
        # Compliance profiles the site stopped meeting / meets again (ids; the current profiles' verdicts).
        "compliance_failed": sorted(failing_after - failing_before),
        "compliance_met": sorted(failing_before - failing_after),
    }
