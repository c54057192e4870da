"""One handshake as a reference client makes it: nassl (the OpenSSL builds sslyze ships) configured with the
client's versions, suites and groups, pinned to the scanned address with SNI = hostname. What the server
answered (protocol and suite), or why the handshake failed, in words. scanner/engine/simulation.py runs it for
every client of scanner/engine/clients.py.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from nassl.ephemeral_key_info import OpenSslEcNidEnum
from nassl.legacy_ssl_client import LegacySslClient
from nassl.ssl_client import BaseSslClient, ClientCertificateRequested, OpenSslVerifyEnum, OpenSslVersionEnum, SslClient
from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuitesRepository
from sslyze.server_connectivity import TlsVersionEnum

from scanner.engine.protocols.table import BY_WIRE_VERSION, PROTOCOL_TABLE
from scanner.engine.protocols.versions import OPENSSL_VERSIONS
from scanner.engine.runtime.error_reasons import refusal_reason
from scanner.engine.runtime.resets import note_reset, retried
from scanner.engine.runtime.short_handshake import chosen_suite, end_client_before_key_exchange
from scanner.engine.runtime.sslyze_compat import OpenSSLError

logger = logging.getLogger(__name__)

_TLS13_SUITES = (
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
)
_GROUPS = {
    "x25519": OpenSslEcNidEnum.X25519,
    "x448": OpenSslEcNidEnum.X448,
    "secp256r1": OpenSslEcNidEnum.SECP256R1,
    "secp384r1": OpenSslEcNidEnum.SECP384R1,
    "secp521r1": OpenSslEcNidEnum.SECP521R1,
}


class HandshakeFailed(Exception):
    """A simulated handshake did not complete; the message says why, in words."""


class ServerStalled(HandshakeFailed):
    """The server stopped answering: further handshakes would only wait for the timeout again."""


@dataclass(frozen=True)
class Negotiated:
    protocol: str
    suite: str  # IANA name

    @property
    def forward_secrecy(self) -> bool:
        return self.protocol == "TLSv1.3" or "_DHE_" in self.suite or "_ECDHE_" in self.suite


@cache
def _iana_to_openssl() -> dict[str, str]:
    names: dict[str, str] = {}
    for version in (TlsVersionEnum.TLS_1_3, TlsVersionEnum.TLS_1_2, TlsVersionEnum.TLS_1_0, TlsVersionEnum.SSL_3_0):
        for suite in CipherSuitesRepository.get_all_cipher_suites(version):
            names.setdefault(suite.name, suite.openssl_name)
    return names


@cache
def _openssl_to_iana() -> dict[str, str]:
    return {openssl: iana for iana, openssl in _iana_to_openssl().items()}


class _RecordingSocket:
    """Passes bytes through and keeps the first server bytes: the ServerHello tells the protocol version."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.received = b""

    def recv(self, size: int) -> bytes:
        data = self._sock.recv(size)
        if len(self.received) < 64:
            self.received += data[:64]
        return data

    def send(self, data: bytes) -> int:
        self._sock.sendall(data)  # nassl ignores short writes; never leave half a record behind
        return len(data)

    def sendall(self, data: bytes) -> None:
        self._sock.sendall(data)

    def close(self) -> None:
        self._sock.close()


def _server_hello_version(received: bytes) -> str | None:
    # record: type(1)=0x16 version(2) length(2); handshake: type(1)=0x02 length(3) server_version(2)
    if len(received) >= 11 and received[0] == 0x16 and received[5] == 0x02:
        return BY_WIRE_VERSION.get(int.from_bytes(received[9:11], "big"))
    return None


def handshake(
    host: str,
    ip: str,
    port: int,
    *,
    protocols: Sequence[str],
    suites: Sequence[str],
    groups: Sequence[str] = (),
    timeout: float,
    connections: Callable[[], None] | None = None,
) -> Negotiated:
    """One ClientHello offering `suites` (IANA, in order) over `protocols`; returns what the server chose. A
    handshake cut by a reset is made again before "this client cannot connect" is believed (resets.retried)."""
    return retried(
        lambda: _handshake_once(
            host, ip, port, protocols=protocols, suites=suites, groups=groups, timeout=timeout, connections=connections
        )
    )


