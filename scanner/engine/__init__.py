"""The scan engine: resolve through the network policy, probe TLS with sslyze, probe HTTP. No Django here."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from ..netpolicy import NetworkPolicy, TargetRefused
from ..targets import Target
from .http import probe_http
from .results import EndpointResult, ProbeOutcome, ScanResult, ScanSettings, TlsResult
from .tls import TlsUnreachable, probe_tls

__all__ = ["ScanResult", "ScanSettings", "scan"]


def scan(target: Target, *, policy: NetworkPolicy, settings: ScanSettings | None = None, ca_file: str | None = None) -> ScanResult:
    """Scan one site at every address behind its name. Network problems never raise: they come back as a failed
    ScanResult (or a failed endpoint) with a reason."""
    settings = settings or ScanSettings()
    started_at = datetime.now(UTC)
    clock = time.monotonic()

    def finish(**fields) -> ScanResult:
        return ScanResult(
            host=target.host, https_port=target.https_port, http_port=target.http_port,
            started_at=started_at, duration_s=round(time.monotonic() - clock, 3), **fields,
        )

    try:
        # Resolved once, here, and those addresses are the ones scanned: a second DNS answer cannot
        # smuggle an internal target past the policy.
        addresses = policy.resolve_all(target.host)
    except TargetRefused as exc:
        return finish(ip=None, error=str(exc))

    fetch_aia = _aia_fetcher(policy, settings)
    endpoints = tuple(_scan_endpoint(target, ip, settings, ca_file, fetch_aia) for ip in addresses)
    measured = [endpoint for endpoint in endpoints if endpoint.error is None]
    primary = measured[0] if measured else endpoints[0]

    def resolver(host: str) -> str:
        # The HTTP side runs once, at the first address that answered TLS properly.
        return primary.ip if host == target.host else policy.resolve(host)

    # The first measured address's probes; another address that failed is in `endpoints` with its reason.
    probes: dict[str, ProbeOutcome] = dict(primary.tls.probes) if primary.tls else {}

    if not measured:
        error = primary.error
        # Still worth knowing what plain http does; HSTS needs working TLS, so skip it when TLS is unreachable.
        http = probe_http(target.host, target.https_port, target.http_port, resolver, settings,
                          with_hsts=primary.tls is not None)
        return finish(ip=primary.ip, error=error, tls=primary.tls, http=http, endpoints=endpoints, probes=probes)
    http = probe_http(target.host, target.https_port, target.http_port, resolver, settings)
    return finish(ip=primary.ip, tls=primary.tls, http=http, endpoints=endpoints, probes=probes)


def _scan_endpoint(target: Target, ip: str, settings: ScanSettings, ca_file: str | None, fetch_aia) -> EndpointResult:
    try:
        tls: TlsResult = probe_tls(target.host, ip, target.https_port, settings, ca_file, fetch_aia=fetch_aia)
    except TlsUnreachable as exc:
        return EndpointResult(ip=ip, error=str(exc))
    if tls.incomplete_reason:
        # Only a core probe (protocols, cipher suites, certificate) failing fails the endpoint; an optional
        # probe that failed is listed in `probes` and the endpoint is graded from what was measured (partial).
        return EndpointResult(ip=ip, tls=tls, error=f"scan incomplete, not graded: {tls.incomplete_reason}")
    return EndpointResult(ip=ip, tls=tls)


def _aia_fetcher(policy: NetworkPolicy, settings: ScanSettings):
    from .aia import make_fetcher

    # AIA downloads go through the same policy and pins as the target; one short deadline each.
    return make_fetcher(policy, deadline=min(settings.http_timeout, 10.0), connect_timeout=settings.connect_timeout)
