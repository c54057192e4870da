"""What real clients get: the server's own cipher order, and a handshake per reference client.

Handshakes use nassl (the OpenSSL builds sslyze ships), pinned to the scanned address with SNI = hostname.
The modern nassl client speaks TLS 1.0 to 1.3 and still knows the weak suites old clients offered; the
legacy nassl client is used for SSLv3 only. Nothing here decides a grade: it fills `TlsResult`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from scanner.engine.protocols.adaptive import Learned
from scanner.engine.results import (
    PROBE_ERROR,
    PROBE_NOT_TESTED,
    PROBE_OK,
    PROTOCOLS,
    ClientSimulation,
    ProbeOutcome,
    TlsResult,
)
from scanner.engine.runtime.pool import URGENT, PriorityPool
from scanner.engine.simulation.clients import CLIENTS, ClientProfile

logger = logging.getLogger(__name__)

PROBE_NAME = "simulation"
from scanner.engine.simulation.client_handshake import (
    _TLS13_SUITES,
    HandshakeFailed,
    Negotiated,
    ServerStalled,
    _openssl_to_iana,
    handshake,
)
from scanner.engine.simulation.prediction import (
    _known_order,
    _modern_openssl_names,
    _sendable,
    _server_orders,
    needs_handshake,
    offerable,
    predict,
)


@dataclass(frozen=True)
class SimulationReport:
    server_cipher_preference: bool | None
    preferred_suites: dict[str, str]
    simulations: tuple[ClientSimulation, ...]
    outcome: ProbeOutcome
    # Per protocol, every accepted suite in the server's own order, where it enforces one and the adaptive
    # enumeration saw it whole ("3DES only as the server's last choice").
    suite_orders: dict[str, tuple[str, ...]] = field(default_factory=dict)


def warm_up() -> None:
    """Fill this module's tables in the parent process, so each scan's child inherits them."""
    _openssl_to_iana()
    _modern_openssl_names()


def _order_key(suite: str) -> tuple:
    # The order used to offer "everything": forward secrecy, then AEAD, then the name for stability.
    fs = suite in _TLS13_SUITES or "_DHE_" in suite or "_ECDHE_" in suite
    aead = any(mark in suite for mark in ("_GCM_", "CHACHA20", "_CCM"))
    return (not fs, not aead, suite)


def _map(function: Callable, items: Sequence, pool: PriorityPool | None, workers: int) -> list:
    """`function` over `items`, on the scan's pool when there is one (ahead of its other queued jobs), else on
    `workers` threads of our own."""
    if pool is None:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as own:
            return list(own.map(function, items))
    return [job.result() for job in [pool.submit_at(URGENT, function, item) for item in items]]


def cipher_preference(
    host: str,
    ip: str,
    port: int,
    accepted: dict[str, list[str]],
    *,
    timeout: float,
    connections: Callable[[], None] | None = None,
    workers: int = 4,
    learned: Learned | None = None,
    pool: PriorityPool | None = None,
) -> tuple[bool | None, dict[str, str]]:
    """Per protocol: the suite picked when offered all accepted suites, and whether the server's order wins.

    The server enforces its own order when it picks the same suite again after the offer is reversed; that is
    asked on one protocol, the highest below TLS 1.3 with two or more suites (where a non-forward-secret
    choice is possible), else TLS 1.3. Handshakes run `workers` at a time. With what the adaptive enumeration
    `learned`, a protocol whose whole order it saw needs no handshake (its first suite our client can offer is
    the pick), and the order question is already answered where its picks did not follow our offer.
    """
    preferred: dict[str, str] = {}
    offers: dict[str, list[str]] = {}
    for protocol, suites in accepted.items():
        offer = sorted(offerable(suites), key=_order_key)
        if len(offer) == 1:
            preferred[protocol] = offer[0]  # the only suite it accepts is what it picks
        elif offer:
            offers[protocol] = offer

    def pick(job: tuple[str, list[str]]) -> Negotiated:
        protocol, offer = job
        return handshake(host, ip, port, protocols=[protocol], suites=offer, timeout=timeout, connections=connections)

    # The order question is asked once, on the protocol that decides it: the highest below TLS 1.3 with two
    # or more suites (where a client could end up without forward secrecy), else TLS 1.3.
    below_13 = [protocol for protocol in offers if protocol != "TLSv1.3"]
    deciding = max(below_13, key=PROTOCOLS.index) if below_13 else ("TLSv1.3" if "TLSv1.3" in offers else None)
    jobs: list[tuple[str, list[str]]] = []
    for protocol, offer in offers.items():
        order = _known_order(learned, protocol)
        known = next((suite for suite in order or () if suite in _sendable(offer, protocol)), None)
        if known is not None:
            preferred[protocol] = known
        else:
            jobs.append((protocol, offer))
    # A chain whose picks did not follow our offer order shows the server choosing by its own order.
    answered = deciding is not None and _server_orders(learned, deciding)
    if deciding is not None and not answered:
        jobs.append((deciding, offers[deciding][::-1]))
    picks = _map(pick, jobs, pool, workers)
    for (protocol, _), negotiated in zip(jobs, picks, strict=True):
        preferred.setdefault(protocol, negotiated.suite)
    if deciding is None:
        return None, preferred
    if answered:
        return True, preferred
    return picks[-1].suite == preferred[deciding], preferred


def simulate_clients(
    host: str,
    ip: str,
    port: int,
    *,
    timeout: float,
    clients: Sequence[ClientProfile] = CLIENTS,
    connections: Callable[[], None] | None = None,
    workers: int = 4,
    accepted: dict[str, list[str]] | None = None,
    preferred: dict[str, str] | None = None,
    learned: Learned | None = None,
    pool: PriorityPool | None = None,
    started: dict[str, Future] | None = None,
) -> tuple[tuple[ClientSimulation, ...], str | None]:
    """Every client's handshake (`workers` at a time); also why the server stopped answering, if it did.

    A client whose result `predict` can read from what the enumeration learned needs no handshake; a client
    whose handshake was `started` already (by name, see `start_handshakes`) takes that handshake's answer.
    """
    started = started or {}

    def simulate(profile: ClientProfile) -> tuple[ClientSimulation, str | None]:
        negotiated = predict(profile, accepted or {}, preferred or {}, learned)
        if negotiated is None:
            return _client_handshake(profile, host, ip, port, timeout, connections)
        return _simulated(profile, negotiated), None

    others = iter(_map(simulate, [profile for profile in clients if profile.name not in started], pool, workers))
    outcomes = [started[profile.name].result() if profile.name in started else next(others) for profile in clients]
    stalled = next((reason for _, reason in outcomes if reason), None)
    return tuple(simulation for simulation, _ in outcomes), stalled


def start_handshakes(
    host: str,
    ip: str,
    port: int,
    *,
    timeout: float,
    accepted: dict[str, list[str]],
    learned: Learned | None,
    pool: PriorityPool,
    clients: Sequence[ClientProfile] = CLIENTS,
    connections: Callable[[], None] | None = None,
) -> dict[str, Future]:
    """Queue on `pool` the handshake of every client that needs one whatever the cipher-preference handshakes
    find (`needs_handshake`), so that they run beside those instead of after them: behind a real network
    that is one round of handshakes less at the end of the scan. By client name."""
    return {
        profile.name: pool.submit_at(URGENT, _client_handshake, profile, host, ip, port, timeout, connections)
        for profile in clients
        if needs_handshake(profile, accepted, learned)
    }


def _client_handshake(
    profile: ClientProfile,
    host: str,
    ip: str,
    port: int,
    timeout: float,
    connections: Callable[[], None] | None,
) -> tuple[ClientSimulation, str | None]:
    """`profile`'s real handshake: what it negotiated, or its error (and the reason when the server stalled)."""
    try:
        negotiated = handshake(
            host,
            ip,
            port,
            protocols=profile.protocols,
            suites=profile.suites,
            groups=profile.groups,
            timeout=timeout,
            connections=connections,
        )
    except ServerStalled as exc:
        return ClientSimulation(profile.name, None, None, None, error=str(exc), modern=profile.modern), str(exc)
    except HandshakeFailed as exc:
        return ClientSimulation(profile.name, None, None, None, error=str(exc), modern=profile.modern), None
    return _simulated(profile, negotiated), None


