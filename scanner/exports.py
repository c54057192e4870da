"""A portfolio's current state, one row per site, streamed as CSV or JSON so 10,000 sites stay cheap."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone

from scanner.expiry import whole_days_until_timestamp
from scanner.models import Finding, Portfolio, Site

EXPORT_COLUMNS = ("host", "port", "grade", "seo_score", "days_to_expiry", "finding_ids", "last_scan_at")
CHUNK_SIZE = 500


def export_rows(portfolio: Portfolio) -> Iterator[dict]:
    sites = (
        Site.objects.filter(portfolios=portfolio, owner=portfolio.owner)
        .select_related("latest_scan")
        .prefetch_related(
            Prefetch("latest_scan__findings", queryset=Finding.objects.only("scan_id", "finding_id"))
        )
        .order_by("hostname", "https_port")
    )
    now = timezone.now()
    for site in sites.iterator(chunk_size=CHUNK_SIZE):
        scan = site.latest_scan
        yield {
            "host": site.hostname,
            "port": site.https_port,
            "grade": (scan.security_grade or None) if scan else None,
            "seo_score": scan.seo_score if scan else None,
            "days_to_expiry": _days_to_expiry(scan.result, now) if scan else None,
            "finding_ids": [finding.finding_id for finding in scan.findings.all()] if scan else [],
            "last_scan_at": scan.finished_at.isoformat() if scan and scan.finished_at else None,
        }


def csv_lines(portfolio: Portfolio) -> Iterator[str]:
    yield _csv_line(EXPORT_COLUMNS)
    for row in export_rows(portfolio):
        cells = {**row, "finding_ids": " ".join(row["finding_ids"])}
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


def _days_to_expiry(document: dict | None, now: datetime) -> int | None:
    """Counted from now, not from the scan: the certificate stored in the report document is what is compared."""
    return whole_days_until_timestamp(((document or {}).get("certificate") or {}).get("not_after"), now)
