"""scanner.outbound against real local servers: pinning, policy, caps and the whole-request deadline."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from typing import Self

import pytest

from scanner.netpolicy import NetworkPolicy, parse_networks
from scanner.outbound import (
    BadResponse,
    Limits,
    OutboundConnectError,
    OutboundRefused,
    OutboundTimeout,
    OutboundTLSError,
    ResponseTooLarge,
    request,
)
from tests.lab.servers import ANY_PATH, HostileHttpServer, HttpServer, Response

LOOPBACK = NetworkPolicy(parse_networks(["127.0.0.0/8"]))


class RebindingPolicy(NetworkPolicy):
    """The real policy with a DNS that answers `answers` in turn, like a rebinding attacker's name server."""

    def __init__(self, answers: list[str], allowed: list[str]) -> None:
        super().__init__(parse_networks(allowed))
        object.__setattr__(self, "_answers", list(answers))

    def _lookup(self, host: str) -> str:  # type: ignore[override]
        return self._answers.pop(0)


class CountingListener:
    """A TCP listener that only counts who connects to it (the "internal service" an attacker wants to reach)."""

    def __init__(self, ip: str, port: int = 0) -> None:
        self.sock = socket.create_server((ip, port))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def http_server():
    server = HttpServer("127.0.0.1", 0, {ANY_PATH: Response(200, (("X-Seen", "yes"),), b"hello")})
    server.start()
    yield server
    server.stop()


def test_a_request_is_sent_to_the_approved_address_with_the_name_as_host(http_server):
    seen = {}

    class Recording(NetworkPolicy):
        def resolve(self, host: str) -> str:
            seen["host"] = host
            return "127.0.0.1"

    response = request("GET", f"http://hooks.example.test:{http_server.port}/x", policy=Recording())

    assert (response.status, response.body, response.ip) == (200, b"hello", "127.0.0.1")
    assert seen["host"] == "hooks.example.test"
    assert response.headers["x-seen"] == "yes"


def test_an_internationalised_name_is_resolved_and_connected_in_its_ascii_form(http_server):
    seen = []

    class Recording(NetworkPolicy):
        def resolve(self, host: str) -> str:
            seen.append(host)
            return "127.0.0.1"

    response = request("GET", f"http://bücher.example.test.:{http_server.port}/", policy=Recording())

    assert response.status == 200
    assert seen == ["xn--bcher-kva.example.test"]


def test_a_rebinding_name_is_never_connected_at_its_second_answer():
    # 127.0.0.2 stands in for the public address the policy approves (no test may send traffic off loopback);
    # 127.0.0.3 is the internal service, outside the allowed networks.
    public = HttpServer("127.0.0.2", 0, {ANY_PATH: Response(200, body=b"public")})
    public.start()
    try:
        # Same port on both, so only the address decides where the connection goes.
        with CountingListener("127.0.0.3", public.port) as internal:
            policy = RebindingPolicy(["127.0.0.2", "127.0.0.3"], allowed=["127.0.0.2/32"])

            response = request("POST", f"http://rebind.example.test:{public.port}/hook", policy=policy, content=b"{}")
            time.sleep(0.3)

            assert (response.ip, response.body) == ("127.0.0.2", b"public")
            assert internal.accepted == 0
            assert policy._answers == ["127.0.0.3"]  # resolved once: the second answer was never even asked for
    finally:
        public.stop()


def test_a_name_resolving_to_a_refused_address_is_never_connected_to():
    with CountingListener("127.0.0.1") as internal:
        with pytest.raises(OutboundRefused, match="loopback"):
            request("GET", f"http://internal.example.test:{internal.port}/", policy=RebindingPolicy(["127.0.0.1"], []))
        time.sleep(0.3)
        assert internal.accepted == 0


def test_a_body_over_the_cap_is_truncated_and_the_rest_never_read():
    with HostileHttpServer("huge") as server:
        response = request("GET", server.url, policy=LOOPBACK, limits=Limits(max_body=100_000))
        time.sleep(0.2)

    assert (len(response.body), response.truncated) == (100_000, True)
    assert server.bytes_sent < 32 * 1024 * 1024  # of the 1 GiB: socket buffers, not the body


