"""Adaptive cipher-suite enumeration (issue 15): same results as sslyze's full enumeration, far fewer handshakes."""

from __future__ import annotations

import time
from dataclasses import fields, replace
from typing import Any

import pytest
from sslyze import (
    RobotScanResultEnum,
    ScanCommand,
    ScanCommandAttemptStatusEnum,
    ServerNetworkConfiguration,
    ServerNetworkLocation,
    ServerScanRequest,
)
from sslyze.server_connectivity import ServerConnectivityInfo, TlsVersionEnum, check_connectivity_to_server

from benchmarks.delay_proxy import DelayProxy
from scanner.engine import scan
from scanner.engine.protocols.adaptive import Enumeration, Learned, enumerate_all, enumerate_version
from scanner.engine.protocols.suite_offers import NOT_CHOSEN, Budget, BudgetExhausted
from scanner.engine.runtime.pool import PriorityPool
from scanner.engine.runtime.tls_scan import run_adaptive_scan
from scanner.engine.simulation import simulate as simulation
from scanner.engine.simulation.clients import CLIENTS
from scanner.engine.tls import PROTOCOL_COMMANDS, _tls_result
from scanner.grading import grade
from scanner.targets import parse_target
from tests.conftest import LAB_SCAN_SETTINGS
from tests.lab.cases import CaseSpec, all_cases

# The lab scans of the rest of the suite use the default, adaptive; the reference here is sslyze's own.
FULL = replace(LAB_SCAN_SETTINGS, cipher_enumeration="sslyze")


# What decides what a lab case's TLS server answers, and what neither enumeration reads: the case's name (its
# certificate's hostnames are left out of the leaf too) and its HTTP side (routes, redirects, HSTS, hostile HTTP).
TLS_FIELDS = (
    "leaf",
    "extra_leaves",
    "min_version",
    "max_version",
    "ciphers",
    "server_preference",
    "hostile_https",
    "dh_prime",
    "client_auth",
    "fallback_alert",
    "second_address",
)
NOT_TLS_FIELDS = ("name", "description", "kind", "https_routes", "http_routes", "hostile_http")


def tls_configuration(spec: CaseSpec) -> tuple[Any, ...]:
    def unnamed(leaf):
        return None if leaf is None else replace(leaf, hostnames=())

    def part(name: str):
        value = getattr(spec, name)
        if name == "leaf":
            return unnamed(value)
        if name == "extra_leaves":
            return tuple(unnamed(leaf) for leaf in value)
        if name == "second_address":
            return None if value is None else tls_configuration(value)
        return value

    return tuple(part(name) for name in TLS_FIELDS)


# One case per TLS configuration: about half the lab's cases differ from `good` only in name or HTTP behaviour,
# and a second sslyze enumeration of the same server configuration would compare the same handshakes again.
_FIRST_CASE_OF_EACH_CONFIGURATION: dict[tuple[Any, ...], str] = {}
for _spec in all_cases():
    if _spec.kind == "https":
        _FIRST_CASE_OF_EACH_CONFIGURATION.setdefault(tls_configuration(_spec), _spec.name)
HTTPS_CASES = list(_FIRST_CASE_OF_EACH_CONFIGURATION.values())


def test_every_field_of_a_lab_case_is_sorted_into_its_tls_configuration_or_out_of_it():
    # A field added to CaseSpec must be sorted here: left out, two servers differing in it would be compared once.
    assert sorted(field.name for field in fields(CaseSpec)) == sorted(TLS_FIELDS + NOT_TLS_FIELDS)


@pytest.fixture(scope="session")
def full_scan(lab, lab_policy):
    cache = {}

    def run(name):
        if name not in cache:
            case = lab.case(name)
            target = parse_target(case.hostname, https_port=case.https_port, http_port=case.http_port)
            cache[name] = scan(target, policy=lab_policy, settings=FULL, ca_file=lab.ca_file)
        return cache[name]

    return run


@pytest.fixture(scope="session")
def adaptive_scan(scan_case):
    assert LAB_SCAN_SETTINGS.cipher_enumeration == "adaptive"  # the default
    return scan_case


