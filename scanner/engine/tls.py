"""TLS probing: a quick pre-flight handshake (runtime/preflight.py), then one sslyze scan of the pinned address.

Each probe family reads its own part of sslyze's result into our types (protocols/support.py, curves.py,
certificates/deployments.py, vulnerabilities/findings.py and resumption.py); this module runs the scan and
puts those parts together into one TlsResult."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sslyze import (
    CertificateInfoExtraArgument,
    ScanCommand,
    ScanCommandAttemptStatusEnum,
    ScanCommandsExtraArguments,
    ServerNetworkConfiguration,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)
from sslyze.server_connectivity import ClientAuthRequirementEnum

from scanner.engine.certificates import chain
from scanner.engine.certificates.deployments import certificate_findings
from scanner.engine.curves import supported_curve_names
from scanner.engine.protocols import keyexchange
from scanner.engine.protocols.adaptive import Learned
from scanner.engine.protocols.support import protocol_support
from scanner.engine.protocols.versions import PROTOCOL_COMMANDS
from scanner.engine.results import (
    PROBE_ERROR,
    PROBE_NOT_TESTED,
    PROBE_OK,
    ProbeOutcome,
    ScanSettings,
    TlsResult,
)
from scanner.engine.runtime.error_reasons import attempt_reason, connectivity_reason
from scanner.engine.runtime.preflight import TlsUnreachable, preflight
from scanner.engine.runtime.sslyze_runner import ScanDeadlineExceeded, ScanRunnerFailed, run_scan
from scanner.engine.runtime.tls_scan import run_adaptive_scan, with_connection_notes
from scanner.engine.simulation.simulate import with_report, with_simulation
from scanner.engine.vulnerabilities.findings import extended_master_secret, vulnerabilities
from scanner.engine.vulnerabilities.resumption import RESUMPTION_ATTEMPTS, session_resumption

if TYPE_CHECKING:
    from sslyze import AllScanCommandsAttempts, ServerScanResult

    from scanner.engine.certificates.revocation_fetch import Checker

logger = logging.getLogger(__name__)

# Probes the grade cannot do without: without them the scan fails. Every other probe is optional: when it
# fails the scan is still graded from what was measured, marked partial, and the probe says why.
CORE_PROBES = {"protocols": tuple(PROTOCOL_COMMANDS.values()), "certificate": (ScanCommand.CERTIFICATE_INFO,)}
OPTIONAL_PROBES = {
    "heartbleed": ScanCommand.HEARTBLEED,
    "robot": ScanCommand.ROBOT,
    "ccs_injection": ScanCommand.OPENSSL_CCS_INJECTION,
    "renegotiation": ScanCommand.SESSION_RENEGOTIATION,
    "compression": ScanCommand.TLS_COMPRESSION,
    "fallback_scsv": ScanCommand.TLS_FALLBACK_SCSV,
    "elliptic_curves": ScanCommand.ELLIPTIC_CURVES,
    "extended_master_secret": ScanCommand.TLS_EXTENDED_MASTER_SECRET,
    "session_resumption": ScanCommand.SESSION_RESUMPTION,
}
PROBE_TITLES = {
    "protocols": "protocol and cipher suite enumeration",
    "certificate": "certificate analysis",
    "heartbleed": "Heartbleed test",
    "robot": "ROBOT test",
    "ccs_injection": "OpenSSL CCS injection test",
    "renegotiation": "renegotiation test",
    "compression": "TLS compression (CRIME) test",
    "fallback_scsv": "downgrade protection (TLS_FALLBACK_SCSV) test",
    "elliptic_curves": "elliptic curve enumeration",
    "extended_master_secret": "extended master secret test",
    "session_resumption": "session resumption test (session IDs and tickets)",
    "mozilla_intermediate": "Mozilla intermediate configuration check",
    "chain_completion": "download of missing intermediate certificates (AIA)",
}
SCAN_COMMANDS = set(PROTOCOL_COMMANDS.values()) | {ScanCommand.CERTIFICATE_INFO} | set(OPTIONAL_PROBES.values())


def probe_tls(
    host: str,
    ip: str,
    port: int,
    settings: ScanSettings,
    ca_file: str | None,
    *,
    fetch_aia: chain.AiaFetcher | None = None,
    check_revocation: Callable | None = None,
    while_running: Callable[[], None] | None = None,
    as_it_starts: Callable[[], None] | None = None,
) -> TlsResult:
    """The TLS side of one address. `while_running` is called once the server has answered the pre-flight
    handshake and the scan has started; `as_it_starts` (which must not block) once the scan has started, before
    that answer, for work that needs none (in sslyze mode both are called once the scan has ended). In adaptive
    mode the pre-flight runs here while the scan's child process already runs its connectivity test: it costs
    no time when the server answers, and when it does not, the child is stopped and the pre-flight's reason is
    the endpoint's error."""
    adaptive = settings.cipher_enumeration == "adaptive"
    if not adaptive:
        preflight(host, ip, port, settings.connect_timeout)
    request = ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=host, port=port, ip_address=ip),
        network_configuration=ServerNetworkConfiguration(
            tls_server_name_indication=host,
            network_timeout=max(1, round(settings.network_timeout)),
            network_max_retries=settings.network_retries,
        ),
        scan_commands=SCAN_COMMANDS,
        scan_commands_extra_arguments=ScanCommandsExtraArguments(
            certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(ca_file)) if ca_file else None,
            session_resumption=RESUMPTION_ATTEMPTS,
        ),
    )
    report = None
    learned = Learned()

    def preflight_then_go_on() -> None:
        # Runs while the child's connectivity test runs: a failed pre-flight stops the child and says why.
        if as_it_starts is not None:
            as_it_starts()
        preflight(host, ip, port, settings.connect_timeout)
        if while_running is not None:
            while_running()

    try:
        if adaptive:
            # The simulation runs in the scan's child, on its connections, as soon as the enumeration's chains end.
            server_result, report = run_adaptive_scan(
                request,
                per_server_connections=settings.per_target_connections,
                connection_budget=settings.connection_budget,
                deadline=settings.tls_deadline,
                while_running=preflight_then_go_on,
                simulate=True,
                learned=learned,
            )
        else:
            server_result = run_scan(
                request, per_server_connections=settings.per_target_connections, deadline=settings.tls_deadline
            )
            if as_it_starts is not None:
                as_it_starts()
            if while_running is not None:
                while_running()
    except (ScanDeadlineExceeded, ScanRunnerFailed) as exc:
        raise TlsUnreachable(f"TLS scan stopped: {exc}") from None
    if server_result.scan_status != ServerScanStatusEnum.COMPLETED:
        raise TlsUnreachable(connectivity_reason(ip, port, server_result.connectivity_error_trace))
    tls = with_connection_notes(_tls_result(host, server_result, fetch_aia, check_revocation), learned)
    if report is not None:
        return with_report(tls, report)
    # What real clients get; never fails the scan, see the `simulation` probe.
    return with_simulation(
        tls, host=host, ip=ip, port=port, timeout=settings.network_timeout, workers=settings.per_target_connections
    )


