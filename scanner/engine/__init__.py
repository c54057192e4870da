"""The scan engine: resolve through the network policy, probe TLS with sslyze, probe HTTP. No Django here."""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import Future, wait
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..netpolicy import NetworkPolicy, TargetRefused
from ..targets import Target
from .results import EndpointResult, HttpResult, ProbeOutcome, ScanResult, ScanSettings, TlsResult
from .runtime.allowance import ConnectionAllowance
from .runtime.outbound_budget import OutboundBudget
from .runtime.sslyze_import import import_sslyze

if TYPE_CHECKING:
    from collections.abc import Callable

    from .certificates.chain import AiaFetcher
    from .certificates.revocation_fetch import Checker

__all__ = ["ScanResult", "ScanSettings", "load_probes", "scan"]


def load_probes(*, late_ones: bool = True) -> None:
    """Import the probes (sslyze, httpx, dnspython: most of the engine's import time).

    Not done with this package: the models, grading and reports import its results, and Django's set-up
    imports the models, so every Django process (`manage.py scan --help` too) would pay for them. `scan()`
    calls this first; a worker calls it at start so that its pool children, forked later, share them.
    `late_ones=False` leaves out what only runs beside the TLS scan or after it (the HTTP probe's and the
    certificate fetches' httpx, the CAA lookup's dnspython): `scan()` imports those beside the scan, where a
    one-off process has nothing else to do, so its TLS scan starts that much sooner."""
    # httpx's package imports its command-line client when click and rich are installed (celery requires
    # click; schemathesis, a test tool, rich), and goes without it when that import fails: a None entry in
    # sys.modules makes it fail (https://docs.python.org/3/reference/import.html#the-module-cache).
    # Rich's console and click's core were a tenth of the probes' import, for a client no probe uses.
    sys.modules.setdefault("httpx._main", None)
    import_sslyze()
    from . import tls  # noqa: F401

    if late_ones:
        _import_late_probes()


def _import_late_probes() -> None:
    # The HTTP probe's first: it starts as soon as the server has answered the pre-flight.
    from .http import redirects  # noqa: F401, I001
    from .certificates import caa  # noqa: F401
    from sslyze.mozilla_tls_profile import tls_config_checker  # noqa: F401  (read once the TLS scan has ended)
    import gmpy2  # noqa: F401  (the DH prime tests, protocols/keyexchange.py, once the TLS scan has ended)


def scan(
    target: Target,
    *,
    policy: NetworkPolicy,
    settings: ScanSettings | None = None,
    ca_file: str | None = None,
    beside: Callable[[], object] | None = None,
) -> ScanResult:
    """Scan one site at every address behind its name. Network problems never raise: they come back as a failed
    ScanResult (or a failed endpoint) with a reason.

    `beside` (optional) is the caller's preparation for what follows the scan, such as importing its grading:
    it runs once, in a thread of its own once the first address's TLS scan has started (where the scan waits on
    the network) or after it when that never started, and has ended when this returns (what it raised is raised
    here). A target refused before any connection returns without running it."""
    load_probes(late_ones=False)  # before the clock starts: a scan's duration is the scan's
    settings = settings or ScanSettings()
    started_at = datetime.now(UTC)
    clock = time.monotonic()

    # One allowance for every fetch the scanned site chooses the destination of (AIA, OCSP/CRL, redirects).
    budget = OutboundBudget(settings.outbound_budget)

    def finish(**fields: Any) -> ScanResult:
        return ScanResult(
            host=target.host,
            https_port=target.https_port,
            http_port=target.http_port,
            started_at=started_at,
            duration_s=round(time.monotonic() - clock, 3),
            outbound_skipped=budget.skipped,
            outbound_budget=budget.limit,
            **fields,
        )

    try:
        # Resolved once, here, and those addresses are the ones scanned: a second DNS answer cannot
        # smuggle an internal target past the policy.
        addresses = policy.resolve_all(target.host)
    except TargetRefused as exc:
        return finish(ip=None, error=str(exc))

    fetch_aia = _aia_fetcher(policy, settings, budget)
    check_revocation = _revocation_checker(policy, settings, budget)
    first = addresses[0]
    # The HTTP side runs once, at the first address, alongside that address's TLS scan (it needs nothing
    # from it); it starts once the server has answered TLS, so a dead host costs no HTTPS timeout. One
    # connection at a time while that TLS scan holds the address's others, all of them once it has ended.
    http_connections = ConnectionAllowance(1)
    alongside = _Alongside(
        lambda: _probe_http()(
            target.host,
            target.https_port,
            target.http_port,
            _resolver(target, first, policy),
            settings,
            ca_file=ca_file,
            outbound_budget=budget,
            connections=http_connections,
        )
    )
    # The imports of what runs beside and after the scan (the HTTP probe first, then the caller's) start with the
    # TLS scan, while the pre-flight handshake waits on the network: the HTTP side then starts as it answers.
    preparing = _Alongside(lambda: _prepare(beside))

    endpoints_scanned = []
    tls_started = time.monotonic()
    for index, ip in enumerate(addresses):
        if index:
            # No thread of ours may run across the next address's fork.
            alongside.wait()
            preparing.wait()
        endpoints_scanned.append(
            _scan_endpoint(
                target,
                ip,
                _endpoint_share(settings, tls_started, len(addresses) - index),
                ca_file,
                fetch_aia,
                check_revocation,
                while_running=alongside.start if index == 0 else None,
                as_it_starts=preparing.start if index == 0 else None,
            )
        )
        http_connections.grow_to(settings.per_target_connections)
    if preparing.started:
        preparing.result()
    else:
        _prepare(beside)  # the first address's TLS scan never started
    from .certificates.caa import lookup_caa

    endpoints = tuple(endpoints_scanned)
    measured = [endpoint for endpoint in endpoints if endpoint.error is None]
    primary = measured[0] if measured else endpoints[0]
    # The first measured address's probes; another address that failed is in `endpoints` with its reason.
    probes: dict[str, ProbeOutcome] = dict(primary.tls.probes) if primary.tls else {}
    tls_answered = primary.tls is not None
    if alongside.started and primary.ip == first and tls_answered:
        http: HttpResult = alongside.result()
    else:
        alongside.wait()
        # Still worth knowing what plain http does; HSTS needs working TLS, so skip it when TLS is unreachable.
        http = _probe_http()(
            target.host,
            target.https_port,
            target.http_port,
            _resolver(target, primary.ip, policy),
            settings,
            with_hsts=tls_answered,
            ca_file=ca_file,
            outbound_budget=budget,
            connections=http_connections,
        )
    if not measured:
        return finish(
            ip=primary.ip, error=primary.error, tls=primary.tls, http=http, endpoints=endpoints, probes=probes
        )
    return finish(
        ip=primary.ip,
        tls=primary.tls,
        http=http,
        endpoints=endpoints,
        probes=probes,
        caa=lookup_caa(target.host, servers=settings.dns_servers, timeout=settings.connect_timeout),
    )


