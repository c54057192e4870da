"""Evidence for an auditor: a portfolio's compliance per site, as CSV (streamed) and as a PDF report.

Each row rests on one stored scan (its id and date are in the row) and is evaluated now against the current
profiles from that scan's stored report, with every failed requirement and the source section it comes from.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from scanner.compliance_selectors import portfolio_profiles
from scanner.grading.compliance import PROFILE_IDS, PROFILES, evaluate
from scanner.models import Portfolio, Site

CHUNK_SIZE = 200  # report documents are KBs each: a chunk at a time, never the whole portfolio
CSV_COLUMNS = (
    "host",
    "port",
    "profile",
    "profile_version",
    "verdict",
    "scan_id",
    "scanned_at",
    "failed_requirements",
    "warnings",
)


@dataclass
class SiteVerdict:
    host: str
    port: int
    profile: str
    verdict: str  # pass | fail | not_applicable | not scanned
    scan_id: int | None
    scanned_at: datetime | None
    failed: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)


def evidence_profiles(portfolio: Portfolio) -> list[str]:
    """The portfolio's chosen profiles; every profile when it chose none."""
    return portfolio_profiles(portfolio) or list(PROFILE_IDS)


def site_verdicts(
    portfolio: Portfolio, profiles: list[str], progress: Callable[[int], None] | None = None
) -> Iterator[SiteVerdict]:
    """Per site and profile, the verdict of its latest stored scan; `progress(sites_done)` after each chunk."""
    sites = (
        Site.objects.filter(owner=portfolio.owner, portfolios=portfolio)
        .order_by("hostname", "https_port", "pk")
        .values_list("pk", "hostname", "https_port", "latest_scan_id", "latest_scan__finished_at")
    )
    position = 0
    while True:
        chunk = list(sites[position : position + CHUNK_SIZE])
        if not chunk:
            return
        position += len(chunk)
        documents = dict(
            Site.objects.filter(pk__in=[row[0] for row in chunk], latest_scan__isnull=False).values_list(
                "pk", "latest_scan__result"
            )
        )
        for pk, host, port, scan_id, finished_at in chunk:
            document = documents.get(pk)
            if not scan_id or not document:
                for profile in profiles:
                    yield SiteVerdict(host, port, profile, "not scanned", None, None)
                continue
            for entry in evaluate(document, profiles):
                yield SiteVerdict(
                    host,
                    port,
                    entry["profile"],
                    entry["status"],
                    scan_id,
                    finished_at,
                    entry["failed"],
                    entry["warnings"],
                )
        if progress is not None:
            progress(position)


def requirement_text(item: dict) -> str:
    return f"{item['requirement']} ({item['level']}): {item['seen']} [{item['source']}]"


def csv_lines(portfolio: Portfolio) -> Iterator[str]:
    writer = csv.writer(_LineBuffer())
    yield writer.writerow(CSV_COLUMNS)
    for row in site_verdicts(portfolio, evidence_profiles(portfolio)):
        yield writer.writerow(
            [
                row.host,
                row.port,
                row.profile,
                PROFILES[row.profile].version,
                row.verdict,
                row.scan_id or "",
                row.scanned_at.isoformat() if row.scanned_at else "",
                " | ".join(requirement_text(item) for item in row.failed),
                " | ".join(requirement_text(item) for item in row.warnings),
            ]
        )


def summary(verdicts: list[SiteVerdict], profiles: list[str]) -> list[dict]:
    """Per profile: how many sites were evaluated, pass and fail ("12 of 40 sites fail PCI DSS")."""
    rows = []
    for profile in profiles:
        mine = [row for row in verdicts if row.profile == profile]
        rows.append(
            {
                "profile": profile,
                "title": PROFILES[profile].title,
                "version": PROFILES[profile].version,
                "evaluated": sum(1 for row in mine if row.verdict in ("pass", "fail")),
                "failing": sum(1 for row in mine if row.verdict == "fail"),
                "passing": sum(1 for row in mine if row.verdict == "pass"),
            }
        )
    return rows


def generated_at() -> datetime:
    return timezone.now()


class _LineBuffer:
    def write(self, text: str) -> str:
        return text
