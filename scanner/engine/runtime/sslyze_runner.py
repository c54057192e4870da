"""Run one TLS scan to its end in a forked child process, leaving no thread, socket or result behind.

sslyze's threads cannot be interrupted: a Scanner that is abandoned (deadline, Celery soft time limit, an
error while reading its results) keeps connecting to the target until every command has run, and holds its
results in memory meanwhile. So each scan runs in a forked child process: `run_scan` for sslyze's own
Scanner, `run_in_child` for any function (the adaptive engine's whole TLS scan, `tls_scan.py`). The caller
waits for the pickled result with its deadline, and on every other path (deadline, exception raised in the
calling thread such as SoftTimeLimitExceeded, child crash) the child is killed and reaped. The kernel then
closes every socket and frees every page the scan used; nothing the scan started survives the call.

Why a process and not a thread: see docs/reliability.md (a killed worker, a stalled server, a memory bound).
"""

from __future__ import annotations

import contextlib
import copyreg
import functools
import gc
import io
import logging
import os
import pickle
import select
import signal
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from sslyze import Scanner, ServerScanRequest, ServerScanResult
from sslyze.plugins.certificate_info.trust_stores.trust_store import TrustStore

from scanner.engine.runtime.sslyze_compat import TrustStoreReadOnDemand
from scanner.engine.vulnerabilities import robot_payload
from scanner.parent_death import die_with_parent

logger = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["DEFAULT_DEADLINE", "ScanDeadlineExceeded", "ScanRunnerFailed", "run_in_child", "run_scan"]

# Used when a caller passes no deadline: ScanSettings.tls_deadline's default.
DEFAULT_DEADLINE = 150.0
# How long a child that already sent its result may take to exit before it is killed.
_EXIT_GRACE_S = 2.0


class ScanDeadlineExceeded(TimeoutError):
    """The sslyze run did not finish within its deadline; it was stopped and nothing of it remains."""

    def __init__(self, deadline: float) -> None:
        super().__init__(f"the TLS scan did not finish within its {deadline:g} s deadline and was stopped")
        self.deadline = deadline


class ScanRunnerFailed(RuntimeError):
    """The process running sslyze crashed or died without a result (e.g. killed for memory)."""


def run_scan(
    request: ServerScanRequest, *, per_server_connections: int = 5, deadline: float | None = None
) -> ServerScanResult:
    """Run `request` with sslyze's own Scanner to its end in a child process and return sslyze's result.

    Raises ScanDeadlineExceeded after `deadline` seconds (DEFAULT_DEADLINE when None) and ScanRunnerFailed
    when the child dies without a result. Anything raised in the calling thread while waiting (Celery's
    SoftTimeLimitExceeded) propagates unchanged, after the child has been killed.
    """
    return run_in_child(_scan, request, per_server_connections, deadline=deadline)


