"""Template context every page needs: where the source is (AGPL-3.0 section 13) and whether signup is open."""

from __future__ import annotations

from django.urls import reverse

from scanner import config


def service(request) -> dict:
    return {
        "source_url": config.source_url() or reverse("source"),
        "signup_open": config.signup_open(),
    }