def by_leaf(deployments) -> list:
    return sorted(deployments, key=lambda deployment: deployment.sha256_fingerprint)


def accepted(result) -> set[tuple[str, str]]:
    return {(suite.protocol, suite.name) for suite in result.tls.cipher_suites}


# A TLS 1.2-only server with an ECDSA certificate: in TLS 1.2 the client's supported groups also name the curves
# it accepts for the certificate (RFC 8422 §5.1), so sslyze's ClientHello offering X25519 alone cannot be
# answered with the P-256 certificate, and sslyze reports X25519 unsupported. Real clients offer several groups
# and get X25519, as the adaptive offer (every curve at once) does.
SSLYZE_ONE_CURVE_MISSES = {"cbcfirst"}


@pytest.mark.parametrize("name", HTTPS_CASES)
def test_adaptive_enumeration_equals_sslyze_full_enumeration(full_scan, adaptive_scan, name):
    full, adaptive = full_scan(name), adaptive_scan(name)
    if full.status == "failed":  # e.g. hugecert: no OpenSSL client accepts its certificate; same reason both ways
        assert (adaptive.status, adaptive.error) == (full.status, full.error)
        return
    assert adaptive.status == full.status == "done"
    assert accepted(adaptive) == accepted(full)
    assert adaptive.tls.cipher_suites == full.tls.cipher_suites  # same order, key sizes and ephemeral keys
    assert adaptive.tls.protocols == full.tls.protocols
    if name in SSLYZE_ONE_CURVE_MISSES:
        assert set(full.tls.curves) < set(adaptive.tls.curves)
    else:
        assert adaptive.tls.curves == full.tls.curves
    assert adaptive.tls.vulnerabilities == full.tls.vulnerabilities
    # Read from handshakes ended at the server's first flight (TLS 1.2 and older) against sslyze's full ones.
    # In any order: sslyze's Scanner hands its certificate plugin the jobs' results as they finish, so on a
    # server with two certificates (dualcert) which deployment comes first there is a race.
    assert by_leaf(adaptive.tls.certificate_deployments) == by_leaf(full.tls.certificate_deployments)
    assert adaptive.tls.extended_master_secret == full.tls.extended_master_secret
    assert adaptive.tls.client_certificate_requested == full.tls.client_certificate_requested
    assert grade(adaptive).security == grade(full).security


@pytest.mark.parametrize("name", HTTPS_CASES)
def test_simulation_predicted_from_the_enumeration_equals_real_handshakes(full_scan, adaptive_scan, name):
    # sslyze mode learns no order, so every client there is a real handshake: the adaptive scan's predictions
    # (and its order answer, read from the enumeration's picks) must be exactly what those handshakes gave.
    full, adaptive = full_scan(name), adaptive_scan(name)
    if full.status == "failed":
        return
    assert adaptive.tls.simulations == full.tls.simulations
    assert adaptive.tls.preferred_suites == full.tls.preferred_suites
    assert adaptive.tls.server_cipher_preference == full.tls.server_cipher_preference


def test_adaptive_enumeration_records_ephemeral_key_sizes_like_sslyze(full_scan, adaptive_scan):
    def kex(result):
        return {(s.protocol, s.name, s.kex_type, s.kex_bits) for s in result.tls.cipher_suites}

    assert kex(adaptive_scan("legacy")) == kex(full_scan("legacy"))


@pytest.mark.parametrize("name", ["tarpit", "closed"])
def test_unreachable_sites_fail_the_same_way_with_adaptive_enumeration(full_scan, adaptive_scan, name):
    assert adaptive_scan(name).error == full_scan(name).error


def connectivity(case, port: int) -> ServerConnectivityInfo:
    location = ServerNetworkLocation(hostname=case.hostname, port=port, ip_address=case.ip)
    config = ServerNetworkConfiguration(
        tls_server_name_indication=case.hostname, network_timeout=2, network_max_retries=1
    )
    return ServerConnectivityInfo(location, config, check_connectivity_to_server(location, config))


