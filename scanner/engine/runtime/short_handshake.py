"""Handshakes that end once the server has shown its choice: the ServerHello and its key exchange.

The enumeration only needs to know which suite (or curve) the server picks and its ephemeral key. In TLS 1.2
and older both are in the server's first flight (ServerHello, Certificate, ServerKeyExchange,
CertificateRequest, ServerHelloDone). A full handshake then costs the client its key exchange (an ECDH key
pair on the server's curve, or an RSA encryption), the server a decryption or ECDH of its own, and one more
round trip for the Finished messages. Here the client's OpenSSL is given the first flight without its
ServerHelloDone: it parses and checks everything the server sent, exactly as in a full handshake (the suite
against the offer, the certificate message's size, the DH group's size, the key exchange signature), then
waits for the message that would make it compute its own key exchange, and the connection is closed.

Handshake messages are not bound to records before encryption starts, so the flight is fed one message per
record; that is how the ServerHelloDone can be held back when a server packs the whole flight in one record.
TLS 1.3 is one round trip already and SSL 2.0 negotiates differently: both keep the full handshake.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nassl.ssl_client import BaseSslClient, ClientCertificateRequested
from sslyze.server_connectivity import ClientAuthRequirementEnum, ServerConnectivityInfo, TlsVersionEnum
from tls_parser.cipher_suites import CipherSuites

from scanner.engine.runtime.error_reasons import CLIENT_CERTIFICATE_ALERT, openssl_error_kinds
from scanner.engine.runtime.sslyze_compat import OpenSSLError, WantReadError, WantX509LookupError
from scanner.engine.runtime.tls_records import HANDSHAKE, MESSAGE_HEADER, RecordStream

if TYPE_CHECKING:
    from sslyze.connection_helpers.tls_connection import SslConnection

VERSIONS = frozenset({TlsVersionEnum.SSL_3_0, TlsVersionEnum.TLS_1_0, TlsVersionEnum.TLS_1_1, TlsVersionEnum.TLS_1_2})

_SERVER_HELLO, _CERTIFICATE_REQUEST, _SERVER_HELLO_DONE = 2, 13, 14
_MAX_RECORD = 2**14


def stop_at_server_key_exchange(
    connection: SslConnection, version: TlsVersionEnum, info: ServerConnectivityInfo
) -> None:
    """Make `connection.connect()` end its handshake before the client's key exchange (TLS 1.2 and older)."""
    if version in VERSIONS:
        # As nassl does when sslyze has no client certificate: a request is ignored unless the server requires one.
        required = info.tls_probing_result.client_auth_requirement == ClientAuthRequirementEnum.REQUIRED
        end_before_key_exchange(connection, certificate_request_raises=required)


@dataclass(frozen=True)
class FirstFlightConnectivity(ServerConnectivityInfo):
    """The same server as the ServerConnectivityInfo it is made from, whose TLS 1.2 and older connections end
    their handshakes at the server's first flight: for a job of sslyze's that only reads what that flight
    carries (runtime/plugin_jobs.py)."""

    @classmethod
    def of(cls, info: ServerConnectivityInfo) -> FirstFlightConnectivity:
        return cls(info.server_location, info.network_configuration, info.tls_probing_result)

    def get_preconfigured_tls_connection(
        self,
        override_tls_version: TlsVersionEnum | None = None,
        ca_certificates_path: Path | None = None,
        should_use_legacy_openssl: bool | None = None,
        should_enable_server_name_indication: bool = True,
    ) -> SslConnection:
        connection = super().get_preconfigured_tls_connection(
            override_tls_version, ca_certificates_path, should_use_legacy_openssl, should_enable_server_name_indication
        )
        version = override_tls_version or self.tls_probing_result.highest_tls_version_supported
        stop_at_server_key_exchange(connection, version, self)
        return connection


def end_before_key_exchange(connection: SslConnection, *, certificate_request_raises: bool) -> None:
    """Make `connection.connect()` (TLS 1.2 or older) end its handshake at the server's first flight. With
    `certificate_request_raises`, a CertificateRequest raises ClientCertificateRequested, as a connection that
    does not ignore client authentication does."""
    end_client_before_key_exchange(connection.ssl_client, certificate_request_raises=certificate_request_raises)


