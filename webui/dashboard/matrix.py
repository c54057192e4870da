"""The portfolio matrix: one row per site, one cell per check, each pass / warn / fail from the findings of
the site's latest scan. A check the scan did not cover reads "not checked", never "pass"."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from scanner.models import Finding, Site

# (key, column title, finding-id prefixes that belong to the check)
CHECKS = (
    ("certificate", "Certificate", ("cert.",)),
    ("protocols", "Protocols", ("tls.protocol.",)),
    ("ciphers", "Ciphers", ("tls.cipher.", "tls.kex.", "tls.mozilla.")),
    ("vulnerabilities", "Vulnerabilities", ("vuln.",)),
    ("hsts", "HSTS", ("hsts.",)),
    ("redirect", "Redirect", ("http.redirect.", "http.no_listener", "http.unreachable", "http.https")),
    ("mixed", "Mixed content", ("content.mixed.",)),  # scanner/grading/seo.py: content.mixed.active/passive
    # What the page tells the browser; "not checked" for scans stored before the web probe existed.
    ("headers", "Headers", ("headers.", "web.cors.", "web.sri.")),
    ("cookies", "Cookies", ("cookies.",)),
)
WEB_CHECKS = ("headers", "cookies")
FAIL_SEVERITIES = {"critical", "high"}
WARN_SEVERITIES = {"medium", "low"}
STATE_WORDS = {"pass": "pass", "warn": "warn", "fail": "fail", "none": "not scanned", "na": "not checked"}


@dataclass
class Cell:
    state: str  # pass, warn, fail, none (no scan), na (the scan did not cover this check)
    titles: list[str] = field(default_factory=list)
    check: str = ""  # the column's title, so the cell's reason can be named on its own ("Certificate")

    @property
    def word(self) -> str:
        return STATE_WORDS[self.state]

    @property
    def explanation(self) -> str:
        return "; ".join(self.titles) if self.titles else self.word


def _check_of(finding_id: str) -> str | None:
    for key, _, prefixes in CHECKS:
        if finding_id.startswith(prefixes):
            return key
    return None


def matrix_cells(sites: list[Site]) -> dict[int, dict[str, Cell]]:
    """Cells per site id, from one query over the findings of the sites' latest scans."""
    scan_ids = [site.latest_scan_id for site in sites if site.latest_scan_id]
    by_scan: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for scan_id, finding_id, severity, title in Finding.objects.filter(scan_id__in=scan_ids).values_list(
        "scan_id", "finding_id", "severity", "title"
    ):
        by_scan[scan_id].append((finding_id, severity, title))
    cells: dict[int, dict[str, Cell]] = {}
    for site in sites:
        if not site.latest_scan_id:
            cells[site.pk] = {key: Cell("none", check=title) for key, title, _ in CHECKS}
            continue
        row = {key: Cell("pass", check=title) for key, title, _ in CHECKS}
        if not getattr(site, "mixed_checked", False):
            row["mixed"] = Cell("na", check="Mixed content")
        if not getattr(site, "web_checked", False):
            row.update({key: Cell("na", check=title) for key, title, _ in CHECKS if key in WEB_CHECKS})
        for finding_id, severity, title in by_scan.get(site.latest_scan_id, []):
            key = _check_of(finding_id)
            if key is None:
                continue
            cell = row[key]
            if cell.state == "na":
                cell.state = "pass"
            if severity in FAIL_SEVERITIES:
                cell.state = "fail"
            elif severity in WARN_SEVERITIES and cell.state != "fail":
                cell.state = "warn"
            cell.titles.append(title)
        cells[site.pk] = row
    return cells


def columns() -> list[tuple[str, str]]:
    return [(key, title) for key, title, _ in CHECKS]
