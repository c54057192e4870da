"""The "top issue" of each listed site: the finding that caps its grade (the worst cap), else the first
warning that keeps it from A+, so a triage list says what to fix first without opening each report."""

from __future__ import annotations

from scanner.grading.scale import grade_rank
from scanner.models import Site


def top_issue(caps: list[dict] | None, warnings: list[dict] | None) -> dict | None:
    """{"finding_id", "title", "cap"} of the worst cap (T and M rank below F), else of the first warning."""
    if caps:
        # max() keeps the first of equal caps: the grading's own finding order breaks ties.
        return max(caps, key=lambda cap: grade_rank(cap.get("cap") or ""))
    if warnings:
        return {**warnings[0], "cap": None}
    return None


def top_issues(sites: list[Site]) -> dict[int, dict]:
    """Top issue per site id, from the caps and warnings the page's own query read out of each site's latest
    report (queries.overview_sites(issues=True))."""
    issues = {}
    for site in sites:
        caps, warnings = getattr(site, "grade_caps", None), getattr(site, "grade_warnings", None)
        issue = top_issue(caps if isinstance(caps, list) else None, warnings if isinstance(warnings, list) else None)
        if issue is not None:
            issues[site.pk] = issue
    return issues