def _simulated(profile: ClientProfile, negotiated: Negotiated) -> ClientSimulation:
    return ClientSimulation(
        profile.name, negotiated.protocol, negotiated.suite, negotiated.forward_secrecy, modern=profile.modern
    )


FAILED = SimulationReport(None, {}, (), ProbeOutcome(PROBE_ERROR, "the handshake simulation failed unexpectedly"))


def run(
    host: str,
    ip: str,
    port: int,
    tls: TlsResult,
    *,
    timeout: float,
    connections: Callable[[], None] | None = None,
    workers: int = 4,
    learned: Learned | None = None,
) -> SimulationReport:
    """Both halves; a failure becomes the `simulation` probe's outcome, never an exception."""
    accepted: dict[str, list[str]] = {}
    for suite in tls.cipher_suites:
        accepted.setdefault(suite.protocol, []).append(suite.name)
    return run_for(host, ip, port, accepted, timeout=timeout, connections=connections, workers=workers, learned=learned)


def run_for(
    host: str,
    ip: str,
    port: int,
    accepted: dict[str, list[str]],
    *,
    timeout: float,
    connections: Callable[[], None] | None = None,
    workers: int = 4,
    learned: Learned | None = None,
    pool: PriorityPool | None = None,
) -> SimulationReport:
    """`run` from the accepted suites per protocol; handshakes go to `pool` when given (the TLS scan's own)."""
    if not accepted:
        return SimulationReport(None, {}, (), ProbeOutcome(PROBE_NOT_TESTED, "no cipher suite was found to simulate"))
    started = time.monotonic()
    early = (
        start_handshakes(
            host, ip, port, timeout=timeout, accepted=accepted, learned=learned, pool=pool, connections=connections
        )
        if pool is not None
        else {}
    )
    try:
        preference, preferred = cipher_preference(
            host,
            ip,
            port,
            accepted,
            timeout=timeout,
            connections=connections,
            workers=workers,
            learned=learned,
            pool=pool,
        )
    except ServerStalled as exc:
        for job in early.values():
            job.cancel()  # those not started yet; a started one ends at its timeout
        return SimulationReport(None, {}, (), ProbeOutcome(PROBE_ERROR, f"the server stopped answering: {exc}"))
    except HandshakeFailed as exc:
        # A suite it accepted during enumeration is now refused: say nothing rather than guess.
        preference, preferred = None, {}
        logger.info("cipher preference of %s not determined: %s", host, exc)
    simulations, stalled = simulate_clients(
        host,
        ip,
        port,
        timeout=timeout,
        connections=connections,
        workers=workers,
        accepted=accepted,
        preferred=preferred,
        learned=learned if preference is not None else None,
        pool=pool,
        started=early,
    )
    logger.debug("simulation of %s took %.2f s", host, time.monotonic() - started)
    if stalled:
        outcome = ProbeOutcome(PROBE_ERROR, f"the server stopped answering during the handshake simulation: {stalled}")
    else:
        outcome = ProbeOutcome(PROBE_OK)
    orders = {}
    for protocol, suites in accepted.items() if preference else ():
        order = _known_order(learned, protocol)
        if order and set(order) == set(suites):
            orders[protocol] = tuple(order)
    return SimulationReport(preference, preferred, simulations, outcome, orders)


def with_simulation(
    tls: TlsResult,
    *,
    host: str,
    ip: str,
    port: int,
    timeout: float,
    workers: int = 4,
    learned: Learned | None = None,
) -> TlsResult:
    """The one call the TLS probe makes: `tls` plus the preference, simulations and the `simulation` probe."""
    try:
        report = run(host, ip, port, tls, timeout=timeout, workers=workers, learned=learned)
    except Exception:  # belt and braces: the simulation is optional, the scan is not
        logger.exception("handshake simulation against %s failed", host)
        report = FAILED
    return with_report(tls, report)


def with_report(tls: TlsResult, report: SimulationReport) -> TlsResult:
    return replace(
        tls,
        server_cipher_preference=report.server_cipher_preference,
        preferred_suites=report.preferred_suites,
        simulations=report.simulations,
        server_suite_order=report.suite_orders,
        probes={**tls.probes, PROBE_NAME: report.outcome},
    )