def _tls_result(
    host: str,
    server_result: ServerScanResult,
    fetch_aia: chain.AiaFetcher | None,
    check_revocation: Checker | None = None,
) -> TlsResult:
    """Our TlsResult from sslyze's scan result: each probe family reads its own part."""
    scan = server_result.scan_result
    support = protocol_support(scan)
    probes: dict[str, ProbeOutcome] = {
        "protocols": ProbeOutcome(PROBE_ERROR, "; ".join(support.problems))
        if support.problems
        else ProbeOutcome(PROBE_OK)
    }
    core_problems = list(support.problems)
    certificate = certificate_findings(host, scan.certificate_info, fetch_aia, check_revocation)
    probes.update(certificate.probes)
    if certificate.problem is not None:
        core_problems.append(certificate.problem)
    results = _optional_results(scan, probes)
    mozilla_issues = _mozilla_intermediate(server_result, probes)
    curves = supported_curve_names(results["elliptic_curves"])
    deployments = certificate.deployments
    tls_probing = getattr(server_result.connectivity_result, "client_auth_requirement", None)
    return TlsResult(
        protocols=support.protocols,
        cipher_suites=tuple(support.suites),
        certificate=deployments[0] if deployments else None,
        vulnerabilities=vulnerabilities(results),
        curves=curves,
        extended_master_secret=extended_master_secret(results),
        session_resumption=session_resumption(results["session_resumption"]),
        mozilla_intermediate_issues=mozilla_issues,
        incomplete_reason="; ".join(core_problems) or None,
        certificate_deployments=deployments,
        key_exchange_groups=keyexchange.groups_from_suites(support.ephemeral_keys, curves),
        client_certificate_requested=tls_probing not in (None, ClientAuthRequirementEnum.DISABLED),
        probes=probes,
    )


def _optional_results(scan: AllScanCommandsAttempts, probes: dict[str, ProbeOutcome]) -> dict[str, Any]:
    """Each optional probe's sslyze result by probe name (None unless it completed); its outcome into `probes`."""
    results: dict[str, Any] = {}
    for name, command in OPTIONAL_PROBES.items():
        attempt = getattr(scan, command.value)
        if attempt.status == ScanCommandAttemptStatusEnum.COMPLETED:
            results[name] = attempt.result
            probes[name] = ProbeOutcome(PROBE_OK)
        elif attempt.status == ScanCommandAttemptStatusEnum.NOT_SCHEDULED:
            results[name] = None
            probes[name] = ProbeOutcome(PROBE_NOT_TESTED, "this test was not scheduled")
        else:
            results[name] = None
            probes[name] = ProbeOutcome(PROBE_ERROR, attempt_reason(attempt))
    return results


def _mozilla_intermediate(server_result: ServerScanResult, probes: dict[str, ProbeOutcome]) -> dict[str, str] | None:
    """Where the server departs from Mozilla's intermediate configuration ({} when nowhere, None: not checked)."""
    # Read after the scan only: imported beside it (engine._import_late_probes), not before its child starts.
    from sslyze.mozilla_tls_profile.tls_config_checker import (
        MozillaTlsConfiguration,
        ServerNotCompliantWithTlsConfiguration,
        ServerScanResultIncomplete,
        TlsConfigurationEnum,
        check_server_against_tls_configuration,
    )

    try:
        check_server_against_tls_configuration(
            server_result, MozillaTlsConfiguration.get(TlsConfigurationEnum.MOZILLA_INTERMEDIATE)
        )
    except ServerNotCompliantWithTlsConfiguration as exc:
        probes["mozilla_intermediate"] = ProbeOutcome(PROBE_OK)
        return {key: str(value) for key, value in exc.issues.items()}
    except ServerScanResultIncomplete:
        probes["mozilla_intermediate"] = ProbeOutcome(
            PROBE_NOT_TESTED, "the check needs every TLS test to have completed, and at least one did not"
        )
        return None
    probes["mozilla_intermediate"] = ProbeOutcome(PROBE_OK)
    return {}
