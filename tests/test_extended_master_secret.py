"""Extended Master Secret (RFC 7627) read from the ServerHello of a handshake ended at the server's first
flight gives sslyze's answer (a whole handshake, then nassl's flag), on real servers with the extension on and
off."""

from __future__ import annotations

import ssl

import pytest
from sslyze import ServerNetworkConfiguration, ServerNetworkLocation
from sslyze.server_connectivity import ServerConnectivityInfo, check_connectivity_to_server

from benchmarks.delay_proxy import DelayProxy
from scanner.engine.runtime.sslyze_compat import extended_master_secret_job
from scanner.engine.vulnerabilities.extended_master_secret import extended_master_secret
from tests.lab.pki import LabPKI, LeafSpec
from tests.lab.servers import ANY_PATH, HttpsServer, Response
from tests.test_scan_scheduling import CLIENT_HELLO, handshake_message_types

HOST = "ems.lab.test"
OP_NO_EXTENDED_MASTER_SECRET = 0x1  # OpenSSL 3's SSL_OP_NO_EXTENDED_MASTER_SECRET (Python names no constant)


@pytest.fixture(params=[True, False], ids=["ems-on", "ems-off"])
def server(request, tmp_path):
    credentials = LabPKI(tmp_path).issue("ems", LeafSpec(hostnames=(HOST,)))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(credentials.chain_file, credentials.key_file)
    if not request.param:
        context.options |= OP_NO_EXTENDED_MASTER_SECRET
    running = HttpsServer("127.0.0.1", 0, context, {ANY_PATH: Response(200, (), b"ok")})
    running.start()
    yield running, request.param
    running.stop()


def connectivity(port: int):
    location = ServerNetworkLocation(hostname=HOST, port=port, ip_address="127.0.0.1")
    network = ServerNetworkConfiguration(tls_server_name_indication=HOST, network_timeout=5)
    return ServerConnectivityInfo(location, network, check_connectivity_to_server(location, network))


def test_the_extension_read_from_the_server_hello_is_sslyzes_answer(server):
    running, extension_on = server
    info = connectivity(running.port)
    assert extended_master_secret(info) is extended_master_secret_job(info) is extension_on


def test_reading_the_server_hello_sends_no_key_exchange(server):
    running, _ = server
    with DelayProxy("127.0.0.1", "127.0.0.1", running.port) as proxy:
        info = connectivity(proxy.port)
        proxy.reset()
        extended_master_secret(info)
    assert [handshake_message_types(sent) for sent in proxy.from_clients] == [[CLIENT_HELLO]]
