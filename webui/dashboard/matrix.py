"""The portfolio matrix: one row per site, one cell per check, each pass / warn / fail from the findings of
the site's latest scan. A check the scan did not cover reads "not checked", never "pass"."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from scanner.models import Finding

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


# The cells no finding decided, one per check and state, shared by every row: a page of 100 rows has 900 cells.
_PLAIN_CELLS = {(key, state): Cell(state, check=title) for key, title, _ in CHECKS for state in ("pass", "none", "na")}
_NOT_SCANNED = [_PLAIN_CELLS[key, "none"] for key, _, _ in CHECKS]


def matrix_cells(rows: list[dict]) -> dict[int, list[Cell]]:
    """Each site's cells in the order of CHECKS, by site id, from the findings of the sites' latest scans: those
    the page's query read along (PostgreSQL), else one query over them. `rows` are queries.matrix_page_rows'
    (id, latest_scan_id, mixed_checked, web_checked, latest_findings). The cells are not to be changed: those
    without findings are shared."""
    by_scan: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    if rows and "latest_findings" in rows[0]:  # read by the page's query (PostgreSQL)
        for row in rows:
            by_scan[row["latest_scan_id"]] = [tuple(finding) for finding in row["latest_findings"]]
    else:
        scan_ids = [row["latest_scan_id"] for row in rows if row["latest_scan_id"]]
        for scan_id, finding_id, severity, title in Finding.objects.filter(scan_id__in=scan_ids).values_list(
            "scan_id", "finding_id", "severity", "title"
        ):
            by_scan[scan_id].append((finding_id, severity, title))
    cells: dict[int, list[Cell]] = {}
    for row in rows:
        if not row["latest_scan_id"]:
            cells[row["id"]] = _NOT_SCANNED
            continue
        unchecked = set()
        if not row["mixed_checked"]:
            unchecked.add("mixed")
        if not row["web_checked"]:
            unchecked.update(WEB_CHECKS)
        decided: dict[str, Cell] = {}
        for finding_id, severity, title in by_scan.get(row["latest_scan_id"], []):
            key = _check_of(finding_id)
            if key is None:
                continue
            cell = decided.get(key)
            if cell is None:
                # A finding of a check the scan did not cover still decides it: the check was made after all.
                cell = decided[key] = Cell("pass", check=_PLAIN_CELLS[key, "pass"].check)
            if severity in FAIL_SEVERITIES:
                cell.state = "fail"
            elif severity in WARN_SEVERITIES and cell.state != "fail":
                cell.state = "warn"
            cell.titles.append(title)
        cells[row["id"]] = [
            decided.get(key) or _PLAIN_CELLS[key, "na" if key in unchecked else "pass"] for key, _, _ in CHECKS
        ]
    return cells


def columns() -> list[tuple[str, str]]:
    return [(key, title) for key, title, _ in CHECKS]
