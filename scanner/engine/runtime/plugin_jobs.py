"""sslyze's scan commands as jobs on a pool we own, so they share the per-target connection limit with the
adaptive enumeration instead of running before it.

sslyze's Scanner runs its own connectivity test and its own thread pool per scan; a scan that also enumerates
suites adaptively would then make the server wait for one before the other starts. Here each command's plugin
still decides what to test (`scan_jobs_for_scan_command`) and what the answers mean
(`result_for_completed_scan_jobs`); only the scheduling is ours. Errors are sorted into the same
`ScanCommandErrorReasonEnum` values the Scanner uses, so everything reading a `ServerScanResult` sees no
difference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, fields
from traceback import TracebackException

from sslyze import (
    ScanCommand,
    ScanCommandAttemptStatusEnum,
    ScanCommandErrorReasonEnum,
    ServerScanRequest,
    ServerScanResult,
    ServerScanStatusEnum,
)
from sslyze.errors import (
    ConnectionToServerFailed,
)
from sslyze.plugins.plugin_base import ScanCommandWrongUsageError, ScanJob, ScanJobResult
from sslyze.plugins.scan_commands import ScanCommandsRepository
from sslyze.scanner.models import (
    AllScanCommandsAttempts,
    ScanCommandAttempt,
    ServerConnectivityStatusEnum,
    get_scan_command_attempt_cls,
)
from sslyze.server_connectivity import ServerConnectivityInfo

from scanner.engine.runtime.error_reasons import command_error_reason
from scanner.engine.runtime.resets import retried
from scanner.engine.runtime.short_handshake import FirstFlightConnectivity
from scanner.engine.runtime.sslyze_compat import (
    certificate_chain_job,
    extended_master_secret_job,
    fallback_scsv_job,
    secure_renegotiation_job,
)
from scanner.engine.vulnerabilities.extended_master_secret import extended_master_secret
from scanner.engine.vulnerabilities.renegotiation import SharedLegacyHandshake

# Jobs whose answer is whole once the server's first flight has arrived (TLS 1.2 and older; TLS 1.3 keeps its
# one-round-trip handshake): the certificate chain and its OCSP staple are in its Certificate and
# CertificateStatus messages, and a downgraded ClientHello carrying TLS_FALLBACK_SCSV is either refused with an
# alert or answered with a ServerHello. Their handshakes end there (runtime/short_handshake.py), a round trip and
# the client's key exchange sooner. sslyze's Extended Master Secret job asks nassl, which only knows once the
# handshake has finished: ours reads the ServerHello instead (vulnerabilities/extended_master_secret.py).
FIRST_FLIGHT_JOBS = (certificate_chain_job, fallback_scsv_job)


@dataclass
class QueuedCommand:
    """One command's jobs on the pool, or the error that kept them from being queued."""

    command: ScanCommand
    futures: list[Future]
    queuing_error: object | None = None  # a finished ScanCommandAttempt when the plugin refused to make jobs
    # For a command answered by another command's handshake: its job results, once `futures` have ended.
    results_from: Callable[[], list[ScanJobResult]] | None = None


def _run_job(function: Callable[..., object], arguments: Iterable[object]) -> ScanJobResult:
    try:
        # A job whose connection was reset is made again before its answer is believed (resets.retried).
        return ScanJobResult(_return_value=retried(lambda: function(*arguments)), _exception=None)
    except Exception as exc:  # noqa: BLE001 - handed to the plugin, which decides what it means
        return ScanJobResult(_return_value=None, _exception=exc)