def _probe_http() -> Callable[..., HttpResult]:
    # Imported where it runs, beside the TLS scan (load_probes's late ones): not on the way to the TLS scan.
    from .http.redirects import probe_http

    return probe_http


def _prepare(beside: Callable[[], object] | None) -> None:
    _import_late_probes()
    if beside is not None:
        beside()


# However little of the TLS budget earlier addresses left, the next one still gets this long (or a quarter of
# the budget, when that is shorter).
MIN_ENDPOINT_TLS_S = 10.0


def _endpoint_share(settings: ScanSettings, started: float, addresses_left: int) -> ScanSettings:
    """One TLS deadline for the whole site: each address gets an equal share of what is left of it (a single
    address gets all of it), so a name with several slow addresses still ends inside the task's time limit
    with every address measured or failed with a reason, instead of the whole scan being stopped."""
    left = settings.tls_deadline - (time.monotonic() - started)
    return replace(
        settings, tls_deadline=round(max(left / addresses_left, min(MIN_ENDPOINT_TLS_S, settings.tls_deadline / 4)), 1)
    )


def _resolver(target: Target, ip: str, policy: NetworkPolicy) -> Callable[[str], str]:
    def resolve(host: str) -> str:
        return ip if host == target.host else policy.resolve(host)

    return resolve


class _Alongside:
    """One call run in a thread beside the TLS scan; `start` may be called at most once."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self._call = call
        self._future: Future | None = None

    @property
    def started(self) -> bool:
        return self._future is not None

    def start(self) -> None:
        future = self._future = Future()

        def run() -> None:
            try:
                future.set_result(self._call())
            except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread by result()
                future.set_exception(exc)

        threading.Thread(target=run, name="beside-tls", daemon=True).start()

    def wait(self) -> None:
        if self._future is not None:
            wait([self._future])

    def result(self) -> Any:
        return self._future.result()


def _scan_endpoint(
    target: Target,
    ip: str,
    settings: ScanSettings,
    ca_file: str | None,
    fetch_aia: AiaFetcher,
    check_revocation: Checker | None = None,
    while_running: Callable[[], None] | None = None,
    as_it_starts: Callable[[], None] | None = None,
) -> EndpointResult:
    from .tls import TlsUnreachable, probe_tls

    try:
        tls: TlsResult = probe_tls(
            target.host,
            ip,
            target.https_port,
            settings,
            ca_file,
            fetch_aia=fetch_aia,
            check_revocation=check_revocation,
            while_running=while_running,
            as_it_starts=as_it_starts,
        )
    except TlsUnreachable as exc:
        return EndpointResult(ip=ip, error=str(exc))
    if tls.incomplete_reason:
        # Only a core probe (protocols, cipher suites, certificate) failing fails the endpoint; an optional
        # probe that failed is listed in `probes` and the endpoint is graded from what was measured (partial).
        return EndpointResult(ip=ip, tls=tls, error=f"scan incomplete, not graded: {tls.incomplete_reason}")
    return EndpointResult(ip=ip, tls=tls)


def _aia_fetcher(policy: NetworkPolicy, settings: ScanSettings, budget: OutboundBudget) -> AiaFetcher:
    from .certificates.aia import make_fetcher

    # AIA downloads go through the same policy and pins as the target; one short deadline each, and each takes
    # one fetch from the scan's outbound budget.
    return make_fetcher(
        policy, deadline=min(settings.http_timeout, 10.0), connect_timeout=settings.connect_timeout, budget=budget
    )


def _revocation_checker(policy: NetworkPolicy, settings: ScanSettings, budget: OutboundBudget) -> Checker:
    from .certificates.revocation_fetch import make_checker

    # OCSP and CRL requests go through the same policy and pins as the target; one short deadline each, and
    # each download takes one fetch from the scan's outbound budget.
    return make_checker(
        policy, deadline=min(settings.http_timeout, 10.0), connect_timeout=settings.connect_timeout, budget=budget
    )
