"""TLS probing: a quick pre-flight handshake, then one sslyze scan of the pinned address."""

from __future__ import annotations

import logging
import socket
import ssl
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
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

from . import certificates
from .adaptive import run_adaptive_scan
from .results import CipherSuite, ScanSettings, TlsResult, Vulnerabilities
from .simulation import with_simulation
from .sslyze_runner import ScanDeadlineExceeded, ScanRunnerFailed, run_scan

logger = logging.getLogger(__name__)


class TlsUnreachable(Exception):
    """The host does not speak TLS on that port (refused, silent, or not TLS at all)."""


PROTOCOL_COMMANDS = {
    "SSLv2": ScanCommand.SSL_2_0_CIPHER_SUITES,
    "SSLv3": ScanCommand.SSL_3_0_CIPHER_SUITES,
    "TLSv1.0": ScanCommand.TLS_1_0_CIPHER_SUITES,
    "TLSv1.1": ScanCommand.TLS_1_1_CIPHER_SUITES,
    "TLSv1.2": ScanCommand.TLS_1_2_CIPHER_SUITES,
    "TLSv1.3": ScanCommand.TLS_1_3_CIPHER_SUITES,
}
SCAN_COMMANDS = set(PROTOCOL_COMMANDS.values()) | {
    ScanCommand.CERTIFICATE_INFO,
    ScanCommand.HEARTBLEED,
    ScanCommand.ROBOT,
    ScanCommand.OPENSSL_CCS_INJECTION,
    ScanCommand.SESSION_RENEGOTIATION,
    ScanCommand.TLS_COMPRESSION,
    ScanCommand.TLS_FALLBACK_SCSV,
    ScanCommand.ELLIPTIC_CURVES,
    ScanCommand.TLS_EXTENDED_MASTER_SECRET,
}
# sslyze reports a stalled handshake as a *rejected* suite with this text; a
# silent false "not supported" must make the scan incomplete instead.
_TIMEOUT_MARKER = "timed out"


def preflight(host: str, ip: str, port: int, timeout: float) -> None:
    """Fail fast and clearly: sslyze needs ~11 x its timeout to give up on a silent host."""
    try:
        sock = socket.create_connection((ip, port), timeout=timeout)
    except ConnectionRefusedError:
        raise TlsUnreachable(f"connection refused on {ip}:{port}: nothing listens for HTTPS") from None
    except TimeoutError:
        raise TlsUnreachable(f"no TCP answer from {ip}:{port} within {timeout:g} s") from None
    except OSError as exc:
        raise TlsUnreachable(f"cannot connect to {ip}:{port}: {exc.strerror or exc}") from None

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    try:
        with context.wrap_socket(sock, server_hostname=host):
            pass
    except TimeoutError:
        raise TlsUnreachable(f"{ip}:{port} accepted the connection but sent no TLS answer within {timeout:g} s") from None
    except ssl.SSLError as exc:
        # An old-protocol-only server can still fail here; sslyze knows more protocols, so let it try.
        if "wrong version number" in str(exc) or "record layer failure" in str(exc):
            raise TlsUnreachable(f"{ip}:{port} does not speak TLS (is it plain HTTP?)") from None
    except OSError as exc:
        raise TlsUnreachable(f"TLS handshake with {ip}:{port} failed: {exc.strerror or exc}") from None
    finally:
        sock.close()


def probe_tls(host: str, ip: str, port: int, settings: ScanSettings, ca_file: str | None) -> TlsResult:
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
            certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(ca_file)) if ca_file else None
        ),
    )
    try:
        server_result = (
            run_adaptive_scan(request, per_server_connections=settings.per_target_connections,
                              connection_budget=settings.connection_budget)
            if settings.cipher_enumeration == "adaptive"
            else run_scan(request, per_server_connections=settings.per_target_connections,
                          deadline=settings.tls_deadline)
        )
    except (ScanDeadlineExceeded, ScanRunnerFailed) as exc:
        raise TlsUnreachable(f"TLS scan stopped: {exc}") from None
    if server_result.scan_status != ServerScanStatusEnum.COMPLETED:
        trace = server_result.connectivity_error_trace
        raise TlsUnreachable(f"TLS connectivity test failed: {getattr(trace, 'exc_value', trace) or 'unknown error'}")
    # What real clients get (issue 9 item 5); never fails the scan, see the `simulation` probe.
    return with_simulation(_tls_result(host, server_result), host=host, ip=ip, port=port, timeout=settings.network_timeout)


