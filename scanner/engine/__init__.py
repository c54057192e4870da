"""The scan engine: resolve through the network policy, probe TLS with sslyze, probe HTTP. No Django here."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from ..netpolicy import NetworkPolicy, TargetRefused
from ..targets import Target
from .http import probe_http
from .results import ScanResult, ScanSettings
from .tls import TlsUnreachable, probe_tls

__all__ = ["ScanResult", "ScanSettings", "scan"]


def scan(target: Target, *, policy: NetworkPolicy, settings: ScanSettings | None = None, ca_file: str | None = None) -> ScanResult:
    """Scan one site. Network problems never raise: they come back as a failed ScanResult with a reason."""
    settings = settings or ScanSettings()
    started_at = datetime.now(UTC)
    clock = time.monotonic()

    def finish(**fields) -> ScanResult:
        return ScanResult(
            host=target.host, https_port=target.https_port, http_port=target.http_port,
            started_at=started_at, duration_s=round(time.monotonic() - clock, 3), **fields,
        )

    try:
        # Resolved once, here, and that address is the one scanned: a second DNS
        # answer cannot smuggle an internal target past the policy.
        ip = policy.resolve(target.host)
    except TargetRefused as exc:
        return finish(ip=None, error=str(exc))

    def resolver(host: str) -> str:
        return ip if host == target.host else policy.resolve(host)

    try:
        tls = probe_tls(target.host, ip, target.https_port, settings, ca_file)
    except TlsUnreachable as exc:
        # Still worth knowing what plain http does; HSTS needs working TLS, so skip it.
        http = probe_http(target.host, target.https_port, target.http_port, resolver, settings, with_hsts=False)
        return finish(ip=ip, error=str(exc), http=http)
    http = probe_http(target.host, target.https_port, target.http_port, resolver, settings)
    error = f"scan incomplete, not graded: {tls.incomplete_reason}" if tls.incomplete_reason else None
    return finish(ip=ip, tls=tls, http=http, error=error)
