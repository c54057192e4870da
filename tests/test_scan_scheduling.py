"""How the adaptive engine spends its connections (issue 15): short handshakes, one shared pool per target,
one handshake for the two probes that read the same one, the HTTPS page read once."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sslyze import ScanCommand, ServerNetworkConfiguration, ServerNetworkLocation, ServerScanRequest
from sslyze.server_connectivity import TlsVersionEnum

from benchmarks.delay_proxy import DelayProxy
from scanner import outbound
from scanner.engine import scan
from scanner.engine.http.redirects import probe_http
from scanner.engine.protocols.adaptive import enumerate_version
from scanner.engine.runtime.pool import NORMAL, URGENT, PriorityPool
from scanner.engine.runtime.tls_scan import _longest_first, _scan_here
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
from scanner.targets import parse_target
from tests.conftest import LAB_SCAN_SETTINGS
from tests.test_adaptive_enumeration import connectivity

CLIENT_HELLO, HANDSHAKE_RECORD = 1, 22


def handshake_message_types(sent: bytes) -> list[int]:
    """The handshake message types in a client's bytes; -1 for any record that is not a handshake."""
    types, messages = [], b""
    while len(sent) >= 5:
        length = int.from_bytes(sent[3:5], "big")
        if sent[0] != HANDSHAKE_RECORD:
            types.append(-1)
        else:
            messages += sent[5 : 5 + length]
        sent = sent[5 + length :]
    while len(messages) >= 4:
        types.append(messages[0])
        messages = messages[4 + int.from_bytes(messages[1:4], "big") :]
    return types


def test_tls12_enumeration_handshakes_never_send_the_clients_key_exchange(lab):
    case = lab.case("legacy")
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        info = connectivity(case, proxy.port)
        proxy.reset()
        result = enumerate_version(info, TlsVersionEnum.TLS_1_2)
    assert len(result.accepted_cipher_suites) >= 10
    assert proxy.from_clients and all(handshake_message_types(sent) == [CLIENT_HELLO] for sent in proxy.from_clients)


def test_short_handshakes_still_record_each_suites_ephemeral_key(lab):
    case = lab.case("legacy")
    result = enumerate_version(connectivity(case, case.https_port), TlsVersionEnum.TLS_1_2)
    ecdhe = [item for item in result.accepted_cipher_suites if "_ECDHE_" in item.cipher_suite.name]
    assert ecdhe and all(item.ephemeral_key is not None and item.ephemeral_key.size >= 253 for item in ecdhe)


@pytest.mark.parametrize("connections", [1, 2])
def test_a_full_scan_never_opens_more_tls_connections_than_its_setting_plus_the_http_probes(lab, connections):
    case = lab.case("legacy")
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        policy = NetworkPolicy(parse_networks([lab.allowed_network]), parse_pins([f"{case.hostname}:{case.ip}"]))
        target = parse_target(case.hostname, https_port=proxy.port, http_port=case.http_port)
        settings = replace(LAB_SCAN_SETTINGS, per_target_connections=connections)
        result = scan(target, policy=policy, settings=settings, ca_file=lab.ca_file)
    assert result.status == "done", result.error
    # One ROBOT test waiting for its payloads never blocks the only thread: the answer is sslyze's.
    assert result.tls.vulnerabilities.robot is False
    # The pre-flight handshake overlaps the connectivity test, and the HTTP probe's HTTPS request the pool.
    assert proxy.most_open <= connections + 1


def scan_request(case, port: int, commands: set[ScanCommand]) -> ServerScanRequest:
    return ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=case.hostname, port=port, ip_address=case.ip),
        network_configuration=ServerNetworkConfiguration(
            tls_server_name_indication=case.hostname, network_timeout=2, network_max_retries=1
        ),
        scan_commands=commands,
    )


def test_secure_renegotiation_and_compression_are_read_from_one_handshake(lab):
    case = lab.case("good")
    counts = {}
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        for commands in (
            {ScanCommand.SESSION_RENEGOTIATION},
            {ScanCommand.SESSION_RENEGOTIATION, ScanCommand.TLS_COMPRESSION},
        ):
            proxy.reset()
            result, _, _ = _scan_here(scan_request(case, proxy.port, commands), 4, None, 60, False)
            counts[len(commands)] = proxy.connections
    assert counts[2] == counts[1]
    assert result.scan_result.tls_compression.result.supports_compression is False
    assert result.scan_result.session_renegotiation.result.supports_secure_renegotiation is True


