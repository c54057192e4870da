"""The one place sslyze runs: it stops on every path and leaves no thread, process or connection behind."""

from __future__ import annotations

import os
import select
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from sslyze import (
    CertificateInfoExtraArgument,
    ScanCommandsExtraArguments,
    ServerNetworkConfiguration,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)

from scanner.engine.runtime.sslyze_runner import ScanDeadlineExceeded, run_scan
from scanner.engine.tls import SCAN_COMMANDS


def request_for(lab, name: str, *, timeout: int = 2) -> ServerScanRequest:
    case = lab.case(name)
    return ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=case.hostname, port=case.https_port, ip_address=case.ip),
        network_configuration=ServerNetworkConfiguration(
            tls_server_name_indication=case.hostname, network_timeout=timeout, network_max_retries=1
        ),
        scan_commands=SCAN_COMMANDS,
        scan_commands_extra_arguments=ScanCommandsExtraArguments(
            certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(lab.ca_file))
        ),
    )


def children() -> set[int]:
    path = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    return {int(pid) for pid in path.read_text().split()}


@pytest.fixture
def no_new_children():
    """Other fixtures of the session (a private redis-server, a browser) are children too: compare."""
    before = children()
    yield
    assert children() - before == set()


def connections_to(ip: str, port: int) -> int:
    """Open TCP connections from this machine to ip:port, read from /proc/net/tcp (any process)."""
    wanted = f"{socket.inet_aton(ip)[::-1].hex().upper()}:{port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    # Column 2 is the remote address; state 01 is ESTABLISHED, 02 SYN_SENT.
    return sum(1 for line in lines if line.split()[2] == wanted and line.split()[3] in {"01", "02"})


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_scan_runs_to_its_end_and_returns_sslyzes_result(lab, no_new_children):
    result = run_scan(request_for(lab, "legacy"))

    assert result.scan_status == ServerScanStatusEnum.COMPLETED
    tls10 = result.scan_result.tls_1_0_cipher_suites.result
    assert tls10.accepted_cipher_suites  # the legacy server's TLS 1.0 suites made it through the process boundary
    deployment = result.scan_result.certificate_info.result.certificate_deployments[0]
    assert deployment.received_certificate_chain[0].subject  # certificates arrive as real x509 objects


def test_a_scan_past_its_deadline_is_stopped_and_nothing_keeps_probing_the_server(lab, no_new_children):
    tarpit = lab.case("tarpit")
    started = time.monotonic()

    with pytest.raises(ScanDeadlineExceeded, match="2 s deadline"):
        run_scan(request_for(lab, "tarpit", timeout=5), deadline=2)

    assert time.monotonic() - started < 3
    time.sleep(0.2)
    assert connections_to(tarpit.ip, tarpit.https_port) == 0


def test_a_soft_time_limit_raised_while_waiting_stops_the_scan_at_once(lab, no_new_children):
    # Celery's prefork pool delivers the soft limit as a signal whose handler raises in the task's thread.
    tarpit = lab.case("tarpit")

    def soft_limit(signum, frame):
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, soft_limit)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    started = time.monotonic()
    try:
        with pytest.raises(SoftTimeLimitExceeded):
            run_scan(request_for(lab, "tarpit", timeout=5), deadline=60)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    assert time.monotonic() - started < 2
    time.sleep(0.2)
    assert connections_to(tarpit.ip, tarpit.https_port) == 0


def test_repeated_scans_keep_threads_and_memory_flat(lab, no_new_children):
    request = request_for(lab, "good")
    threads_before = threading.active_count()
    for _ in range(5):
        run_scan(request)
    rss_after_5 = rss_mib()
    for _ in range(15):
        run_scan(request)

    assert threading.active_count() == threads_before
    assert rss_mib() < rss_after_5 * 1.1


def test_the_runner_is_told_the_moment_its_child_exits_not_at_a_later_poll(no_new_children):
    from scanner.engine.runtime.sslyze_runner import _exit_notice, _stop

    release, hold = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: waits until released, then exits with 3
        os.close(hold)
        os.read(release, 1)
        os._exit(3)
    os.close(release)
    with _exit_notice(pid) as exited:
        assert exited is not None
        assert select.select([exited], [], [], 0.2)[0] == []  # still running: nothing to read
        os.close(hold)  # the child exits
        assert select.select([exited], [], [], 10)[0] == [exited]
    assert _stop(pid, grace=10) == "exit code 3"
