"""TLS probing: a quick pre-flight handshake (preflight.py), then one sslyze scan of the pinned address.

sslyze's results become our TlsResult here; certificate deployments are read in deployments.py."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

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
from sslyze.mozilla_tls_profile.tls_config_checker import (
    MozillaTlsConfiguration,
    ServerNotCompliantWithTlsConfiguration,
    ServerScanResultIncomplete,
    TlsConfigurationEnum,
    check_server_against_tls_configuration,
)
from sslyze.server_connectivity import ClientAuthRequirementEnum

from scanner.engine.certificates import chain
from scanner.engine.protocols import keyexchange
from scanner.engine.protocols.adaptive import Learned
from scanner.engine.protocols.versions import PROTOCOL_COMMANDS
from scanner.engine.results import (
    PROBE_ERROR,
    PROBE_NOT_TESTED,
    PROBE_OK,
    CertificateInfo,
    CipherSuite,
    ProbeOutcome,
    ScanSettings,
    TlsResult,
    Vulnerabilities,
)
from scanner.engine.runtime.error_reasons import attempt_reason, connectivity_reason
from scanner.engine.runtime.sslyze_runner import ScanDeadlineExceeded, ScanRunnerFailed, run_scan
from scanner.engine.runtime.tls_scan import run_adaptive_scan, with_connection_notes
from scanner.engine.simulation.simulate import with_report, with_simulation
from scanner.engine.vulnerabilities.resumption import RESUMPTION_ATTEMPTS, session_resumption

if TYPE_CHECKING:
    from sslyze import CipherSuiteAcceptedByServer, ScanCommandAttempt, ServerScanResult

    from scanner.engine.certificates.revocation_fetch import Checker

logger = logging.getLogger(__name__)
from scanner.engine.certificates.deployments import _deployments
from scanner.engine.runtime.preflight import TlsUnreachable, preflight

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
# sslyze reports a stalled handshake as a *rejected* suite with this text; a
# silent false "not supported" must make the scan incomplete instead.
_TIMEOUT_MARKER = "timed out"


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
) -> TlsResult:
    """The TLS side of one address. `while_running` is called once the server has answered the pre-flight
    handshake and the scan has started. In adaptive mode the pre-flight runs here while the scan's child
    process already runs its connectivity test: it costs no time when the server answers, and when it does
    not, the child is stopped and the pre-flight's reason is the endpoint's error."""
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
        preflight(host, ip, port, settings.connect_timeout)
        if while_running is not None:
            while_running()

    try:
        if adaptive:
            # The simulation runs in the scan's child, on its connections, as soon as the enumeration is done.
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
    scan = server_result.scan_result
    core_problems: list[str] = []
    probes: dict[str, ProbeOutcome] = {}

    def attempt_of(command: ScanCommand) -> ScanCommandAttempt:
        return getattr(scan, command.value)

    # --- core: every protocol's cipher suites, and the certificate ---------------------------------------
    protocols: dict[str, bool] = {}
    suites: list[CipherSuite] = []
    ephemeral_keys: list[tuple[str, object]] = []
    for protocol, command in PROTOCOL_COMMANDS.items():
        attempt = attempt_of(command)
        if attempt.status != ScanCommandAttemptStatusEnum.COMPLETED:
            core_problems.append(f"the {protocol} cipher suite test failed: {attempt_reason(attempt)}")
            protocols[protocol] = False
            continue
        result = attempt.result
        timed_out = [r for r in result.rejected_cipher_suites if _TIMEOUT_MARKER in (r.error_message or "")]
        if timed_out:
            # A stalled handshake reads as "suite not accepted": never grade that as a cleaner server.
            core_problems.append(
                f"{len(timed_out)} {protocol} cipher suite handshakes timed out, so the server's {protocol} "
                "support cannot be told"
            )
        protocols[protocol] = bool(result.accepted_cipher_suites)
        for accepted in result.accepted_cipher_suites:
            suites.append(_cipher_suite(protocol, accepted))
            ephemeral_keys.append((accepted.cipher_suite.name, accepted.ephemeral_key))
    probes["protocols"] = (
        ProbeOutcome(PROBE_ERROR, "; ".join(core_problems)) if core_problems else ProbeOutcome(PROBE_OK)
    )

    cert_attempt = attempt_of(ScanCommand.CERTIFICATE_INFO)
    deployments: tuple[CertificateInfo, ...] = ()
    aia_problem = None
    if cert_attempt.status == ScanCommandAttemptStatusEnum.COMPLETED and cert_attempt.result.certificate_deployments:
        deployments, aia_problem = _deployments(host, cert_attempt.result, fetch_aia, check_revocation)
        probes["certificate"] = ProbeOutcome(PROBE_OK)
    else:
        reason = (
            attempt_reason(cert_attempt)
            if cert_attempt.status != ScanCommandAttemptStatusEnum.COMPLETED
            else "the server sent no certificate"
        )
        core_problems.append(f"the certificate could not be analysed: {reason}")
        probes["certificate"] = ProbeOutcome(PROBE_ERROR, reason)
    if aia_problem is not None:
        probes["chain_completion"] = ProbeOutcome(PROBE_ERROR, aia_problem)

    # --- optional probes ---------------------------------------------------------------------------------
    results = {}
    for name, command in OPTIONAL_PROBES.items():
        attempt = attempt_of(command)
        if attempt.status == ScanCommandAttemptStatusEnum.COMPLETED:
            results[name] = attempt.result
            probes[name] = ProbeOutcome(PROBE_OK)
        elif attempt.status == ScanCommandAttemptStatusEnum.NOT_SCHEDULED:
            results[name] = None
            probes[name] = ProbeOutcome(PROBE_NOT_TESTED, "this test was not scheduled")
        else:
            results[name] = None
            probes[name] = ProbeOutcome(PROBE_ERROR, attempt_reason(attempt))

    mozilla_issues: dict[str, str] | None
    try:
        check_server_against_tls_configuration(
            server_result, MozillaTlsConfiguration.get(TlsConfigurationEnum.MOZILLA_INTERMEDIATE)
        )
        mozilla_issues = {}
        probes["mozilla_intermediate"] = ProbeOutcome(PROBE_OK)
    except ServerNotCompliantWithTlsConfiguration as exc:
        mozilla_issues = {key: str(value) for key, value in exc.issues.items()}
        probes["mozilla_intermediate"] = ProbeOutcome(PROBE_OK)
    except ServerScanResultIncomplete:
        mozilla_issues = None
        probes["mozilla_intermediate"] = ProbeOutcome(
            PROBE_NOT_TESTED, "the check needs every TLS test to have completed, and at least one did not"
        )

    curves_result = results["elliptic_curves"]
    curves = (
        tuple(curve.name for curve in curves_result.supported_curves)
        if curves_result and curves_result.supported_curves
        else ()
    )
    ems_result = results["extended_master_secret"]
    tls_probing = getattr(server_result.connectivity_result, "client_auth_requirement", None)
    return TlsResult(
        protocols=protocols,
        cipher_suites=tuple(suites),
        certificate=deployments[0] if deployments else None,
        vulnerabilities=_vulnerabilities(results),
        curves=curves,
        extended_master_secret=ems_result.supports_ems_extension if ems_result else None,
        session_resumption=session_resumption(results["session_resumption"]),
        mozilla_intermediate_issues=mozilla_issues,
        incomplete_reason="; ".join(core_problems) or None,
        certificate_deployments=deployments,
        key_exchange_groups=keyexchange.groups_from_suites(ephemeral_keys, curves),
        client_certificate_requested=tls_probing not in (None, ClientAuthRequirementEnum.DISABLED),
        probes=probes,
    )


def _cipher_suite(protocol: str, accepted: CipherSuiteAcceptedByServer) -> CipherSuite:
    suite = accepted.cipher_suite
    ephemeral = accepted.ephemeral_key
    name = suite.name
    # TLS 1.3 suites always use an ephemeral key exchange.
    forward_secrecy = protocol == "TLSv1.3" or "_DHE_" in name or "_ECDHE_" in name
    aead = protocol == "TLSv1.3" or any(mode in name for mode in ("_GCM_", "CHACHA20", "_CCM"))
    return CipherSuite(
        name=name,
        protocol=protocol,
        key_bits=suite.key_size,
        forward_secrecy=forward_secrecy,
        aead=aead,
        kex_bits=ephemeral.size if ephemeral else None,
        kex_type=getattr(ephemeral, "type_name", None) if ephemeral else None,
    )


def _vulnerabilities(results: dict) -> Vulnerabilities:
    heartbleed = results["heartbleed"]
    robot = results["robot"]
    ccs = results["ccs_injection"]
    reneg = results["renegotiation"]
    compression = results["compression"]
    fallback = results["fallback_scsv"]
    robot_name = robot.robot_result.name if robot else None
    return Vulnerabilities(
        heartbleed=heartbleed.is_vulnerable_to_heartbleed if heartbleed else None,
        robot=robot_name.startswith("VULNERABLE") if robot_name else None,
        robot_detail=_ROBOT_WORDS.get(robot_name, "see the ROBOT test result") if robot_name else None,
        ccs_injection=ccs.is_vulnerable_to_ccs_injection if ccs else None,
        insecure_renegotiation=(not reneg.supports_secure_renegotiation) if reneg else None,
        client_renegotiation_dos=reneg.is_vulnerable_to_client_renegotiation_dos if reneg else None,
        compression=compression.supports_compression if compression else None,
        fallback_scsv=fallback.supports_fallback_scsv if fallback else None,
    )


# sslyze's RobotScanResultEnum values, in words (the enum names never reach a report).
_ROBOT_WORDS = {
    "VULNERABLE_WEAK_ORACLE": "a weak oracle: exploitable, but it needs many connections",
    "VULNERABLE_STRONG_ORACLE": "a strong oracle: quickly exploitable",
    "NOT_VULNERABLE_NO_ORACLE": "no oracle found",
    "NOT_VULNERABLE_RSA_NOT_SUPPORTED": "the server accepts no RSA key exchange",
    "UNKNOWN_INCONSISTENT_RESULTS": "the server's answers were inconsistent, so the result is unknown",
}