def queue_commands(
    pool: Executor, info: ServerConnectivityInfo, request: ServerScanRequest, commands: Iterable[ScanCommand]
) -> list[QueuedCommand]:
    queued = []
    commands = list(commands)
    shared = None
    if ScanCommand.SESSION_RENEGOTIATION in commands and ScanCommand.TLS_COMPRESSION in commands:
        shared = SharedLegacyHandshake()
        commands.remove(ScanCommand.TLS_COMPRESSION)
    for command in commands:
        implementation = ScanCommandsRepository.get_implementation_cls(command)
        extra = getattr(request.scan_commands_extra_arguments, command.value, None)
        try:
            jobs = implementation.scan_jobs_for_scan_command(server_info=info, extra_arguments=extra)
        except ScanCommandWrongUsageError as exc:
            queued.append(QueuedCommand(command, [], _errored(command, ScanCommandErrorReasonEnum.WRONG_USAGE, exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - the command fails, the scan goes on
            queued.append(QueuedCommand(command, [], _errored(command, ScanCommandErrorReasonEnum.BUG_IN_SSLYZE, exc)))
            continue
        if shared is not None and command == ScanCommand.SESSION_RENEGOTIATION:
            jobs = [
                ScanJob(shared.secure_renegotiation, job.function_arguments)
                if job.function_to_call is secure_renegotiation_job
                else job
                for job in jobs
            ]
        jobs = [_ending_at_the_first_flight(job, info) for job in jobs]
        futures = [pool.submit(_run_job, job.function_to_call, job.function_arguments) for job in jobs]
        queued.append(QueuedCommand(command, futures))
        if shared is not None and command == ScanCommand.SESSION_RENEGOTIATION:
            queued.append(QueuedCommand(ScanCommand.TLS_COMPRESSION, futures, results_from=shared.compression_results))
    return queued


def _ending_at_the_first_flight(job: ScanJob, info: ServerConnectivityInfo) -> ScanJob:
    if job.function_to_call is extended_master_secret_job:
        return ScanJob(extended_master_secret, job.function_arguments)
    arguments = list(job.function_arguments)
    if job.function_to_call not in FIRST_FLIGHT_JOBS or not arguments or arguments[0] is not info:
        return job
    return ScanJob(job.function_to_call, [FirstFlightConnectivity.of(info), *arguments[1:]])


def collect_commands(info: ServerConnectivityInfo, queued: list[QueuedCommand]) -> dict[str, object]:
    """Every queued command's ScanCommandAttempt, by command name, once its jobs have ended."""
    attempts: dict[str, object] = {}
    for item in queued:
        if item.queuing_error is not None:
            attempts[item.command.value] = item.queuing_error
            continue
        results = [future.result() for future in item.futures]
        if item.results_from is not None:
            results = item.results_from()
        implementation = ScanCommandsRepository.get_implementation_cls(item.command)
        try:
            result = implementation.result_for_completed_scan_jobs(server_info=info, scan_job_results=results)
        except Exception as exc:  # noqa: BLE001 - sorted as sslyze sorts it; the scan goes on
            attempts[item.command.value] = _errored(item.command, command_error_reason(exc), exc)
        else:
            attempts[item.command.value] = get_scan_command_attempt_cls(item.command)(
                status=ScanCommandAttemptStatusEnum.COMPLETED, error_reason=None, error_trace=None, result=result
            )
    return attempts


def _errored(command: ScanCommand, reason: ScanCommandErrorReasonEnum, exc: Exception) -> ScanCommandAttempt:
    return get_scan_command_attempt_cls(command)(
        status=ScanCommandAttemptStatusEnum.ERROR,
        error_reason=reason,
        error_trace=TracebackException.from_exception(exc),
        result=None,
    )


def completed_scan(
    request: ServerScanRequest, info: ServerConnectivityInfo, attempts: dict[str, object]
) -> ServerScanResult:
    """The ServerScanResult sslyze's Scanner would build; commands nobody ran are NOT_SCHEDULED."""
    every = {}
    for field in fields(AllScanCommandsAttempts):
        every[field.name] = attempts.get(field.name) or get_scan_command_attempt_cls(ScanCommand(field.name))(
            status=ScanCommandAttemptStatusEnum.NOT_SCHEDULED, error_reason=None, error_trace=None, result=None
        )
    return ServerScanResult(
        uuid=request.uuid,
        server_location=request.server_location,
        network_configuration=request.network_configuration,
        connectivity_status=ServerConnectivityStatusEnum.COMPLETED,
        connectivity_error_trace=None,
        connectivity_result=info.tls_probing_result,
        scan_status=ServerScanStatusEnum.COMPLETED,
        scan_result=AllScanCommandsAttempts(**every),
    )


def unreachable_scan(request: ServerScanRequest, error: ConnectionToServerFailed) -> ServerScanResult:
    return ServerScanResult(
        uuid=request.uuid,
        server_location=request.server_location,
        network_configuration=request.network_configuration,
        connectivity_status=ServerConnectivityStatusEnum.ERROR,
        connectivity_error_trace=TracebackException.from_exception(error),
        connectivity_result=None,
        scan_status=ServerScanStatusEnum.ERROR_NO_CONNECTIVITY,
        scan_result=None,
    )
