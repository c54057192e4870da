"""The site list's rows, shaped exactly as SiteOutput shapes one site, from plain database rows.

A page of 50 sites through SiteOutput built 150 model instances, ran DRF's field machinery some 1,500 times and
parsed every datetime column of two joined scans; here each row is read as the 16 values it shows and each
datetime is formatted once, as DRF's DateTimeField would. tests/test_api_site_list.py holds the two to the same
output.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from django.utils import timezone

from webui.api.links import Links
from webui.api.serializers import site_state

# What one row of the list reads (scanner.selectors.site_rows).
SITE_ROW_FIELDS = (
    "id",
    "hostname",
    "https_port",
    "http_port",
    "created_at",
    "latest_scan_id",
    "latest_scan__finished_at",
    "latest_scan__security_grade",
    "latest_scan__score",
    "latest_scan__seo_score",
    "latest_scan__seo_grade",
    "last_scan_id",
    "last_scan__status",
    "last_scan__requested_at",
    "last_scan__finished_at",
    "last_scan__error",
)


def site_rows_output(rows: Iterable[dict], *, tags: dict[int, list[str]], links: Links) -> list[dict]:
    zone = timezone.get_current_timezone()
    out = []
    for row in rows:
        pk = row["id"]
        last_id = row["last_scan_id"]
        state = site_state(row["last_scan__status"] if last_id is not None else None, row["latest_scan_id"])
        out.append(
            {
                "id": pk,
                "url": links.to("api:site-detail", pk),
                "hostname": row["hostname"],
                "https_port": row["https_port"],
                "http_port": row["http_port"],
                "created_at": _iso(row["created_at"], zone),
                "tags": tags.get(pk, []),
                "state": state,
                "last_error": (row["last_scan__error"] or None) if state == "unreachable" else None,
                "latest_scan": _latest_scan(row, zone),
                "last_attempt": None
                if last_id is None
                else {
                    "id": last_id,
                    "status": row["last_scan__status"],
                    "requested_at": _iso(row["last_scan__requested_at"], zone),
                    "finished_at": _iso(row["last_scan__finished_at"], zone),
                    "error": row["last_scan__error"] or None,
                },
                "scans_url": links.to("api:site-scans", pk),
            }
        )
    return out


def _latest_scan(row: dict, zone: tzinfo) -> dict | None:
    if row["latest_scan_id"] is None:
        return None
    return {
        "id": row["latest_scan_id"],
        "finished_at": _iso(row["latest_scan__finished_at"], zone),
        "security_grade": row["latest_scan__security_grade"] or None,
        "score": row["latest_scan__score"],
        "seo_score": row["latest_scan__seo_score"],
        "seo_grade": row["latest_scan__seo_grade"] or None,
    }


def _iso(value: datetime | None, zone: tzinfo) -> str | None:
    """DRF's DateTimeField output (ISO 8601 in the current time zone, UTC written as Z)."""
    if not value:
        return None
    text = (value.astimezone(zone) if timezone.is_aware(value) else timezone.make_aware(value, zone)).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