def test_a_body_over_the_cap_raises_when_truncation_is_not_allowed():
    with HostileHttpServer("huge") as server, pytest.raises(ResponseTooLarge, match="larger than the 65536 bytes"):
        request("GET", server.url, policy=LOOPBACK, limits=Limits(max_body=65536), allow_truncated=False)


def test_an_endless_body_is_cut_at_the_cap():
    with HostileHttpServer("endless") as server:
        response = request("GET", server.url, policy=LOOPBACK, limits=Limits(max_body=1 << 20))
    assert (len(response.body), response.truncated) == (1 << 20, True)


def test_a_dripping_body_cannot_extend_the_deadline():
    with HostileHttpServer("drip", interval=0.2) as server:
        started = time.monotonic()
        with pytest.raises(OutboundTimeout, match="deadline"):
            request("GET", server.url, policy=LOOPBACK, limits=Limits(deadline=1.5))
        elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 2.5


def test_a_dripping_head_cannot_extend_the_deadline():
    with HostileHttpServer("drip_head", interval=0.2) as server:
        started = time.monotonic()
        with pytest.raises(OutboundTimeout, match="deadline"):
            request("GET", server.url, policy=LOOPBACK, limits=Limits(deadline=1.5))
    assert time.monotonic() - started < 2.5


def test_too_many_header_lines_are_refused():
    with (
        HostileHttpServer("many_headers", size=300) as server,
        pytest.raises(ResponseTooLarge, match="303 header lines"),
    ):
        request("GET", server.url, policy=LOOPBACK, limits=Limits(max_headers=100))


def test_a_response_head_over_100_kib_is_too_large_not_just_bad():
    with HostileHttpServer("many_headers", size=10_000) as server, pytest.raises(ResponseTooLarge, match="100 KiB"):
        request("GET", server.url, policy=LOOPBACK)


def test_a_header_block_over_the_byte_cap_is_refused():
    with HostileHttpServer("long_location") as server, pytest.raises(ResponseTooLarge, match="bytes of headers"):
        request("GET", server.url, policy=LOOPBACK, limits=Limits(max_header_bytes=16 * 1024))


def test_a_60kb_location_fits_the_default_header_cap_and_is_not_followed():
    with HostileHttpServer("long_location") as server:
        response = request("GET", server.url, policy=LOOPBACK)
    assert response.status == 302
    assert len(response.headers["location"]) > 59_000


def test_a_url_over_the_length_cap_is_refused_before_resolving():
    class Unresolvable(NetworkPolicy):
        def resolve(self, host: str) -> str:
            raise AssertionError("resolved a URL that should have been refused")

    with pytest.raises(OutboundRefused, match="characters long"):
        request("GET", "http://example.test/" + "a" * 9000, policy=Unresolvable())


def test_a_closed_port_is_a_refused_connection():
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(OutboundConnectError, match="connection refused") as caught:
        request("GET", f"http://127.0.0.1:{port}/", policy=LOOPBACK)
    assert caught.value.refused


def test_a_server_that_does_not_speak_http_is_a_bad_response():
    with HostileHttpServer("garbage") as server, pytest.raises(BadResponse) as caught:
        request("GET", server.url, policy=LOOPBACK)
    assert not isinstance(caught.value, ResponseTooLarge)


def test_https_uses_the_name_for_sni_and_verifies_against_the_given_ca(lab, lab_policy):
    case = lab.case("good")
    context = ssl.create_default_context(cafile=lab.ca_file)

    response = request("GET", f"https://{case.hostname}:{case.https_port}/", policy=lab_policy, verify=context)

    assert response.status == 200 and response.ip == case.ip


def test_https_verification_failure_is_a_tls_error(lab, lab_policy):
    case = lab.case("selfsigned")
    context = ssl.create_default_context(cafile=lab.ca_file)
    with pytest.raises(OutboundTLSError, match="TLS handshake"):
        request("GET", f"https://{case.hostname}:{case.https_port}/", policy=lab_policy, verify=context)


def test_https_without_verification_reads_an_untrusted_server(lab, lab_policy):
    case = lab.case("selfsigned")
    response = request("GET", f"https://{case.hostname}:{case.https_port}/", policy=lab_policy, verify=False)
    assert response.status == 200
