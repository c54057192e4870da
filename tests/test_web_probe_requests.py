"""The web-posture probe's own requests (CORS, security.txt, robots.txt, the www. counterpart, two ALPN
handshakes): one at a time beside the TLS scan, side by side (at most REQUESTS_AT_ONCE) once the scan's
connection allowance has grown, against a real HTTPS server on loopback that holds every connection open for a
moment and counts how many it has at once."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable

import pytest

from scanner import outbound
from scanner.engine.http import webprobe
from scanner.engine.http.page import PageFacts
from scanner.engine.runtime.allowance import ConnectionAllowance
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
from tests.lab.pki import LabPKI, LeafSpec
from tests.lab.servers import ANY_PATH, HttpsServer, Response

HOST = "www.site.test"  # a www. name: its apex counterpart is fetched too
HOLD_S = 0.3  # long enough that requests sent together are surely open together


class _CountingHttpsServer(HttpsServer):
    """Holds each new connection HOLD_S seconds before serving it; `most_at_once` is the most connections that
    were held at the same time (a client's next request after an answer can never overlap the one answered)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.most_at_once = 0
        self.connections = 0
        self._held = 0
        self._count_lock = threading.Lock()

    def _handle(self, conn) -> None:
        with self._count_lock:
            self._held += 1
            self.connections += 1
            self.most_at_once = max(self.most_at_once, self._held)
        time.sleep(HOLD_S)
        with self._count_lock:
            self._held -= 1
        super()._handle(conn)


@pytest.fixture
def server(tmp_path):
    credentials = LabPKI(tmp_path).issue("site", LeafSpec(hostnames=(HOST, "site.test")))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(credentials.chain_file, credentials.key_file)
    context.set_alpn_protocols(["h2", "http/1.1"])
    page = Response(200, (("Content-Type", "text/plain"),), b"ok")
    running = _CountingHttpsServer("127.0.0.1", 0, context, {ANY_PATH: page})
    running.start()
    yield running
    running.stop()


def _probe(
    server: _CountingHttpsServer,
    connections: ConnectionAllowance | None = None,
    when_started: Callable[[], object] = lambda: None,
):
    policy = NetworkPolicy(parse_networks(["127.0.0.0/8"]), parse_pins([f"{HOST}:127.0.0.1", "site.test:127.0.0.1"]))
    url = f"https://{HOST}:{server.port}/"

    def fetch(url: str, headers: dict[str, str], max_body: int) -> outbound.Response:
        return outbound.request(
            "GET", url, policy=policy, limits=outbound.Limits(max_body=max_body), headers=headers, verify=False
        )

    last = fetch(url, {}, 1024)
    server.connections = server.most_at_once = 0
    when_started()
    facts = webprobe.probe_web(
        None,
        last,
        PageFacts(mixed_content=(), canonical_url=None),
        fetch,
        host=HOST,
        https_port=server.port,
        ip="127.0.0.1",
        connect_timeout=5,
        deadline=time.monotonic() + 30,
        fetch_verified=fetch,
        connections=connections,
    )
    return facts


def test_beside_the_tls_scan_the_probes_requests_go_one_at_a_time(server):
    _probe(server)  # the default allowance: the TLS scan holds the address's other connections
    assert server.connections == 6  # CORS, security.txt, robots.txt, site.test, ALPN h2 and http/1.1
    assert server.most_at_once == 1


def test_with_the_tls_scans_connections_free_the_requests_go_side_by_side_but_never_more_than_requests_at_once(
    server,
):
    _probe(server, ConnectionAllowance(5))
    assert server.connections == 6
    assert server.most_at_once == webprobe.REQUESTS_AT_ONCE


def test_requests_waiting_for_a_connection_go_together_once_the_allowance_grows(server):
    connections = ConnectionAllowance(1)
    tls_scan_ends = threading.Timer(HOLD_S / 3, connections.grow_to, args=(5,))  # while the first request waits
    _probe(server, connections, when_started=tls_scan_ends.start)
    assert server.most_at_once == webprobe.REQUESTS_AT_ONCE


def test_every_answer_of_the_requests_sent_together_is_in_the_facts(server):
    facts = _probe(server, ConnectionAllowance(5))
    assert facts.alpn == ("h2", "http/1.1")
    assert facts.security_txt.status == 200
    assert facts.robots_txt.status == 200
    assert facts.sibling.host == "site.test"
    assert facts.sibling.status == 200
    assert facts.notes == ()
