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

from collections.abc import Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, fields
from traceback import TracebackException

from nassl.ssl_client import ClientCertificateRequested
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
    ConnectionToServerTimedOut,
    ServerRejectedTlsHandshake,
    TlsHandshakeTimedOut,
)
from sslyze.plugins.plugin_base import ScanCommandWrongUsageError, ScanJobResult
from sslyze.plugins.scan_commands import ScanCommandsRepository
from sslyze.scanner.models import AllScanCommandsAttempts, ServerConnectivityStatusEnum, get_scan_command_attempt_cls
from sslyze.server_connectivity import ServerConnectivityInfo


@dataclass
class QueuedCommand:
    """One command's jobs on the pool, or the error that kept them from being queued."""

    command: ScanCommand
    futures: list[Future]
    queuing_error: object | None = None  # a finished ScanCommandAttempt when the plugin refused to make jobs


def _run_job(function, arguments) -> ScanJobResult:
    try:
        return ScanJobResult(_return_value=function(*arguments), _exception=None)
    except Exception as exc:  # noqa: BLE001 - handed to the plugin, which decides what it means
        return ScanJobResult(_return_value=None, _exception=exc)


def queue_commands(
    pool: Executor, info: ServerConnectivityInfo, request: ServerScanRequest, commands: Iterable[ScanCommand]
) -> list[QueuedCommand]:
    queued = []
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
        futures = [pool.submit(_run_job, job.function_to_call, job.function_arguments) for job in jobs]
        queued.append(QueuedCommand(command, futures))
    return queued


def collect_commands(info: ServerConnectivityInfo, queued: list[QueuedCommand]) -> dict[str, object]:
    """Every queued command's ScanCommandAttempt, by command name, once its jobs have ended."""
    attempts: dict[str, object] = {}
    for item in queued:
        if item.queuing_error is not None:
            attempts[item.command.value] = item.queuing_error
            continue
        results = [future.result() for future in item.futures]
        implementation = ScanCommandsRepository.get_implementation_cls(item.command)
        try:
            result = implementation.result_for_completed_scan_jobs(server_info=info, scan_job_results=results)
        except ClientCertificateRequested as exc:
            attempts[item.command.value] = _errored(item.command, ScanCommandErrorReasonEnum.CLIENT_CERTIFICATE_NEEDED, exc)
        except (ConnectionToServerTimedOut, TlsHandshakeTimedOut, ServerRejectedTlsHandshake) as exc:
            attempts[item.command.value] = _errored(item.command, ScanCommandErrorReasonEnum.CONNECTIVITY_ISSUE, exc)
        except Exception as exc:  # noqa: BLE001 - as sslyze sorts it: its own bug, the scan goes on
            attempts[item.command.value] = _errored(item.command, ScanCommandErrorReasonEnum.BUG_IN_SSLYZE, exc)
        else:
            attempts[item.command.value] = get_scan_command_attempt_cls(item.command)(
                status=ScanCommandAttemptStatusEnum.COMPLETED, error_reason=None, error_trace=None, result=result
            )
    return attempts


def _errored(command: ScanCommand, reason: ScanCommandErrorReasonEnum, exc: Exception):
    return get_scan_command_attempt_cls(command)(
        status=ScanCommandAttemptStatusEnum.ERROR, error_reason=reason,
        error_trace=TracebackException.from_exception(exc), result=None,
    )


def completed_scan(request: ServerScanRequest, info: ServerConnectivityInfo, attempts: dict[str, object]) -> ServerScanResult:
    """The ServerScanResult sslyze's Scanner would build; commands nobody ran are NOT_SCHEDULED."""
    every = {}
    for field in fields(AllScanCommandsAttempts):
        every[field.name] = attempts.get(field.name) or get_scan_command_attempt_cls(ScanCommand(field.name))(
            status=ScanCommandAttemptStatusEnum.NOT_SCHEDULED, error_reason=None, error_trace=None, result=None
        )
    return ServerScanResult(
        uuid=request.uuid, server_location=request.server_location, network_configuration=request.network_configuration,
        connectivity_status=ServerConnectivityStatusEnum.COMPLETED, connectivity_error_trace=None,
        connectivity_result=info.tls_probing_result, scan_status=ServerScanStatusEnum.COMPLETED,
        scan_result=AllScanCommandsAttempts(**every),
    )


def unreachable_scan(request: ServerScanRequest, error: ConnectionToServerFailed) -> ServerScanResult:
    return ServerScanResult(
        uuid=request.uuid, server_location=request.server_location, network_configuration=request.network_configuration,
        connectivity_status=ServerConnectivityStatusEnum.ERROR,
        connectivity_error_trace=TracebackException.from_exception(error), connectivity_result=None,
        scan_status=ServerScanStatusEnum.ERROR_NO_CONNECTIVITY, scan_result=None,
    )
