"""Finished scans' API documents, stored as the bytes sent (scanner.models.ScanDocument)."""

from __future__ import annotations

from collections.abc import Iterable

from scanner.models import Scan, ScanDocument


def scan_document_store(scan: Scan, *, version: str, body: bytes) -> None:
    """Keep a finished scan's rendered document; a scan still queued or running changes, so it is never kept.
    Two requests rendering the same scan at once both write the same bytes: the last one stays."""
    if scan.status in Scan.ACTIVE_STATUSES:
        return
    ScanDocument.objects.bulk_create(
        [ScanDocument(scan_id=scan.pk, version=version, scan_portfolio_id=scan.portfolio_id, body=body)],
        update_conflicts=True,
        unique_fields=["scan"],
        update_fields=["version", "scan_portfolio_id", "body"],
    )


def scan_documents_forget(scan_ids: Iterable[int]) -> None:
    """Drop stored documents whose scan changed (its report pruned, its outcome stored again)."""
    ScanDocument.objects.filter(scan_id__in=list(scan_ids)).delete()
