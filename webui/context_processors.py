"""Template context every page needs: where the source is (AGPL-3.0 section 13) and whether signup is open."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def service(request) -> dict:
    return {
        "source_url": settings.SCANNER_SOURCE_URL or reverse("source"),
        "signup_open": settings.SCANNER_SIGNUP_OPEN,
    }
