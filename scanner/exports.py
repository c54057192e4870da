"""A portfolio's current state, one row per site, streamed as CSV or JSON so 10,000 sites stay cheap."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.db.models import Prefetch
from django.utils import timezone

from scanner.expiry import whole_days_until
from scanner.models import Finding, Portfolio, Scan, Site

# host, port and tags first: the CSV re-imports as it is (scanner.imports reads those three by name).
EXPORT_COLUMNS = (
    "host",
    "port",
    "tags",
    "grade",
    "seo_score",
    "days_to_expiry",
    "status",
    "error",
    "finding_ids",
    "last_scan_at",
)
CHUNK_SIZE = 500


def export_rows(portfolio: Portfolio) -> Iterator[dict]:
    """Rows read in chunks (one query for the sites, one for their findings, per chunk), with the expiry from the
    site's own column: the stored report documents are never loaded, so time and memory stay flat per row."""
    sites = (
        Site.objects.filter(portfolios=portfolio, owner=portfolio.owner)
        .select_related("latest_scan", "last_scan")
        .only(
            "hostname", "https_port", "cert_not_after",
            "latest_scan__security_grade", "latest_scan__seo_score", "latest_scan__finished_at",
            # The last attempt, which may have failed after the last good scan: its status and reason are exported.
            "last_scan__status", "last_scan__error",
        )
        .prefetch_related(
            Prefetch("latest_scan__findings", queryset=Finding.objects.only("scan_id", "finding_id")), "tags"
        )
        .order_by("hostname", "https_port")
    )
    now = timezone.now()
    for site in sites.iterator(chunk_size=CHUNK_SIZE):
        scan = site.latest_scan
        yield {
            "host": site.hostname,
            "port": site.https_port,
            "tags": [tag.name for tag in site.tags.all()],
            "grade": (scan.security_grade or None) if scan else None,
            "seo_score": scan.seo_score if scan else None,
            "days_to_expiry": whole_days_until(site.cert_not_after, now) if scan and site.cert_not_after else None,
            "finding_ids": [finding.finding_id for finding in scan.findings.all()] if scan else [],
            "status": site.last_scan.status if site.last_scan else "never scanned",
            "error": (site.last_scan.error or None) if site.last_scan and site.last_scan.status == Scan.Status.FAILED else None,
            "last_scan_at": scan.finished_at.isoformat() if scan and scan.finished_at else None,
        }


def csv_lines(portfolio: Portfolio) -> Iterator[str]:
    yield _csv_line(EXPORT_COLUMNS)
    for row in export_rows(portfolio):
        cells = {**row, "finding_ids": " ".join(row["finding_ids"]), "tags": ";".join(row["tags"])}
        yield _csv_line(["" if cells[name] is None else cells[name] for name in EXPORT_COLUMNS])


def json_chunks(portfolio: Portfolio) -> Iterator[str]:
    """A JSON array written one site at a time."""
    yield "["
    for index, row in enumerate(export_rows(portfolio)):
        yield ("," if index else "") + "\n" + json.dumps(row)
    yield "\n]\n"


class _LineBuffer:
    def write(self, text: str) -> str:
        return text


def _csv_line(cells) -> str:
    return csv.writer(_LineBuffer()).writerow(cells)
