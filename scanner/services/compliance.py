"""Writes for compliance profiles: each finished scan's failing profiles, a portfolio's chosen profiles.

The verdict itself is plain grading (scanner.grading.compliance) read from the stored report; only the list of
failing profile ids is stored on the scan, so `?fails=`, the portfolio counts and the export filter and count
without reading 10,000 report documents. Reports shown to people are re-evaluated at read time
(scanner.report.with_compliance), and `manage.py compliance_refresh` re-stores the ids after a profile update.
"""

from __future__ import annotations

from collections.abc import Iterable

from scanner.grading.compliance import PROFILE_IDS, failing_profiles
from scanner.models import Portfolio, Scan, Site
from scanner.services.errors import ScanRequestError
from scanner.services.portfolio_days import portfolio_days_forget
from scanner.services.site_versions import sites_changed


class InvalidProfiles(ScanRequestError):
    def __init__(self, message: str) -> None:
        super().__init__(message, field="compliance_profiles")


def failing_field(report: dict | None) -> str:
    """The stored form: " id1 id2 " (spaces around every id, so a LIKE on " id " never matches a prefix)."""
    failing = failing_profiles(report) if report else []
    return f" {' '.join(failing)} " if failing else ""


def record_scan_compliance(scan: Scan) -> None:
    """Store which profiles a finished scan fails (a failed scan fails none: it is not applicable)."""
    value = failing_field(scan.result) if scan.status == Scan.Status.DONE else ""
    if value != scan.compliance_failing:
        scan.compliance_failing = value
        Scan.objects.filter(pk=scan.pk).update(compliance_failing=value)


def refresh_compliance(scans: Iterable[Scan]) -> int:
    """Re-evaluate stored reports against the current profiles; returns how many scans changed verdict."""
    changed = 0
    owners: set[int] = set()
    for scan in scans:
        before = scan.compliance_failing
        record_scan_compliance(scan)
        if scan.compliance_failing != before:
            changed += 1
            owners.add(scan.site.owner_id)
            # The site's copy (scanner.services.site_took_result), where this is its latest scan.
            Site.objects.filter(latest_scan=scan).update(compliance_failing=scan.compliance_failing)
    if changed:
        portfolio_days_forget()  # the kept daily pass rates counted the old verdicts
        sites_changed(owner_ids=owners)  # ...and so did the pass rates of today a web process keeps
    return changed


def portfolio_set_compliance_profiles(portfolio: Portfolio, *, profiles: Iterable[str]) -> Portfolio:
    chosen = list(dict.fromkeys(profiles))
    if unknown := [profile for profile in chosen if profile not in PROFILE_IDS]:
        raise InvalidProfiles(f"unknown compliance profile(s): {', '.join(unknown)}; known: {', '.join(PROFILE_IDS)}")
    portfolio.compliance_profiles = [profile for profile in PROFILE_IDS if profile in chosen]
    portfolio.save(update_fields=["compliance_profiles"])
    return portfolio