def end_client_before_key_exchange(client: BaseSslClient, *, certificate_request_raises: bool) -> None:
    """The same for a bare nassl client: its `do_handshake()` ends at the server's first flight."""
    client.do_handshake = functools.partial(_handshake, client, certificate_request_raises)


def _handshake(client: BaseSslClient, certificate_required: bool) -> None:
    """nassl's `do_handshake` loop with the ServerHelloDone held back; raises what nassl's would (sslyze's
    `connect()` sorts those exceptions), including ClientCertificateRequested where nassl would raise it."""
    _step(client)  # writes the ClientHello
    client._flush_ssl_engine()
    stream = RecordStream()
    request_seen = False
    while True:
        data = client._sock.recv(client._DEFAULT_BUFFER_SIZE)
        if not data:
            raise OSError("Nassl SSL handshake failed: peer did not send data back.")
        stream.receive(data)
        while (record := stream.next_record()) is not None:
            if record.content_type != HANDSHAKE:
                _feed(client, record.header + record.payload)  # an alert: OpenSSL raises it as nassl would
                continue
            stream.add_handshake(record.payload)
            while (message := stream.next_message()) is not None:
                if message[0] == _SERVER_HELLO_DONE:
                    if request_seen and certificate_required:
                        raise ClientCertificateRequested(client.get_client_CA_list())
                    return
                request_seen = request_seen or message[0] == _CERTIFICATE_REQUEST
                if message[0] == _SERVER_HELLO:
                    client.server_hello_suite, client.server_hello_extensions = _read_server_hello(message)
                for start in range(0, len(message), _MAX_RECORD):  # a large Certificate takes several
                    fragment = message[start : start + _MAX_RECORD]
                    _feed(client, record.header[:3] + len(fragment).to_bytes(2, "big") + fragment)


def _feed(client: BaseSslClient, data: bytes) -> None:
    """Hand `data` to OpenSSL in pieces its network buffer takes, letting it process each (its checks raise
    here, as in a full handshake)."""
    for start in range(0, len(data), client._DEFAULT_BUFFER_SIZE):
        client._network_bio.write(data[start : start + client._DEFAULT_BUFFER_SIZE])
        _step(client)


def _step(client: BaseSslClient) -> None:
    try:
        client._ssl.do_handshake()
    except WantReadError:
        return
    except WantX509LookupError:
        raise ClientCertificateRequested(client.get_client_CA_list()) from None
    except OpenSSLError as exc:
        if CLIENT_CERTIFICATE_ALERT in openssl_error_kinds(exc.args[0]):
            raise ClientCertificateRequested(client.get_client_CA_list()) from None
        raise


def chosen_suite(client: BaseSslClient) -> str | None:
    """The IANA name of the suite in the ServerHello of a short handshake (None for a full one).

    OpenSSL 1.1.1 only records the negotiated suite in the session once the client has sent its key
    exchange, so `get_current_cipher_name()` is empty after a short handshake; the ServerHello says it.
    """
    suite = getattr(client, "server_hello_suite", None)
    if suite is None:
        return None
    try:
        return CipherSuites(suite).name
    except ValueError:
        return None


def server_hello_extensions(client: BaseSslClient) -> frozenset[int]:
    """The extension types in the ServerHello of a short handshake (empty for a full one, or none seen)."""
    return getattr(client, "server_hello_extensions", frozenset())


def _read_server_hello(server_hello: bytes) -> tuple[int | None, frozenset[int]]:
    """(the cipher suite, the extension types) of a ServerHello message (RFC 5246 section 7.4.1.3): type (1),
    length (3), version (2), random (32), session id (1 + n), cipher suite (2), compression (1), then the
    extensions' total length (2) and each one's type (2), length (2) and data."""
    body = server_hello[MESSAGE_HEADER:]
    if len(body) < 35:
        return None, frozenset()
    offset = 35 + body[34]
    if len(body) < offset + 2:
        return None, frozenset()
    suite = int.from_bytes(body[offset : offset + 2], "big")
    offset += 3
    end = min(len(body), offset + 2 + int.from_bytes(body[offset : offset + 2], "big"))
    offset += 2
    types = set()
    while offset + 4 <= end:
        types.add(int.from_bytes(body[offset : offset + 2], "big"))
        offset += 4 + int.from_bytes(body[offset + 2 : offset + 4], "big")
    return suite, frozenset(types)
