"""Shapes the stored scan report (scanner.report's document) into what the templates show.

Templates stay free of logic: every grouping, ordering and date calculation happens here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from scanner.engine.results import PROTOCOLS
from scanner.expiry import whole_days_until, whole_days_until_timestamp
from scanner.grading.compliance import evaluate as evaluate_compliance
from scanner.grading.policy import SERVER_FAMILIES
from scanner.grading.scale import severity_rank
from scanner.models import Scan, Site
from scanner.report_reader import FindingView, ReportView

from .compliance_history import change_lines, history_changes

# Areas in the order a reader should meet them, with headings people recognise.
AREA_TITLES = {
    "certificate": "Certificate",
    "protocol": "Protocols and ciphers",
    "cipher": "Protocols and ciphers",
    "vulnerability": "Vulnerabilities",
    "http": "Redirects and HSTS",
    "redirect": "Redirects and HSTS",
    "hsts": "Redirects and HSTS",
    "content": "Page content",
    "web": "Web security (headers and cookies)",
    "seo": "SEO",
    "scan": "Scan coverage",
}
# Protocols that should be off; the matrix marks them as a problem when a server offers them.
LEGACY_PROTOCOLS = {"SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"}


GRADE_CLASSES = {
    "A+": "grade-aplus",
    "A": "grade-a",
    "A-": "grade-aminus",
    "B": "grade-b",
    "C": "grade-c",
    "D": "grade-d",
    "E": "grade-e",
}


def grade_css(grade: str | None) -> str:
    """A CSS class per grade: A+, A and A- each have their own colour; T and M look as bad as F."""
    if not grade:
        return "grade-none"
    return GRADE_CLASSES.get(grade, "grade-f")


def days_until(iso_timestamp: str | None) -> int | None:
    return whole_days_until_timestamp(iso_timestamp, timezone.now())


@dataclass
class OverviewRow:
    site: Site | ListedSite
    grade: str
    grade_css: str
    seo_score: int | None
    web_security_grade: str | None  # None when not measured (or stored before it existed)
    days_to_expiry: int | None
    last_status: str | None
    last_requested_at: datetime | None
    last_error: str
    tags: list[str]
    top_issue: dict | None = None  # webui/dashboard/top_issue.py: the finding that caps the grade
    url: str = ""  # the site's page
    id: str = ""  # the site id as text: a number a template prints is localized, a costly lookup per value

    @property
    def unreachable(self) -> bool:
        return self.last_status == "failed"

    @property
    def days_since_expiry(self) -> int | None:
        return -self.days_to_expiry if self.days_to_expiry is not None and self.days_to_expiry < 0 else None


def overview_rows(sites: list[Site], tags: dict[int, list[str]]) -> list[OverviewRow]:
    """A site list's rows, each with its site page's URL: reversed once for the page, not once per row."""
    marker = "2147483647"
    head, tail = reverse("dashboard:site", args=[int(marker)]).split(marker)
    rows = [overview_row(site, tags.get(site.pk)) for site in sites]
    for row in rows:
        row.id = str(row.site.pk)
        row.url = f"{head}{row.id}{tail}"
    return rows


@dataclass(frozen=True, slots=True)
class ListedSite:
    """A site of a list read as a plain row (queries.matrix_page_rows): its id, and the name it is shown by."""

    pk: int
    hostname: str
    https_port: int

    def __str__(self) -> str:
        return Site.__str__(self)  # the name Site gives itself: "host", or "host:port" off 443


def matrix_rows(rows: list[dict], tags: dict[int, list[str]] | None = None) -> list[OverviewRow]:
    """The portfolio matrix's rows out of queries.matrix_page_rows' plain rows (what overview_rows makes of
    model instances), with their tags from the rows themselves (PostgreSQL) or else from `tags`."""
    marker = "2147483647"
    head, tail = reverse("dashboard:site", args=[int(marker)]).split(marker)
    now = timezone.now()
    listed = []
    for row in rows:
        scanned = row["latest_scan_id"] is not None
        grade = (row["latest_scan__security_grade"] or "") if scanned else ""
        site_id = row["id"]
        listed.append(
            OverviewRow(
                site=ListedSite(site_id, row["hostname"], row["https_port"]),
                grade=grade,
                grade_css=grade_css(grade),
                seo_score=row["latest_scan__seo_score"] if scanned else None,
                web_security_grade=row["web_security_grade"] if scanned else None,
                days_to_expiry=whole_days_until(row["cert_not_after"], now) if row["cert_not_after"] else None,
                last_status=row["last_scan__status"] if row["last_scan_id"] is not None else None,
                last_requested_at=row["last_scan_at"],
                last_error=(row["last_scan__error"] if row["last_scan_id"] is not None else "") or "",
                tags=row["tag_names"] if "tag_names" in row else (tags or {}).get(site_id, []),
                url=f"{head}{site_id}{tail}",
                id=str(site_id),
            )
        )
    return listed


def overview_row(site: Site, tags: list[str] | None = None) -> OverviewRow:
    scan = site.latest_scan
    grade = scan.security_grade if scan else ""
    return OverviewRow(
        site=site,
        grade=grade,
        grade_css=grade_css(grade),
        seo_score=scan.seo_score if scan else None,
        web_security_grade=getattr(site, "web_security_grade", None) if scan else None,
        days_to_expiry=whole_days_until(site.cert_not_after, timezone.now()) if site.cert_not_after else None,
        last_status=site.last_scan.status if site.last_scan else None,
        last_requested_at=site.last_scan_at,
        last_error=(site.last_scan.error if site.last_scan else "") or "",
        tags=tags or [],
    )


def findings_by_severity(findings: tuple[FindingView, ...]) -> list[dict]:
    """Worst first (critical ... info), as SSL Labs reads: a MEDIUM problem never follows an INFO note because
    of its area. Each finding keeps its area's title as a label; equal severities keep the grading's order."""
    return [
        {
            **finding.data,
            "area_title": AREA_TITLES.get(finding.area or "", (finding.area or "Other").capitalize()),
            "server_fixes": server_fixes(finding),
        }
        for finding in sorted(findings, key=_severity_rank)
    ]


def server_fixes(finding: FindingView) -> list[dict]:
    """The finding's fix per server family, named as readers know them (reports stored before it existed: none)."""
    return [
        {"server": SERVER_FAMILIES.get(family, family), "how": how}
        for family, how in finding.remediation_by_server.items()
    ]


