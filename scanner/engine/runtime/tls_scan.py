"""One TLS scan of one address with the adaptive engine, in a child process that owns every connection.

The child first learns what sslyze's connectivity test would, with its questions asked at once (connectivity.py,
which also shows whether the server serves connections side by side). Then everything else goes on one priority
pool of `per_target_connections` threads: the enumeration's chains first (the longest, TLS 1.2's, ahead), ROBOT
as soon as the enumeration shows an RSA key exchange, sslyze's other commands (certificate, Heartbleed, CCS,
renegotiation, compression, fallback SCSV, EMS) in the gaps, and the handshake simulation once the enumeration
has the server's order. The server never sees more than that many connections at once, and no phase waits for
another to finish: behind a real network the scan takes about as long as its longest chain, or as its
handshakes shared among the threads, whichever is longer.

Running it in a forked child (sslyze_runner) keeps that module's guarantees: no thread of the scan overlaps a
fork, and a deadline, a soft time limit or a crash leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from sslyze import ScanCommand, ServerScanRequest, ServerScanResult
from sslyze.errors import ConnectionToServerFailed
from sslyze.server_connectivity import ServerConnectivityInfo, check_connectivity_to_server

from scanner.engine.protocols.adaptive import Enumeration, Learned, warm_up
from scanner.engine.protocols.adaptive_attempts import accepted_suites, attempts_for
from scanner.engine.protocols.suite_offers import Budget
from scanner.engine.protocols.versions import CIPHER_COMMANDS, VERSIONS
from scanner.engine.results import PROBE_ERROR, PROBE_OK, ProbeOutcome, TlsResult
from scanner.engine.runtime import plugin_jobs, resets
from scanner.engine.runtime.connectivity import CONNECTIONS_AT_ONCE, one_connection_only, probe_at_once
from scanner.engine.runtime.pool import PriorityPool
from scanner.engine.runtime.sslyze_runner import run_in_child
from scanner.engine.simulation import simulate as simulation

ENUMERATED = CIPHER_COMMANDS | {ScanCommand.ELLIPTIC_CURVES, ScanCommand.ROBOT}


def run_adaptive_scan(
    request: ServerScanRequest,
    *,
    per_server_connections: int = 4,
    connection_budget: int | None = None,
    deadline: float | None = None,
    learned: Learned | None = None,
    while_running: Callable[[], None] | None = None,
    simulate: bool = False,
) -> ServerScanResult | tuple[ServerScanResult, simulation.SimulationReport | None]:
    """Every command of `request`, the cipher suites, curves and ROBOT by the adaptive enumeration, in one result.

    `learned` (when given) receives what the enumeration saw; `while_running` is called here once the child has
    started (the engine starts its HTTP probe there). With `simulate`, the handshake simulation runs in the
    child too and the result comes as (scan result, simulation report or None when the scan did not connect).
    """
    warm_up()
    simulation.warm_up()
    result, seen, report = run_in_child(
        _scan_here,
        request,
        per_server_connections,
        connection_budget,
        deadline,
        simulate,
        deadline=deadline,
        while_running=while_running,
    )
    if learned is not None:
        learned.chains.update(seen.chains)
        learned.curves = seen.curves
        learned.unretried_resets = seen.unretried_resets
        learned.one_connection = seen.one_connection
    return (result, report) if simulate else result


def _scan_here(
    request: ServerScanRequest,
    connections: int,
    connection_budget: int | None,
    deadline: float | None,
    simulate: bool,
) -> tuple[ServerScanResult, Learned, simulation.SimulationReport | None]:
    started = time.monotonic()
    learned = Learned()
    resets.install()
    location, network = request.server_location, request.network_configuration
    try:
        # Within the scan's connection limit, as everything else: below three, one question after another.
        probing = probe_at_once(location, network) if connections >= CONNECTIONS_AT_ONCE else None
        served_together = probing is not None
        if probing is None:
            # sslyze's version probing reads a reset handshake as a version the server lacks: made again.
            probing = resets.retried(lambda: check_connectivity_to_server(location, network))
    except ConnectionToServerFailed as exc:
        return plugin_jobs.unreachable_scan(request, exc), learned, None
    info = ServerConnectivityInfo(location, network, probing)
    if connections > 1 and not served_together and one_connection_only(info):
        # A second connection while one is open is reset: every job beside another would be. One at a time.
        learned.one_connection = True
        connections = 1
    wanted = set(request.scan_commands) & ENUMERATED
    budget = Budget(connection_budget, _enumeration_seconds(request, deadline, started))
    report = None
    with PriorityPool(connections, name="tls") as pool:
        enumeration = Enumeration(
            info,
            [version for version, command in VERSIONS.items() if command in wanted],
            budget=budget,
            with_curves=ScanCommand.ELLIPTIC_CURVES in wanted,
            with_robot=ScanCommand.ROBOT in wanted,
            learned=learned,
            list_unchosen=False,
        )
        enumeration.start(pool)
        queued = plugin_jobs.queue_commands(
            pool, info, request, _longest_first(set(request.scan_commands) - ENUMERATED)
        )
        # The simulation starts beside the enumeration's confirmation handshake, from the outcomes as they
        # stand; in the rare scan whose confirmation fails, it runs again from the suite-by-suite ones.
        tentative = enumeration.chains_ended() if wanted else {}
        if simulate:
            report = _simulation(request, tentative, learned, pool)
        outcomes = enumeration.finish(with_robot_result=False) if wanted else tentative
        if simulate and outcomes is not tentative:
            report = _simulation(request, outcomes, learned, pool)
        if ScanCommand.ROBOT in wanted:
            outcomes["robot"] = enumeration.robot_result()
        attempts = plugin_jobs.collect_commands(info, queued)
    attempts.update(attempts_for(outcomes))
    learned.unretried_resets = resets.unretried()
    return plugin_jobs.completed_scan(request, info, attempts), learned, report


# sslyze's commands whose jobs take several round trips on one connection: session resumption's are two
# handshakes one after the other; session renegotiation's renegotiate on an open connection (the client-initiated
# test up to ten times in a row, on a server that allows it). Queued behind the one-handshake jobs, they were
# the scan's last.
_SEVERAL_ROUND_TRIPS = (ScanCommand.SESSION_RESUMPTION, ScanCommand.SESSION_RENEGOTIATION)


def _longest_first(commands: set[ScanCommand]) -> list[ScanCommand]:
    """sslyze's other commands in the order their jobs go on the pool: those of several round trips first, then
    by name."""
    return sorted(commands, key=lambda command: (command not in _SEVERAL_ROUND_TRIPS, command.value))


def _enumeration_seconds(request: ServerScanRequest, deadline: float | None, started: float) -> float | None:
    """The enumeration stops starting handshakes early enough to report "not measured" before the parent's
    deadline kills this process (which would lose everything measured so far)."""
    if deadline is None:
        return None
    reserve = min(deadline / 4, 2 * request.network_configuration.network_timeout + 1)
    return max(0.0, deadline - reserve - (time.monotonic() - started))


def _simulation(
    request: ServerScanRequest, outcomes: dict, learned: Learned, pool: PriorityPool
) -> simulation.SimulationReport:
    location = request.server_location
    try:
        return simulation.run_for(
            request.network_configuration.tls_server_name_indication,
            location.ip_address,
            location.port,
            accepted_suites(outcomes),
            timeout=request.network_configuration.network_timeout,
            learned=learned,
            pool=pool,
        )
    except Exception:  # noqa: BLE001 - the simulation is optional, the scan is not
        simulation.logger.exception("handshake simulation against %s failed", location.hostname)
        return simulation.FAILED


def with_connection_notes(tls: TlsResult, learned: Learned) -> TlsResult:
    """What the scan learned about the server's connections, as the `connections` probe: resets that no retry
    could check make the scan partial (never a confident answer built on them); a server that serves one
    connection at a time is said so (the scan used one)."""
    if learned.unretried_resets:
        outcome = ProbeOutcome(
            PROBE_ERROR,
            (
                f"the server reset {learned.unretried_resets} connection(s) during the scan where no retry could "
                "check the answer; results that depended on them may be wrong, so the scan is partial"
            ),
        )
    elif learned.one_connection:
        outcome = ProbeOutcome(
            PROBE_OK,
            (
                "the server resets a second connection while one is open (it serves one connection at a time), "
                "so it was scanned with one connection"
            ),
        )
    else:
        return tls
    return replace(tls, probes={**tls.probes, "connections": outcome})
