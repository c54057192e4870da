"""The site list's rows, shaped exactly as SiteOutput shapes one site, from plain database rows.

A page of 50 sites through SiteOutput built 150 model instances, ran DRF's field machinery some 1,500 times and
parsed every datetime column of two joined scans; here each row is read as the 16 values it shows, and each
datetime is formatted once as DRF's DateTimeField would, by PostgreSQL as text (so no row's datetime is parsed;
other databases give datetimes, formatted here). tests/test_api_site_list.py holds the two to the same output.
"""

from __future__ import annotations

import functools
from datetime import datetime, tzinfo
from operator import itemgetter

from django.utils import timezone

from scanner.selectors import utc_text_key
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


# The datetime fields among them, which the database may give as UTC text (selectors.site_rows' `as_text`).
DATETIME_FIELDS = ("created_at", "latest_scan__finished_at", "last_scan__requested_at", "last_scan__finished_at")
TEXT_KEYS = {field: utc_text_key(field) for field in DATETIME_FIELDS}


def datetimes_as_text() -> tuple[str, ...]:
    """The datetime fields to read as UTC text: all of them while answers are in UTC, as DRF's would be."""
    return DATETIME_FIELDS if timezone.get_current_timezone_name() == "UTC" else ()


def site_rows_output(rows: list[dict], *, tags: dict[int, list[str]], links: Links) -> list[dict]:
    zone = timezone.get_current_timezone()
    site_head, site_tail = links.parts("api:site-detail")
    scans_head, scans_tail = links.parts("api:site-scans")
    # Every row of a page has the same keys: its datetimes all come as DRF's text, or all as datetimes.
    if rows and TEXT_KEYS[DATETIME_FIELDS[0]] in rows[0]:
        datetimes = itemgetter(*(TEXT_KEYS[field] for field in DATETIME_FIELDS))
    else:
        datetimes = functools.partial(_datetimes_as_drf_writes_them, zone=zone)
    out = []
    for row in rows:
        created_at, latest_finished, last_requested, last_finished = datetimes(row)
        pk = row["id"]
        last_id = row["last_scan_id"]
        state = site_state(row["last_scan__status"] if last_id is not None else None, row["latest_scan_id"])
        out.append(
            {
                "id": pk,
                "url": f"{site_head}{pk}{site_tail}",
                "hostname": row["hostname"],
                "https_port": row["https_port"],
                "http_port": row["http_port"],
                "created_at": created_at,
                "tags": tags.get(pk, []),
                "state": state,
                "last_error": (row["last_scan__error"] or None) if state == "unreachable" else None,
                "latest_scan": _latest_scan(row, latest_finished),
                "last_attempt": None
                if last_id is None
                else {
                    "id": last_id,
                    "status": row["last_scan__status"],
                    "requested_at": last_requested,
                    "finished_at": last_finished,
                    "error": row["last_scan__error"] or None,
                },
                "scans_url": f"{scans_head}{pk}{scans_tail}",
            }
        )
    return out


def _latest_scan(row: dict, finished_at: str | None) -> dict | None:
    if row["latest_scan_id"] is None:
        return None
    return {
        "id": row["latest_scan_id"],
        "finished_at": finished_at,
        "security_grade": row["latest_scan__security_grade"] or None,
        "score": row["latest_scan__score"],
        "seo_score": row["latest_scan__seo_score"],
        "seo_grade": row["latest_scan__seo_grade"] or None,
    }


def _datetimes_as_drf_writes_them(row: dict, *, zone: tzinfo) -> tuple[str | None, ...]:
    return tuple(_iso(row[field], zone) for field in DATETIME_FIELDS)


def _iso(value: datetime | None, zone: tzinfo) -> str | None:
    """DRF's DateTimeField output (ISO 8601 in the current time zone, UTC written as Z)."""
    if not value:
        return None
    text = (value.astimezone(zone) if timezone.is_aware(value) else timezone.make_aware(value, zone)).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
