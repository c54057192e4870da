"""A portfolio's current state, one row per site, streamed as CSV or JSON so 10,000 sites stay cheap."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.db.models import Q
from django.utils import timezone

from scanner.expiry import whole_days_until
from scanner.models import Finding, Portfolio, Scan, Site, SiteTag
from scanner.report_reader import report_path

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
    "compliance_fails",  # the compliance profiles the latest scan fails, space-separated
    "web_security_score",  # the third score (Mozilla HTTP Observatory's method)
    "web_security_grade",
    "revocation",  # good | revoked | unknown; empty when not checked
    "caa",  # found | none | unknown
)
CHUNK_SIZE = 2000
SITE_FIELDS = (
    "pk",
    "hostname",
    "https_port",
    "cert_not_after",
    "latest_scan_id",
    "latest_scan__security_grade",
    "latest_scan__seo_score",
    "latest_scan__finished_at",
    # The last attempt, which may have failed after the last good scan: its status and reason are exported.
    "last_scan__status",
    "last_scan__error",
    "latest_scan__compliance_failing",
    # Keys of the latest report, read by the database's JSON operators (the rest of the document is not sent).
    report_path("web_security", "score", column="latest_scan__result"),
    report_path("web_security", "grade", column="latest_scan__result"),
    report_path("certificate", "revocation", "status", column="latest_scan__result"),
    report_path("certificate", "caa", "status", column="latest_scan__result"),
)


def export_rows(portfolio: Portfolio) -> Iterator[dict]:
    """Rows read a chunk at a time by keyset pagination: one query for a chunk of sites (plain tuples, no model
    instances), one for their latest scans' finding ids, one for their tags. The expiry comes from the site's
    own column, so the stored report documents are never read; time and memory per row stay flat at 10,000
    sites and beyond."""
    sites = (
        Site.objects.filter(portfolios=portfolio, owner=portfolio.owner)
        .order_by("hostname", "https_port", "pk")
        .values_list(*SITE_FIELDS)
    )
    now = timezone.now()
    after: tuple | None = None
    while True:
        page = sites
        if after is not None:
            host, port, pk = after
            page = page.filter(
                Q(hostname__gt=host)
                | Q(hostname=host, https_port__gt=port)
                | Q(hostname=host, https_port=port, pk__gt=pk)
            )
        chunk = list(page[:CHUNK_SIZE])
        if not chunk:
            return
        findings: dict[int, list[str]] = {}
        scan_ids = [row[4] for row in chunk if row[4] is not None]
        for scan_id, finding_id in (
            Finding.objects.filter(scan_id__in=scan_ids).order_by("id").values_list("scan_id", "finding_id")
        ):
            findings.setdefault(scan_id, []).append(finding_id)
        tags: dict[int, list[str]] = {}
        for site_id, name in (
            SiteTag.objects.filter(site_id__in=[row[0] for row in chunk])
            .order_by("name")
            .values_list("site_id", "name")
        ):
            tags.setdefault(site_id, []).append(name)
        for (
            pk,
            hostname,
            port,
            not_after,
            scan_id,
            grade,
            seo_score,
            finished_at,
            last_status,
            last_error,
            failing,
            web_score,
            web_grade,
            revocation,
            caa,
        ) in chunk:
            yield {
                "host": hostname,
                "port": port,
                "tags": tags.get(pk, []),
                "grade": (grade or None) if scan_id else None,
                "seo_score": seo_score if scan_id else None,
                "days_to_expiry": whole_days_until(not_after, now) if scan_id and not_after else None,
                "finding_ids": findings.get(scan_id, []),
                "status": last_status or "never scanned",
                "error": (last_error or None) if last_status == Scan.Status.FAILED else None,
                "last_scan_at": finished_at.isoformat() if scan_id and finished_at else None,
                "compliance_fails": (failing or "").split() if scan_id else [],
                "web_security_score": web_score if scan_id else None,
                "web_security_grade": web_grade if scan_id else None,
                "revocation": revocation if scan_id else None,
                "caa": caa if scan_id else None,
            }
        last = chunk[-1]
        after = (last[1], last[2], last[0])


def csv_lines(portfolio: Portfolio) -> Iterator[str]:
    writer = csv.writer(_LineBuffer())  # one writer for every line: building one per row cost more than the row
    yield writer.writerow(EXPORT_COLUMNS)
    for row in export_rows(portfolio):
        cells = {
            **row,
            "finding_ids": " ".join(row["finding_ids"]),
            "tags": ";".join(row["tags"]),
            "compliance_fails": " ".join(row["compliance_fails"]),
        }
        yield writer.writerow(["" if cells[name] is None else cells[name] for name in EXPORT_COLUMNS])


def json_chunks(portfolio: Portfolio) -> Iterator[str]:
    """A JSON array written one site at a time."""
    yield "["
    for index, row in enumerate(export_rows(portfolio)):
        yield ("," if index else "") + "\n" + json.dumps(row)
    yield "\n]\n"


class _LineBuffer:
    def write(self, text: str) -> str:
        return text
