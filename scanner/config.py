"""The scanner's runtime configuration, read from Django settings in one place.

Services and tasks call these at use time (not import time) so tests can override settings per test.
"""

from __future__ import annotations

from django.conf import settings

from scanner.engine.results import ScanSettings
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins


def network_policy() -> NetworkPolicy:
    return NetworkPolicy(
        allowed_networks=parse_networks(settings.SCANNER_ALLOWED_NETWORKS),
        pins=parse_pins(settings.SCANNER_RESOLVE),
    )


def scan_settings() -> ScanSettings:
    return ScanSettings(
        connect_timeout=settings.SCANNER_CONNECT_TIMEOUT,
        network_timeout=settings.SCANNER_NETWORK_TIMEOUT,
        network_retries=settings.SCANNER_NETWORK_RETRIES,
        http_timeout=settings.SCANNER_HTTP_TIMEOUT,
        cipher_enumeration=settings.SCANNER_CIPHER_ENUMERATION,
        per_target_connections=settings.SCANNER_PER_TARGET_CONNECTIONS,
        connection_budget=settings.SCANNER_CONNECTION_BUDGET,
        tls_deadline=settings.SCANNER_TLS_DEADLINE,
        http_deadline=settings.SCANNER_HTTP_DEADLINE,
        dns_servers=tuple(getattr(settings, "SCANNER_DNS_SERVERS", ())),
    )


def ca_file() -> str | None:
    return settings.SCANNER_CA_FILE or None
