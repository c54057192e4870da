"""What the scan learns before it starts (scanner/engine/runtime/connectivity.py): sslyze's connectivity answer
from three handshakes made at once, and the old way, one question after another, wherever that could differ."""

from __future__ import annotations

import pytest
from sslyze import ServerNetworkConfiguration, ServerNetworkLocation
from sslyze.server_connectivity import ServerTlsProbingResult, TlsVersionEnum, check_connectivity_to_server

from benchmarks.delay_proxy import DelayProxy
from scanner.engine.runtime import resets
from scanner.engine.runtime.connectivity import probe_at_once, tls_1_2_from_the_server_hello
from scanner.engine.runtime.sslyze_compat import detect_tls_1_2_or_below
from scanner.engine.runtime.sslyze_runner import run_in_child
from tests.lab.flaky import FlakyProxy
from tests.test_scan_scheduling import CLIENT_HELLO, handshake_message_types


def location_and_network(case, port: int) -> tuple[ServerNetworkLocation, ServerNetworkConfiguration]:
    location = ServerNetworkLocation(hostname=case.hostname, port=port, ip_address=case.ip)
    return location, ServerNetworkConfiguration(tls_server_name_indication=case.hostname, network_timeout=2)


def probed_as_the_scan_does(
    location: ServerNetworkLocation, network: ServerNetworkConfiguration
) -> ServerTlsProbingResult | None:
    # In a scan's child, where every reset sslyze's connect sees is noted (resets.install).
    def probe() -> ServerTlsProbingResult | None:
        resets.install()
        return probe_at_once(location, network)

    return run_in_child(probe, deadline=30)


@pytest.mark.parametrize(
    "name",
    [
        "good",  # TLS 1.3: the ECDH question asked beside the version's is the answer
        "legacy",  # TLS 1.2 (TLS 1.3 refused), an ECDHE suite
        "tls13only",  # TLS 1.2 refused
        "weakciphers",  # TLS 1.2 with static RSA only: the ECDH question for TLS 1.2 is asked after
        "dhnonsafe",  # DHE only
    ],
)
def test_the_answer_of_three_handshakes_at_once_is_sslyzes_own(lab, name):
    location, network = location_and_network(lab.case(name), lab.case(name).https_port)
    assert probed_as_the_scan_does(location, network) == check_connectivity_to_server(location, network)


def test_the_three_handshakes_are_made_at_the_same_time(lab):
    case = lab.case("legacy")
    with DelayProxy(case.ip, case.ip, case.https_port, delay=0.05) as proxy:
        assert probed_as_the_scan_does(*location_and_network(case, proxy.port)) is not None
        assert proxy.connections == 3
        assert proxy.most_open == 3


@pytest.mark.parametrize(
    "name",
    [
        "legacy",  # an ECDHE suite
        "weakciphers",  # static RSA
        "dhnonsafe",  # DHE
        "clientcert",  # a CertificateRequest in the first flight
        "tls13only",  # refused
    ],
)
def test_the_tls_1_2_question_ended_at_the_servers_first_flight_answers_as_sslyzes_full_handshake(lab, name):
    location, network = location_and_network(lab.case(name), lab.case(name).https_port)
    ours = answer_or_error(lambda: tls_1_2_from_the_server_hello(location, network))
    assert ours == answer_or_error(lambda: detect_tls_1_2_or_below(location, network, TlsVersionEnum.TLS_1_2))


def answer_or_error(question):
    try:
        return question()
    except Exception as exc:  # noqa: BLE001 - the kind of error is the answer compared
        return type(exc)


def test_on_a_tls_1_2_server_no_question_sends_the_clients_key_exchange(lab):
    # The TLS 1.2 question is the one the scan waits for there: its answer is in the ServerHello.
    case = lab.case("legacy")
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        probed = probed_as_the_scan_does(*location_and_network(case, proxy.port))
    assert probed == check_connectivity_to_server(*location_and_network(case, case.https_port))
    assert proxy.from_clients and all(handshake_message_types(sent) == [CLIENT_HELLO] for sent in proxy.from_clients)


def test_a_server_asking_for_a_client_certificate_is_asked_the_old_way(lab):
    # sslyze then asks whether the certificate is required: one question after another, as it does.
    case = lab.case("clientcert")
    assert probed_as_the_scan_does(*location_and_network(case, case.https_port)) is None


def test_a_server_resetting_a_second_connection_is_asked_the_old_way(lab):
    # A reset handshake looks like a refused protocol version to sslyze: nothing read from it is believed.
    case = lab.case("good")
    with FlakyProxy(case.ip, case.ip, case.https_port, one_at_a_time=True) as limited:
        assert probed_as_the_scan_does(*location_and_network(case, limited.port)) is None
        assert limited.resets > 0
