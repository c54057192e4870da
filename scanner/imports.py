"""Bulk import of sites into a portfolio from CSV or plain text.

One site per line: `host[,port][,tag1;tag2]`. Blank lines and lines starting with '#' are skipped.
A first line naming the columns (`host,port,tags,...`, as the CSV export writes it) is read as a header:
then the host, port and tags columns are taken by name and the export's other columns (grade, status,
error...) are ignored, so an export re-imports unchanged.
Hosts are checked for syntax only (resolving 10,000 names would take minutes); the network policy is
applied when each site is scanned. Tags are stored on the site (added, never removed). Re-importing the
same text creates nothing new.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction

from scanner.models import Portfolio, Site
from scanner.services import (
    ScanRequestError,
    parsed_target,
    portfolio_days_forget,
    site_for_target,
    site_set_tags,
    sites_changed,
)
from scanner.targets import InvalidTarget, Target, parse_port

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_IMPORT_LINES = 10_000
# A 10,000-line import of long hostnames with tags fits easily; the API and the dashboard upload share it.
MAX_IMPORT_BYTES = 4 * 1024 * 1024
TAG_PATTERN = re.compile(r"^[\w.-]{1,32}$")


@dataclass
class ImportReport:
    created: int = 0
    existing: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line number, line, reason)


class ImportLineError(ValueError):
    pass


def import_lines(text: str) -> list[str]:
    """The lines of an import, refused whole when there are too many."""
    lines = text.splitlines()
    if len(lines) > MAX_IMPORT_LINES:
        raise ScanRequestError(
            f"An import holds at most {MAX_IMPORT_LINES} lines; this one has {len(lines)}.", field="text"
        )
    return lines


def content_line_count(lines: list[str]) -> int:
    """Lines that name a site (or fail to): neither blank, nor a comment, nor the header."""
    count = sum(1 for line in lines if _is_content(line))
    return count - 1 if _header(lines) is not None else count


def import_sites(owner: User, portfolio: Portfolio, text: str) -> ImportReport:
    lines = import_lines(text)
    report = ImportReport()
    with transaction.atomic():
        import_batch(owner, portfolio, lines, start=0, stop=len(lines), report=report)
    refuse_empty_import(report)
    return report


def import_batch(
    owner: User, portfolio: Portfolio, lines: list[str], *, start: int, stop: int, report: ImportReport
) -> None:
    """Import lines[start:stop] into `report` (the caller holds the transaction). Lines are numbered in the
    whole text, and the header is found there, so an import done in batches reads as one done at once."""
    header_at = _header(lines)
    header = header_at[1] if header_at is not None else None
    sites: list[tuple[Site, list[str]]] = []
    for line_no, line in enumerate(lines[start:stop], start=start + 1):
        if not _is_content(line) or (header_at is not None and line_no - 1 == header_at[0]):
            continue
        try:
            cells = next(csv.reader([line]))
            if header is not None:
                cells = _by_header(header, cells)
            target, tags = _target_from_cells(cells)
        except (ImportLineError, ScanRequestError, csv.Error) as exc:
            report.errors.append((line_no, line, str(exc)))
            continue
        site = site_for_target(owner, target)
        if tags:
            site_set_tags(site, tags)
        sites.append((site, tags))
    in_portfolio = set(portfolio.sites.filter(pk__in=[site.pk for site, _ in sites]).values_list("pk", flat=True))
    for site, _ in sites:
        if site.pk in in_portfolio:
            report.existing += 1
        else:
            portfolio.sites.add(site)
            in_portfolio.add(site.pk)
            report.created += 1
    if report.created:
        portfolio_days_forget(portfolio_ids=[portfolio.pk])
        sites_changed(owner_ids=[portfolio.owner_id])


def refuse_empty_import(report: ImportReport) -> None:
    if report.errors and not (report.created or report.existing):
        # Not one usable line: that is bad input, not a partial import, and it gets the same 400 as any other.
        shown = "; ".join(f"line {line_no}: {reason}" for line_no, _, reason in report.errors[:5])
        more = f" (and {len(report.errors) - 5} more)" if len(report.errors) > 5 else ""
        raise ScanRequestError(f"Nothing was imported. {shown}{more}", field="text", code="invalid_import")


def _is_content(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def _header(lines: list[str]) -> tuple[int, list[str]] | None:
    """(index, column names) when the first content line names the columns."""
    for index, line in enumerate(lines):
        if _is_content(line):
            try:
                cells = next(csv.reader([line]))
            except csv.Error:
                return None
            return (index, [cell.strip().lower() for cell in cells]) if _is_header(cells) else None
    return None


def _is_header(cells: list[str]) -> bool:
    return bool(cells) and cells[0].strip().lower() == "host"


def _by_header(header: list[str], cells: list[str]) -> list[str]:
    values = dict(zip(header, cells))
    return [values.get("host", ""), values.get("port", ""), values.get("tags", "")]


def _target_from_cells(cells: list[str]) -> tuple[Target, list[str]]:
    cells = [cell.strip() for cell in cells]
    if len(cells) > 3:
        raise ImportLineError("Too many fields: expected host[,port][,tags separated by ;].")
    host, port_text, tags_text = (cells + ["", "", ""])[:3]
    if not host:
        raise ImportLineError("The host is missing.")
    port = None
    if port_text:
        try:
            port = parse_port(port_text)
        except InvalidTarget:
            raise ImportLineError(f"Port '{port_text}' is not a number from 1 to 65535.") from None
    tags = list(dict.fromkeys(filter(None, (tag.strip() for tag in tags_text.split(";")))))
    for tag in tags:
        if not TAG_PATTERN.match(tag):
            raise ImportLineError(f"Tag '{tag}' may only hold letters, digits, '.', '_' and '-' (32 at most).")
    return parsed_target(host, port=port), tags
