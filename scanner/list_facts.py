"""What a list of sites shows of each site's latest scan beyond the scan's own columns, taken out of its report
once, when the scan is stored (Scan.list_facts), so that no list page reads the reports themselves.

A stored report is 40-60 KB of JSON (10-15 KB compressed, out of line in PostgreSQL's TOAST): the overview's and
the portfolio matrix's rows picking three values out of it by the database cost 5-9 ms a page of 50-100 sites, more
than the rest of the page's SQL (docs/benchmarks.md, issue 25's eleventh round). The facts are a few hundred bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scanner.grading.scale import grade_rank
from scanner.report_reader import ReportView


def top_issue(caps: list[Mapping[str, Any]] | None, warnings: list[Mapping[str, Any]] | None) -> dict | None:
    """{"finding_id", "title", "cap"} of the worst cap (T and M rank below F), else of the first warning."""
    if caps:
        # max() keeps the first of equal caps: the grading's own finding order breaks ties.
        return max(caps, key=lambda cap: grade_rank(cap.get("cap") or ""))
    if warnings:
        return {**warnings[0], "cap": None}
    return None


def list_facts(document: Mapping[str, Any] | None) -> dict | None:
    """The facts of a stored report (scanner.report.build_report, read through scanner.report_reader) a site list
    shows: whether the scan read the HTTPS page (so checked it for mixed content), whether it checked the headers
    and cookies (a web security score), the web security letter, and the top issue (the finding that caps the
    grade, else the first warning that keeps it from A+). None for no report."""
    stored = ReportView.from_document(document)
    if not stored:
        return None
    web = stored.web_security or {}
    issue = top_issue(stored.caps, stored.warnings)
    return {
        "mixed_checked": stored.content.get("page_fetched") is True,
        "web_checked": web.get("score") is not None,
        "web_grade": web.get("grade") or None,
        "top_issue": {key: issue.get(key) for key in ("finding_id", "title", "cap")} if issue else None,
    }