def test_tls12_enumeration_needs_one_handshake_per_accepted_suite_one_refusal_per_chain_one_merge_and_one_check(lab):
    case = lab.case("legacy")
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        info = connectivity(case, proxy.port)
        proxy.reset()
        result = enumerate_version(info, TlsVersionEnum.TLS_1_2)
        # TLS 1.2 candidates are split between nassl's modern and legacy OpenSSL, as sslyze does, and the legacy
        # build's chain runs as two halves (forward secrecy or not): three chains, each ended by one refused
        # handshake; one handshake shows the halves' picks do not interleave (this server ranks forward secrecy
        # first), then the first accepted suite is re-checked alone once.
        assert proxy.connections == len(result.accepted_cipher_suites) + 3 + 1 + 1


def test_suites_not_picked_are_reported_as_rejected_with_a_reason(lab):
    case = lab.case("good")
    result = enumerate_version(connectivity(case, case.https_port), TlsVersionEnum.TLS_1_3)
    assert result.rejected_cipher_suites and {r.error_message for r in result.rejected_cipher_suites} == {NOT_CHOSEN}


def test_server_that_starts_refusing_mid_enumeration_triggers_the_per_suite_fallback(lab):
    case = lab.case("legacy")
    fallbacks = []
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        info = connectivity(case, proxy.port)
        proxy.serve_first = proxy.connections + 2  # two handshakes (of four accepted suites), then closed at once
        enumerate_version(info, TlsVersionEnum.TLS_1_0, on_fallback=lambda version, why: fallbacks.append(why))
    assert fallbacks and "refused" in fallbacks[0]


def test_a_confirmation_refused_after_the_chains_leaves_no_chain_order_for_the_simulation(lab):
    case = lab.case("legacy")
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        info = connectivity(case, proxy.port)
        before = proxy.connections
        enumerate_version(info, TlsVersionEnum.TLS_1_0)
        chains_and_confirmation = proxy.connections - before
        proxy.serve_first = proxy.connections + chains_and_confirmation - 1  # all but the confirmation answered
        learned = Learned()
        with PriorityPool(2) as pool:
            enumeration = Enumeration(info, [TlsVersionEnum.TLS_1_0], learned=learned)
            enumeration.start(pool)
            as_they_stood = enumeration.chains_ended()
            assert learned.chains  # what the simulation may start from, beside the confirmation
            outcomes = enumeration.finish()
    assert outcomes is not as_they_stood
    assert learned.chains == {}


def test_a_used_up_connection_budget_is_an_error_never_a_protocol_not_supported(lab):
    case = lab.case("legacy")
    request = ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=case.hostname, port=case.https_port, ip_address=case.ip),
        network_configuration=ServerNetworkConfiguration(tls_server_name_indication=case.hostname),
        scan_commands={ScanCommand.TLS_1_0_CIPHER_SUITES, ScanCommand.TLS_1_2_CIPHER_SUITES},
    )
    result = run_adaptive_scan(request, per_server_connections=2, connection_budget=2)
    attempts = (result.scan_result.tls_1_0_cipher_suites, result.scan_result.tls_1_2_cipher_suites)
    assert ScanCommandAttemptStatusEnum.ERROR in {attempt.status for attempt in attempts}
    assert all(attempt.result is None for attempt in attempts if attempt.status == ScanCommandAttemptStatusEnum.ERROR)


def test_a_server_stalling_mid_enumeration_ends_within_the_time_budget_as_not_measured(lab):
    case = lab.case("legacy")
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        info = connectivity(case, proxy.port)
        proxy.serve_first, proxy.stall = proxy.connections + 2, True
        started = time.monotonic()
        with pytest.raises(BudgetExhausted):
            enumerate_version(info, TlsVersionEnum.TLS_1_0, budget=Budget(seconds=3), workers=2)
        # a timed-out handshake (2 s) sends the protocol to the per-suite fallback, cut at 3 s
        assert time.monotonic() - started < 3 + 2 * 2 + 1


def test_the_service_scans_with_the_enumeration_its_settings_name(settings):
    from scanner.config import scan_settings

    settings.SCANNER_CIPHER_ENUMERATION, settings.SCANNER_PER_TARGET_CONNECTIONS = "adaptive", 3
    assert (scan_settings().cipher_enumeration, scan_settings().per_target_connections) == ("adaptive", 3)