def _tls_result(host: str, server_result) -> TlsResult:
    scan = server_result.scan_result
    problems: list[str] = []

    def result_of(attribute: str):
        attempt = getattr(scan, attribute)
        if attempt.status != ScanCommandAttemptStatusEnum.COMPLETED:
            reason = getattr(attempt.error_reason, "name", attempt.error_reason)
            problems.append(f"{attribute}: {reason}")
            return None
        return attempt.result

    protocols: dict[str, bool] = {}
    suites: list[CipherSuite] = []
    for protocol, command in PROTOCOL_COMMANDS.items():
        result = result_of(command.value)
        if result is None:
            protocols[protocol] = False
            continue
        timed_out = [r for r in result.rejected_cipher_suites if _TIMEOUT_MARKER in (r.error_message or "")]
        if timed_out:
            problems.append(f"{protocol}: {len(timed_out)} cipher suite probes timed out")
        protocols[protocol] = bool(result.accepted_cipher_suites)
        suites.extend(_cipher_suite(protocol, accepted) for accepted in result.accepted_cipher_suites)

    certificate = _certificate(host, result_of(ScanCommand.CERTIFICATE_INFO.value))
    vulnerabilities = _vulnerabilities(result_of)
    curves_result = result_of(ScanCommand.ELLIPTIC_CURVES.value)
    ems_result = result_of(ScanCommand.TLS_EXTENDED_MASTER_SECRET.value)

    mozilla_issues: dict[str, str] | None
    try:
        check_server_against_tls_configuration(
            server_result, MozillaTlsConfiguration.get(TlsConfigurationEnum.MOZILLA_INTERMEDIATE)
        )
        mozilla_issues = {}
    except ServerNotCompliantWithTlsConfiguration as exc:
        mozilla_issues = {key: str(value) for key, value in exc.issues.items()}
    except ServerScanResultIncomplete:
        mozilla_issues = None

    return TlsResult(
        protocols=protocols,
        cipher_suites=tuple(suites),
        certificate=certificate,
        vulnerabilities=vulnerabilities,
        curves=tuple(curve.name for curve in curves_result.supported_curves) if curves_result and curves_result.supported_curves else (),
        extended_master_secret=ems_result.supports_ems_extension if ems_result else None,
        mozilla_intermediate_issues=mozilla_issues,
        incomplete_reason="; ".join(problems) or None,
    )


def _cipher_suite(protocol: str, accepted) -> CipherSuite:
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


def _vulnerabilities(result_of) -> Vulnerabilities:
    heartbleed = result_of(ScanCommand.HEARTBLEED.value)
    robot = result_of(ScanCommand.ROBOT.value)
    ccs = result_of(ScanCommand.OPENSSL_CCS_INJECTION.value)
    reneg = result_of(ScanCommand.SESSION_RENEGOTIATION.value)
    compression = result_of(ScanCommand.TLS_COMPRESSION.value)
    fallback = result_of(ScanCommand.TLS_FALLBACK_SCSV.value)
    robot_name = robot.robot_result.name if robot else None
    return Vulnerabilities(
        heartbleed=heartbleed.is_vulnerable_to_heartbleed if heartbleed else None,
        robot=robot_name.startswith("VULNERABLE") if robot_name else None,
        robot_detail=robot_name,
        ccs_injection=ccs.is_vulnerable_to_ccs_injection if ccs else None,
        insecure_renegotiation=(not reneg.supports_secure_renegotiation) if reneg else None,
        client_renegotiation_dos=reneg.is_vulnerable_to_client_renegotiation_dos if reneg else None,
        compression=compression.supports_compression if compression else None,
        fallback_scsv=fallback.supports_fallback_scsv if fallback else None,
    )


def _pem_chain(chain: list[x509.Certificate]) -> list[str]:
    return [cert.public_bytes(serialization.Encoding.PEM).decode("ascii") for cert in chain]


def _certificate(host: str, result):
    if result is None or not result.certificate_deployments:
        return None
    deployment = result.certificate_deployments[0]
    received = list(deployment.received_certificate_chain)
    verified = deployment.verified_certificate_chain
    validation_errors = [
        f"{r.trust_store.name}: {r.validation_error}"
        for r in deployment.path_validation_results
        if not r.was_validation_successful
    ]
    trusted = verified is not None
    if not trusted:
        verified, trusted = _revalidate_ignoring_name_and_time(received, deployment.path_validation_results)
    return certificates.certificate_info(
        hostname=host,
        received=received,
        verified=list(verified) if verified else None,
        trusted_ignoring_name=trusted,
        validation_error=None if deployment.verified_certificate_chain else _best_error(validation_errors),
        sha1_in_chain=bool(deployment.verified_chain_has_sha1_signature),
        ocsp_stapled=deployment.ocsp_response is not None,
        now=datetime.now(UTC),
    )


def _best_error(errors: list[str]) -> str | None:
    # The custom CA store is the one that matters in the lab; otherwise Mozilla's.
    for preferred in ("Supplied CA file", "Mozilla"):
        for error in errors:
            if error.startswith(preferred):
                return error
    return errors[0] if errors else None


def _revalidate_ignoring_name_and_time(received, path_results):
    """Is the chain trusted apart from the name and dates? Those get their own findings (M, expiry)."""
    leaf = received[0]
    subject = certificates.dns_subject_for_revalidation(leaf)
    if subject is None:
        return None, False
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    moment = start + (end - start) / 2
    pems = _pem_chain(received)
    for path_result in path_results:
        try:
            retry = path_result.trust_store.verify_certificate_chain(pems, subject, moment)
        except Exception:  # an unparsable chain is simply untrusted
            logger.debug("re-validation against %s failed", path_result.trust_store.name, exc_info=True)
            continue
        if retry.was_validation_successful:
            return retry.verified_certificate_chain, True
    return None, False
