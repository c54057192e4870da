"""The "top issue" of each listed site: the finding that caps its grade (the worst cap), else the first
warning that keeps it from A+, so a triage list says what to fix first without opening each report."""

from __future__ import annotations

from scanner.models import Site


def top_issues(sites: list[Site]) -> dict[int, dict]:
    """Top issue per site id (scanner.list_facts.top_issue), as the page's own query read it from each site's
    latest scan's list facts (queries.overview_sites(issues=True))."""
    issues = {}
    for site in sites:
        issue = getattr(site, "listed_top_issue", None)
        if isinstance(issue, dict):
            issues[site.pk] = issue
    return issues
