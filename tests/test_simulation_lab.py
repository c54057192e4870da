"""What real clients get: the server's suite order and simulated reference clients, against lab servers."""

from __future__ import annotations

from dataclasses import replace

from benchmarks.delay_proxy import DelayProxy
from scanner.engine.results import PROBE_ERROR, PROBE_OK
from scanner.engine.simulation.client_handshake import handshake
from scanner.engine.simulation.clients import CLIENTS
from scanner.engine.simulation.simulate import PROBE_NAME, offerable, with_simulation
from tests.conftest import LAB_SCAN_SETTINGS
from tests.test_scan_scheduling import CLIENT_HELLO, handshake_message_types

ECDHE_AES256 = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
ECDHE_AES128 = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"


def simulation(scan_case, case: str, client_prefix: str):
    (found,) = [sim for sim in scan_case(case).tls.simulations if sim.client.startswith(client_prefix)]
    return found


def test_every_client_profile_suite_can_be_offered_by_our_openssl():
    for profile in CLIENTS:
        assert offerable(profile.suites) == list(profile.suites), profile.name


def test_every_reference_client_is_simulated_in_order(scan_case):
    names = [sim.client for sim in scan_case("good").tls.simulations]
    assert names == [profile.name for profile in CLIENTS]


def test_simulation_probe_is_recorded_as_ok(scan_case):
    assert scan_case("good").tls.probes[PROBE_NAME].status == PROBE_OK


def test_server_enforcing_its_order_is_detected(scan_case):
    assert scan_case("ecdhepref").tls.server_cipher_preference is True


def test_server_following_the_client_order_is_detected(scan_case):
    assert scan_case("clientorder").tls.server_cipher_preference is False


def test_preferred_suite_is_the_servers_first_choice(scan_case):
    assert scan_case("ecdhepref").tls.preferred_suites == {"TLSv1.2": ECDHE_AES256}


def test_preferred_suite_is_recorded_per_protocol(scan_case):
    assert set(scan_case("legacy").tls.preferred_suites) == {"TLSv1.0", "TLSv1.1", "TLSv1.2"}


def test_modern_clients_get_the_servers_ecdhe_suite_when_it_enforces_its_order(scan_case):
    modern = [sim for sim in scan_case("ecdhepref").tls.simulations if sim.modern]
    assert modern and {(sim.protocol, sim.suite, sim.forward_secrecy) for sim in modern} == {
        ("TLSv1.2", ECDHE_AES256, True)
    }


def test_ie11_on_windows7_falls_back_to_static_rsa_where_only_ecdhe_gcm_is_offered(scan_case):
    ie = simulation(scan_case, "ecdhepref", "IE 11 / Windows 7")
    assert (ie.suite, ie.forward_secrecy, ie.modern) == ("TLS_RSA_WITH_AES_128_GCM_SHA256", False, False)


def test_clients_get_their_own_first_choice_when_the_server_follows_their_order(scan_case):
    assert simulation(scan_case, "clientorder", "Chrome 131 / Windows").suite == ECDHE_AES128
    assert simulation(scan_case, "clientorder", "Java 11").suite == ECDHE_AES256


def test_modern_clients_negotiate_tls13_on_the_good_site(scan_case):
    modern = [sim for sim in scan_case("good").tls.simulations if sim.modern]
    assert modern and all(sim.protocol == "TLSv1.3" and sim.forward_secrecy for sim in modern)


def test_clients_without_tls13_negotiate_forward_secret_tls12_on_the_good_site(scan_case):
    for prefix in ("Android 7", "IE 11 / Windows 7"):
        sim = simulation(scan_case, "good", prefix)
        assert (sim.protocol, sim.forward_secrecy, sim.error) == ("TLSv1.2", True, None)


def test_every_client_negotiates_forward_secret_tls12_on_the_legacy_site(scan_case):
    sims = scan_case("legacy").tls.simulations
    assert {(sim.protocol, sim.forward_secrecy) for sim in sims} == {("TLSv1.2", True)}


def test_static_rsa_only_server_gives_modern_clients_no_forward_secrecy(scan_case):
    chrome = simulation(scan_case, "weakciphers", "Chrome 131 / Windows")
    assert (chrome.protocol, chrome.forward_secrecy) == ("TLSv1.2", False)


def test_client_without_a_common_protocol_fails_with_a_reason_in_words(scan_case):
    ie = simulation(scan_case, "tls13only", "IE 11 / Windows 7")
    assert (ie.protocol, ie.suite, ie.forward_secrecy) == (None, None, None)
    assert ie.error == "no protocol version in common"


def test_tls13_only_server_still_serves_modern_clients(scan_case):
    assert simulation(scan_case, "tls13only", "Firefox 133").protocol == "TLSv1.3"


def test_silent_server_ends_the_simulation_as_a_probe_error_not_a_failed_scan(scan_case, lab):
    tarpit = lab.case("tarpit")
    measured = scan_case("good").tls
    result = with_simulation(
        replace(measured, probes={}),
        host="good.lab.test",
        ip=tarpit.ip,
        port=tarpit.https_port,
        timeout=LAB_SCAN_SETTINGS.network_timeout,
    )
    assert result.probes[PROBE_NAME].status == PROBE_ERROR
    assert "stopped answering" in result.probes[PROBE_NAME].reason
    assert result.cipher_suites == measured.cipher_suites and not result.simulations


def test_closed_port_ends_the_simulation_as_a_probe_error(scan_case, lab):
    closed = lab.case("closed")
    result = with_simulation(
        scan_case("good").tls,
        host="good.lab.test",
        ip=closed.ip,
        port=closed.https_port,
        timeout=LAB_SCAN_SETTINGS.network_timeout,
    )
    assert result.probes[PROBE_NAME].status == PROBE_ERROR
    assert "refused" in result.probes[PROBE_NAME].reason


def test_the_simulation_covers_at_least_twenty_clients_with_unique_names():
    assert len(CLIENTS) >= 20
    assert len({profile.name for profile in CLIENTS}) == len(CLIENTS)


def test_every_modern_client_gets_a_forward_secret_aead_suite_from_the_good_server(scan_case):
    modern = {profile.name for profile in CLIENTS if profile.modern}
    for sim in scan_case("good").tls.simulations:
        if sim.client in modern:
            assert sim.protocol and sim.forward_secrecy, sim


TLS12_CLIENT = {
    "protocols": ("TLSv1.0", "TLSv1.1", "TLSv1.2"),
    "suites": (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
    ),
    "timeout": 5,
}


def test_a_client_without_tls13_reads_its_answer_in_the_servers_first_flight_and_sends_no_key_exchange(lab):
    case = lab.case("legacy")
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        negotiated = handshake(case.hostname, case.ip, proxy.port, **TLS12_CLIENT)
    assert (negotiated.protocol, negotiated.suite) == ("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    assert [handshake_message_types(sent) for sent in proxy.from_clients] == [[CLIENT_HELLO]]


def test_a_client_asked_for_an_optional_certificate_is_answered_by_a_whole_handshake_and_connects(lab):
    case = lab.case("clientcert")
    with DelayProxy(case.ip, case.ip, case.https_port) as proxy:
        negotiated = handshake(case.hostname, case.ip, proxy.port, **TLS12_CLIENT)
    assert negotiated.protocol == "TLSv1.2"
    assert proxy.connections == 2  # the first flight showed the request; the second handshake went on without