def test_on_a_tls_1_2_server_the_certificate_and_fallback_scsv_handshakes_never_send_the_clients_key_exchange(lab):
    # Their answers (the chain, its OCSP staple; refused or not) are in the server's first flight.
    case = lab.case("legacy")
    commands = {ScanCommand.CERTIFICATE_INFO, ScanCommand.TLS_FALLBACK_SCSV}
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        result, _, _ = _scan_here(scan_request(case, proxy.port, commands), 4, None, 60, False)
    assert result.scan_result.certificate_info.result.certificate_deployments
    assert result.scan_result.tls_fallback_scsv.result.supports_fallback_scsv is True
    assert proxy.from_clients and all(handshake_message_types(sent) == [CLIENT_HELLO] for sent in proxy.from_clients)


def test_jobs_of_several_round_trips_go_on_the_pool_before_those_of_one_handshake():
    commands = {ScanCommand.HEARTBLEED, ScanCommand.SESSION_RENEGOTIATION, ScanCommand.CERTIFICATE_INFO}
    commands |= {ScanCommand.SESSION_RESUMPTION, ScanCommand.TLS_FALLBACK_SCSV}
    assert _longest_first(commands)[:2] == [ScanCommand.SESSION_RENEGOTIATION, ScanCommand.SESSION_RESUMPTION]


def test_the_https_page_is_read_once_when_http_redirects_to_it(lab, monkeypatch):
    case = lab.case("good")
    requested: list[str] = []
    real_request = outbound.request

    def counting_request(method, url, **options):
        # The web probe's own request (issue 23: a foreign Origin for CORS) is a different request on purpose.
        if "Origin" not in (options.get("headers") or {}):
            requested.append(url)
        return real_request(method, url, **options)

    monkeypatch.setattr(outbound, "request", counting_request)
    result = probe_http(case.hostname, case.https_port, case.http_port, lambda host: case.ip, LAB_SCAN_SETTINGS)
    https_url = f"https://{case.hostname}/" if case.https_port == 443 else f"https://{case.hostname}:{case.https_port}/"
    assert result.chain[-1].url == https_url and result.hsts is not None and result.page_fetched
    assert requested.count(https_url) == 1


def test_urgent_jobs_run_before_normal_jobs_queued_earlier():
    order: list[str] = []
    gate = threading.Event()
    with PriorityPool(1) as pool:
        pool.submit_at(NORMAL, gate.wait)  # holds the only thread while the rest is queued
        jobs = [pool.submit_at(NORMAL, order.append, "normal"), pool.submit_at(URGENT, order.append, "urgent")]
        gate.set()
        for job in jobs:
            job.result()
    assert order == ["urgent", "normal"]


def test_a_failing_job_hands_its_exception_to_the_caller():
    def fail():
        raise ValueError("the server answered nonsense")

    with PriorityPool(2) as pool, pytest.raises(ValueError, match="nonsense"):
        pool.submit(fail).result()


def test_a_job_mapping_over_the_pool_finishes_on_a_single_thread_it_holds_itself():
    with PriorityPool(1) as pool:
        job = pool.submit(lambda: pool.map_joining(lambda n: n * n, [1, 2, 3]))
        assert job.result(timeout=5) == [1, 4, 9]


def test_a_job_mapping_over_a_busy_pool_runs_the_items_no_other_thread_started():
    # The other thread is held: a job that only waited for it would hold its own thread (a connection) idle.
    gate = threading.Event()
    ran_on: list[str] = []

    def record(item: int) -> int:
        ran_on.append(threading.current_thread().name)
        return item

    with PriorityPool(2, name="pool") as pool:
        pool.submit(gate.wait)
        job = pool.submit(lambda: (threading.current_thread().name, pool.map_joining(record, [1, 2, 3])))
        name, results = job.result(timeout=5)
        gate.set()
    assert results == [1, 2, 3]
    assert ran_on == [name, name, name]