def _handshake_once(
    host: str,
    ip: str,
    port: int,
    *,
    protocols: Sequence[str],
    suites: Sequence[str],
    groups: Sequence[str],
    timeout: float,
    connections: Callable[[], None] | None,
    first_flight_only: bool = True,
) -> Negotiated:
    """One handshake. A client offering nothing newer than TLS 1.2 reads its answer (the version and the suite)
    in the server's first flight and ends the handshake there, before its key exchange; a server asking for a
    client certificate is asked again with a whole handshake, which tells whether it goes on without one."""
    known = _iana_to_openssl()
    tls13 = [s for s in suites if s in _TLS13_SUITES and s in known]
    legacy_suites = [known[s] for s in suites if s not in _TLS13_SUITES and s in known]
    if "TLSv1.3" in protocols and not tls13:
        protocols = [p for p in protocols if p != "TLSv1.3"]
    if not legacy_suites:
        protocols = [p for p in protocols if p == "TLSv1.3"]
    if not protocols:
        raise HandshakeFailed("none of the offered cipher suites can be used with the offered protocol versions")

    client: BaseSslClient
    if list(protocols) == ["SSLv3"]:
        client = LegacySslClient(
            ssl_version=OPENSSL_VERSIONS["SSLv3"],
            ssl_verify=OpenSslVerifyEnum.NONE,
            ignore_client_authentication_requests=True,
        )
        client.set_cipher_list(":".join(legacy_suites))
    else:
        client = SslClient(
            ssl_version=OpenSslVersionEnum.SSLV23,
            ssl_verify=OpenSslVerifyEnum.NONE,
            ignore_client_authentication_requests=True,
        )
        # A client speaking a range of versions is an SSLv23 client with the versions outside the range switched
        # off (OpenSSL's SSL_OP_NO_* options), exactly how an application configures OpenSSL.
        flags = 0
        for protocol in PROTOCOL_TABLE:
            if protocol.name not in protocols:
                flags |= protocol.openssl_no_flag
        client._ssl.set_options(flags)  # nassl exposes SSL_set_options only on the SSL object
        # SECLEVEL 0: an old client accepted what this OpenSSL would refuse by default (small DH, SHA-1).
        client.set_cipher_list(":".join(legacy_suites) + ":@SECLEVEL=0" if legacy_suites else "ALL:@SECLEVEL=0")
        client.set_ciphersuites(":".join(tls13))
        nids = [_GROUPS[g] for g in groups if g in _GROUPS]
        if nids:
            client.set_groups(nids)
    client.set_tlsext_host_name(host)
    first_flight_only = first_flight_only and "TLSv1.3" not in protocols
    if first_flight_only:
        end_client_before_key_exchange(client, certificate_request_raises=True)

    try:
        sock = socket.create_connection((ip, port), timeout=timeout)
    except TimeoutError:
        raise ServerStalled(f"no TCP answer within {timeout:g} s") from None
    except ConnectionRefusedError:
        note_reset()
        raise ServerStalled("the connection was refused") from None
    except OSError as exc:
        if isinstance(exc, ConnectionError):
            note_reset()
        raise ServerStalled(f"could not connect: {exc.strerror or exc}") from None
    if connections is not None:
        connections()
    recorder = _RecordingSocket(sock)
    client.set_underlying_socket(recorder)  # type: ignore[arg-type]
    try:
        client.do_handshake()
        openssl_name = client.get_current_cipher_name()
    except ClientCertificateRequested:
        if first_flight_only:
            sock.close()
            return _handshake_once(
                host,
                ip,
                port,
                protocols=protocols,
                suites=suites,
                groups=groups,
                timeout=timeout,
                connections=connections,
                first_flight_only=False,
            )
        raise HandshakeFailed("the server requires a client certificate") from None
    except TimeoutError:
        raise ServerStalled(f"the server did not finish the handshake within {timeout:g} s") from None
    except OSError as exc:
        if isinstance(exc, ConnectionError):
            note_reset()
        raise HandshakeFailed(_connection_reason(exc)) from None
    except OpenSSLError as exc:
        raise HandshakeFailed(refusal_reason(exc)) from None
    finally:
        sock.close()

    # After a handshake ended at the first flight OpenSSL names no suite yet: the ServerHello does.
    suite = chosen_suite(client) or _openssl_to_iana().get(openssl_name, openssl_name)
    protocol = "TLSv1.3" if suite in _TLS13_SUITES else _server_hello_version(recorder.received)
    if protocol is None:
        raise HandshakeFailed("the server's answer could not be read as a TLS ServerHello")
    return Negotiated(protocol=protocol, suite=suite)


def _connection_reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionResetError) or "peer did not send" in str(exc):
        return "the server closed the connection during the handshake"
    return f"the connection failed during the handshake: {exc.strerror or exc}"