def run_in_child(
    function: Callable[..., T],
    *args: object,
    deadline: float | None = None,
    while_running: Callable[[], None] | None = None,
) -> T:
    """`function(*args)` in a forked child process; its return value comes back pickled.

    Same guarantees as run_scan: the child never outlives the call. `while_running` is called in this process
    once the child exists, so work started there (threads) never overlaps a fork.
    """
    limit = DEFAULT_DEADLINE if deadline is None else deadline
    # A bare fork, not multiprocessing: Celery's pool children are "daemonic" and multiprocessing refuses
    # to start children there. The child starts in milliseconds with sslyze already imported.
    read_fd, write_fd = os.pipe()
    parent_pid = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns into the caller's code
        code = 1
        try:
            # Short-lived: what it allocates is freed when it exits, and a collection here would touch (and so
            # copy) the parent's pages it inherited.
            gc.disable()
            os.close(read_fd)
            _child_main(function, args, write_fd, parent_pid)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)  # the child's copy is now the only writer: EOF on our side means it is done or dead
    payload: bytes | None = None
    try:
        if while_running is not None:
            while_running()
        payload = _receive(read_fd, limit)
    finally:
        os.close(read_fd)
        # With its result sent the child is exiting on its own; on any other path it is killed right away.
        exit_status = _stop(pid, grace=_EXIT_GRACE_S if payload else 0)
    if not payload:
        raise ScanRunnerFailed(f"the sslyze process ended without a result ({exit_status})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # re-reading the bundled trust stores warns like the scan did
        kind, value = pickle.loads(payload)
    if kind == "error":
        logger.error("sslyze failed in its child process:\n%s", value)
        raise ScanRunnerFailed(f"sslyze failed: {value.strip().splitlines()[-1]}")
    return value


def _receive(read_fd: int, limit: float) -> bytes:
    """Everything the child writes until it closes the pipe, or ScanDeadlineExceeded after `limit` s."""
    ends_at = time.monotonic() + limit
    chunks: list[bytes] = []
    while True:
        remaining = ends_at - time.monotonic()
        if remaining <= 0:
            raise ScanDeadlineExceeded(limit)
        # Short waits keep the loop responsive; a signal handler raising (the soft limit) interrupts it at once.
        readable, _, _ = select.select([read_fd], [], [], min(remaining, 1.0))
        if not readable:
            continue
        chunk = os.read(read_fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _stop(pid: int, *, grace: float) -> str:
    """Reap the child, killing it first if it is still running. Never leaves a zombie or a scanning process."""
    ends_at = time.monotonic() + grace
    with _exit_notice(pid) as exited:
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # reaped by someone else's SIGCHLD handler
                return "exit status unknown"
            if done:
                return _describe(status)
            remaining = ends_at - time.monotonic()
            if remaining <= 0:
                break
            # A child that has sent its result is exiting: woken the moment it has, not at the next poll.
            if exited is not None:
                select.select([exited], [], [], remaining)
            else:
                time.sleep(min(0.01, remaining))
    try:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        return "exit status unknown"
    return _describe(status)


@contextlib.contextmanager
def _exit_notice(pid: int) -> Iterator[int | None]:
    """A descriptor that becomes readable when `pid` exits (Linux's pidfd), or None where there is none.

    Polling instead slept up to 10 ms after the child had already exited, on the way to every scan's result."""
    try:
        descriptor = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux 5.3+, or the child is already reaped
        yield None
        return
    try:
        yield descriptor
    finally:
        os.close(descriptor)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


# --- In the child ------------------------------------------------------------------------------------


def _child_main(function: Callable, args: tuple, write_fd: int, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    try:
        outcome = ("result", function(*args))
    except Exception:  # noqa: BLE001 - reported to the parent as text; the child exits right after
        outcome = ("error", traceback.format_exc(limit=8))
    try:
        payload = _dumps(outcome)
    except Exception:  # noqa: BLE001 - a result that cannot travel is reported, not lost in a crash
        payload = _dumps(("error", traceback.format_exc(limit=8)))
    with os.fdopen(write_fd, "wb") as pipe:
        pipe.write(payload)


def _die_with_parent(parent_pid: int) -> None:
    # The Celery worker child may be SIGKILLed (hard time limit, OOM, kill -9) while we scan: the kernel then
    # kills us too instead of leaving an orphan that keeps probing the target.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    die_with_parent()  # not Linux: the parent's finally still kills us on every normal path
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _scan(request: ServerScanRequest, per_server_connections: int) -> ServerScanResult:
    robot_payload.install()  # sslyze's ROBOT test with our reading of the server's first flight
    # One Scanner per target: a slow host in a shared batch delays every result.
    scanner = Scanner(per_server_concurrent_connections_limit=per_server_connections)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a bundled trust-store PEM triggers a harmless deprecation warning
        scanner.queue_scans([request])
        # Read the generator to its end so sslyze's producer thread finishes too.
        (result,) = list(scanner.get_results())
    return result


# cryptography's objects are Rust types that do not pickle: they travel in their standard encodings.


def _certificate_from_der(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def _ocsp_response_from_der(der: bytes) -> ocsp.OCSPResponse:
    return ocsp.load_der_ocsp_response(der)


def _oid_from_dotted(dotted: str) -> x509.ObjectIdentifier:
    return x509.ObjectIdentifier(dotted)


@functools.lru_cache(maxsize=32)
def _trust_store(path: str, name: str, version: str, ev_oids: tuple[str, ...] | None) -> TrustStore:
    # Each result names the same few stores (Mozilla, Apple, ..., the custom CA): one object per store and
    # process rather than one per scan, whose file is parsed only if a chain is verified against it again.
    return TrustStoreReadOnDemand(
        Path(path), name, version, [x509.ObjectIdentifier(oid) for oid in ev_oids] if ev_oids else None
    )


def _reduce_trust_store(
    store: TrustStore,
) -> tuple[Callable[..., TrustStore], tuple[str, str, str, tuple[str, ...] | None]]:
    ev_oids = tuple(oid.dotted_string for oid in store.ev_oids) if store.ev_oids else None
    return _trust_store, (str(store.path), store.name, store.version, ev_oids)


_REDUCERS = {
    x509.Certificate: lambda cert: (_certificate_from_der, (cert.public_bytes(Encoding.DER),)),
    ocsp.OCSPResponse: lambda resp: (_ocsp_response_from_der, (resp.public_bytes(Encoding.DER),)),
    x509.ObjectIdentifier: lambda oid: (_oid_from_dotted, (oid.dotted_string,)),
    TrustStore: _reduce_trust_store,
}


def _dumps(outcome: tuple) -> bytes:
    table = copyreg.dispatch_table.copy()
    table.update(_REDUCERS)
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = table
    pickler.dump(outcome)
    return buffer.getvalue()