def handshakes_through_proxy(case, **options) -> tuple[int, dict]:
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        info = connectivity(case, proxy.port)
        proxy.reset()
        outcomes = enumerate_all(info, [TlsVersionEnum.TLS_1_2, TlsVersionEnum.TLS_1_3], **options)
        return proxy.connections, outcomes


def test_robot_is_not_run_when_no_rsa_key_exchange_suite_was_accepted(lab):
    without, _ = handshakes_through_proxy(lab.case("good"))
    with_robot, outcomes = handshakes_through_proxy(lab.case("good"), with_robot=True)
    assert outcomes["robot"].robot_result == RobotScanResultEnum.NOT_VULNERABLE_RSA_NOT_SUPPORTED
    assert with_robot == without


def test_robot_stops_after_one_attempt_when_every_payload_gets_the_same_answer(lab):
    without, _ = handshakes_through_proxy(lab.case("legacy"))
    with_robot, outcomes = handshakes_through_proxy(lab.case("legacy"), with_robot=True)
    assert outcomes["robot"].robot_result == RobotScanResultEnum.NOT_VULNERABLE_NO_ORACLE
    # one handshake for the RSA key (TLS 1.2, GCM first, as sslyze does), then the five payloads once
    assert with_robot - without == 1 + 5


def adaptive_tls(case, port: int, learned: Learned):
    request = ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=case.hostname, port=port, ip_address=case.ip),
        network_configuration=ServerNetworkConfiguration(tls_server_name_indication=case.hostname),
        scan_commands=set(PROTOCOL_COMMANDS.values()) | {ScanCommand.ELLIPTIC_CURVES, ScanCommand.CERTIFICATE_INFO},
    )
    return _tls_result(case.hostname, run_adaptive_scan(request, learned=learned), None)


def test_clients_are_predicted_without_a_handshake_when_the_enumeration_saw_the_servers_order(lab):
    case = lab.case("ecdhepref")
    learned = Learned()
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        tls = adaptive_tls(case, proxy.port, learned)
        proxy.reset()
        report = simulation.run(case.hostname, proxy.ip, proxy.port, tls, timeout=2, learned=learned)
        assert report.server_cipher_preference is True and len(report.simulations) == len(CLIENTS)
        assert proxy.connections == 0


def test_a_server_following_the_clients_order_is_still_asked_with_handshakes(lab):
    case = lab.case("clientorder")
    learned = Learned()
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        tls = adaptive_tls(case, proxy.port, learned)
        proxy.reset()
        report = simulation.run(case.hostname, proxy.ip, proxy.port, tls, timeout=2, learned=learned)
        assert report.server_cipher_preference is False
        assert proxy.connections >= len(CLIENTS)


def accepted_by_protocol(tls) -> dict[str, list[str]]:
    accepted: dict[str, list[str]] = {}
    for suite in tls.cipher_suites:
        accepted.setdefault(suite.protocol, []).append(suite.name)
    return accepted


def test_when_the_server_follows_the_clients_order_every_client_handshake_starts_beside_the_preference_question(lab):
    case = lab.case("clientorder")
    learned = Learned()
    tls = adaptive_tls(case, case.https_port, learned)
    accepted = accepted_by_protocol(tls)
    assert all(simulation.needs_handshake(profile, accepted, learned) for profile in CLIENTS)


def test_no_client_handshake_starts_early_when_the_enumeration_saw_the_servers_whole_order(lab):
    case = lab.case("ecdhepref")
    learned = Learned()
    tls = adaptive_tls(case, case.https_port, learned)
    accepted = accepted_by_protocol(tls)
    assert not any(simulation.needs_handshake(profile, accepted, learned) for profile in CLIENTS)


def test_a_client_the_servers_first_choice_could_still_predict_does_not_start_early(lab):
    # Two chains show the server's order in part: the preference handshake's answer may make it predictable.
    case = lab.case("good")
    learned = Learned()
    tls = adaptive_tls(case, case.https_port, learned)
    accepted = accepted_by_protocol(tls)
    undecided = [profile for profile in CLIENTS if simulation.predict(profile, accepted, {}, learned) is None]
    assert undecided
    assert not any(simulation.needs_handshake(profile, accepted, learned) for profile in undecided)