def _severity_rank(finding: FindingView) -> int:
    return severity_rank(str(finding.severity or "").lower())


def protocol_matrix(protocols: Mapping[str, bool] | None) -> list[dict]:
    if not protocols:
        return []
    rows = []
    for name in PROTOCOLS:
        offered = bool(protocols.get(name))
        # Offering a legacy protocol is a problem; so is lacking TLS 1.2, the baseline every client speaks.
        problem = offered if name in LEGACY_PROTOCOLS else (name == "TLSv1.2" and not offered)
        rows.append({"name": name, "offered": offered, "problem": problem})
    return rows


def site_report_context(site: Site, history: list[Scan]) -> dict:
    from . import full_report

    latest_attempt = history[0] if history else None
    scan = site.latest_scan
    report = ReportView.from_document(scan.result if scan else None)
    certificate = report.certificate
    days_to_expiry = days_until(certificate.not_after) if certificate else None
    security = scan.security_grade if scan else None
    down_now = bool(latest_attempt and latest_attempt.status == Scan.Status.FAILED and scan)
    compliance_moves = history_changes(history)
    return {
        "site": site,
        "scan": scan,
        "latest_attempt": latest_attempt,
        "in_progress": bool(latest_attempt and latest_attempt.is_active),
        "down_now": down_now,
        "report": report.document,
        "grade": report.grade.data,
        "grade_css": grade_css(security),
        "caps": report.caps,
        "warnings": report.warnings,
        "attention": full_report.attention(report),
        "seo_not_measured": _seo_not_measured(report),
        "findings_ordered": findings_by_severity(report.findings),
        "certificate": certificate.data if certificate else None,
        "days_to_expiry": days_to_expiry,
        "validity": full_report.validity(certificate, days_to_expiry),
        "trust": full_report.trust_verdict(certificate, security),
        "chains": full_report.chains(certificate),
        "protocols": protocol_matrix(report.protocols),
        "suites": full_report.cipher_suites_by_protocol(
            report.cipher_suites,
            report.cipher_preference.get("preferred_suites"),
            report.cipher_preference.get("suite_order"),
        ),
        "server_preference": report.cipher_preference.get("server_enforced"),
        "key_exchange_groups": full_report.key_exchange_groups(report),
        "simulations": full_report.simulations(report),
        "vulnerabilities": full_report.vulnerabilities(report),
        "endpoints": full_report.endpoints(report),
        "score_breakdown": full_report.score_breakdown(report),
        "redirect_walks": full_report.redirect_chains(report),
        "hsts": report.hsts.data if report.hsts is not None else None,
        "mixed": full_report.mixed_content(report),
        "web_security": report.web_security,
        "web_headers": sorted(report.headers.items()),
        "cookies": list(report.cookies),
        "alpn": list(report.alpn) if report.alpn is not None else None,
        "protocol_details": full_report.protocol_details(report),
        "security_txt": report.security_txt,
        "www_apex": report.www_apex,
        "words": full_report.words,
        "history": [(item, grade_css(item.security_grade), compliance_moves.get(item.pk)) for item in history],
        "recorded_changes": scan.changes if scan and scan.changes and not scan.changes.get("first_scan") else None,
        "recorded_compliance_changes": change_lines(
            (scan.changes or {}).get("compliance_failed", []), (scan.changes or {}).get("compliance_met", [])
        )
        if scan
        else None,
        # Evaluated now from the stored report, so a profile update shows on old scans too.
        "compliance": evaluate_compliance(report) if report else [],
    }


def _seo_not_measured(report: ReportView) -> str:
    """Why an SEO score would mislead: a site that did not answer over HTTP(S) has nothing to measure."""
    if "http.unreachable" in report.finding_ids:
        return "the site did not answer over HTTP or HTTPS"
    if report.status == "failed" or report.error:
        return "the scan failed"
    return ""
