"""The start-up check of SCANNER_PUBLIC_URL (webui/settings.py calls it)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured


def check_public_url(url: str, *, debug: bool) -> None:
    """Without a public address every link in an alert would be relative, i.e. dead in a mailbox or chat:
    refuse to start rather than send such alerts. DEBUG (local development) may leave it empty."""
    if not url:
        if debug:
            return
        raise ImproperlyConfigured(
            "SCANNER_PUBLIC_URL is not set. Links in alert e-mails and chat messages need the dashboard's public "
            "address, e.g. SCANNER_PUBLIC_URL=https://scanner.example.com (only DJANGO_DEBUG=1 may leave it empty)."
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(
            f"SCANNER_PUBLIC_URL={url!r} is not an absolute http(s) URL, e.g. https://scanner.example.com"
        )
