"""One ROBOT payload sent to the server, and its answer in words sslyze's oracle analysis compares.

sslyze's own handshake for this reads the server's first flight one record at a time and looks for the
ServerHelloDone inside each record. A server whose Certificate message does not fit in one record (a
certificate with a thousand names) splits it over several, and that reader then either parses garbage (and
crashes) or waits for a record end that never comes (and times out), depending on how the bytes happened to
arrive: ROBOT was never measured on such servers. Here the first flight is read as a stream of handshake
messages (`tls_records.RecordStream`), whatever records carry them.

Everything else is sslyze's test: its connection (SNI, timeouts, StartTLS, the reset counting patched into its
connect), its ClientKeyExchange payloads and Finished record, and the same answer strings ("TLS Alert 20 2",
"No data", "socket.error ...", "Ok"), so `RobotServerResponsesAnalyzer` judges exactly what it judges for sslyze.
"""

from __future__ import annotations

import functools
import socket

import tls_parser.tls_version
from nassl.ssl_client import BaseSslClient, ClientCertificateRequested
from sslyze.errors import ServerRejectedTlsHandshake
from sslyze.server_connectivity import ClientAuthRequirementEnum, ServerConnectivityInfo, TlsVersionEnum
from tls_parser.change_cipher_spec_protocol import TlsChangeCipherSpecRecord

from scanner.engine.runtime.sslyze_compat import (
    RobotPmsPaddingPayloadEnum,
    RobotTlsRecordPayloads,
    WantReadError,
    use_robot_payload_sender,
)
from scanner.engine.runtime.tls_records import ALERT, HANDSHAKE, RecordStream

_SERVER_HELLO_DONE = 14  # handshake type (RFC 5246 §7.4)
_RECEIVE_SIZE = 16381  # what sslyze's reader asks the socket for
_TIMED_OUT = "Connection timed out"  # sslyze's answer when the socket times out outside its own reader
_NO_ANSWER = ""  # sslyze's answer when the server ends the first flight with an alert or closes before its end

_RECORD_VERSIONS = {
    TlsVersionEnum.SSL_3_0: tls_parser.tls_version.TlsVersionEnum.SSLV3,
    TlsVersionEnum.TLS_1_0: tls_parser.tls_version.TlsVersionEnum.TLSV1,
    TlsVersionEnum.TLS_1_1: tls_parser.tls_version.TlsVersionEnum.TLSV1_1,
    TlsVersionEnum.TLS_1_2: tls_parser.tls_version.TlsVersionEnum.TLSV1_2,
}


class _Answered(Exception):
    """Ends the handshake with the server's answer to the payload (nassl's `do_handshake` returns nothing)."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class UnexpectedRecord(Exception):
    """The server's first flight held a record that is neither handshake nor alert (sslyze gives up there too)."""


def send_robot_payload(
    info: ServerConnectivityInfo,
    version: TlsVersionEnum,
    cipher_string: str,
    payload: RobotPmsPaddingPayloadEnum,
    finish_handshake: bool,
    modulus: int,
    exponent: int,
) -> str:
    """One handshake ending in the ROBOT ClientKeyExchange `payload` (then ChangeCipherSpec and Finished when
    `finish_handshake`); the server's answer as text. Raises what sslyze's connect raises for a handshake that
    failed before the payload could be sent."""
    record_version = _RECORD_VERSIONS[version]
    flight = [
        RobotTlsRecordPayloads.get_client_key_exchange_record(payload, record_version, modulus, exponent).to_bytes()
    ]
    if finish_handshake:
        flight.append(TlsChangeCipherSpecRecord.from_parameters(tls_version=record_version).to_bytes())
        flight.append(RobotTlsRecordPayloads.get_finished_record_bytes(record_version))
    connection = info.get_preconfigured_tls_connection(override_tls_version=version)
    client = connection.ssl_client
    client.set_cipher_list(cipher_string)
    # sslyze's connect opens the socket (proxy, StartTLS) and sorts the handshake's errors; ours does the rest.
    client.do_handshake = functools.partial(_handshake_with_payload, client, flight)  # type: ignore[method-assign]
    try:
        connection.connect()
        return _NO_ANSWER
    except _Answered as answered:
        return answered.answer
    except TimeoutError:
        return _TIMED_OUT
    except ServerRejectedTlsHandshake:
        # Without a client certificate the handshake cannot reach the payload (as sslyze's test concludes).
        if info.tls_probing_result.client_auth_requirement != ClientAuthRequirementEnum.DISABLED:
            raise ClientCertificateRequested(ca_list=[]) from None
        raise
    finally:
        connection.close()


def install() -> None:
    """Let sslyze's own ROBOT plugin use this handshake too (sslyze mode runs sslyze's Scanner, whose ROBOT
    test calls its sender for each payload). Called in the scan's child process, like `resets.install`; the
    adaptive scan calls `send_robot_payload` directly (vulnerabilities/robot.py)."""
    use_robot_payload_sender(send_robot_payload)


def _handshake_with_payload(client: BaseSslClient, flight: list[bytes]) -> None:
    """Send OpenSSL's ClientHello, read the server's first flight to its ServerHelloDone, send `flight`, and raise
    `_Answered` with the server's reaction. Returns without an answer when the first flight ends early."""
    try:
        client._ssl.do_handshake()  # writes the ClientHello, then waits for the server
    except WantReadError:
        pass
    client._flush_ssl_engine()
    stream = RecordStream()
    if not _read_first_flight(client._sock, stream):
        return
    for record in flight:
        client._sock.sendall(record)
    raise _Answered(_answer(client._sock, stream))


def _read_first_flight(sock: socket.socket, stream: RecordStream) -> bool:
    """Read up to the server's ServerHelloDone (True), or to an alert or a closed connection (False). Bytes
    received after the record that completed the ServerHelloDone stay in `stream` for the answer."""
    while True:
        record = stream.next_record()
        if record is None:
            data = sock.recv(_RECEIVE_SIZE)
            if not data:
                return False
            stream.receive(data)
            continue
        if record.content_type == ALERT:
            return False
        if record.content_type != HANDSHAKE:
            raise UnexpectedRecord(f"record type {record.content_type} in the server's first flight")
        stream.add_handshake(record.payload)
        while (message := stream.next_message()) is not None:
            if message[0] == _SERVER_HELLO_DONE:
                return True


def _answer(sock: socket.socket, stream: RecordStream) -> str:
    """The server's reaction to the payload: its alert, any other record ("Ok"), a close or a socket error."""
    while (record := stream.next_record()) is None:
        try:
            data = sock.recv(_RECEIVE_SIZE)
        except OSError as exc:
            return f"socket.error {exc}"
        if not data:
            return "No data"
        stream.receive(data)
    if record.content_type == ALERT and len(record.payload) >= 2:
        severity, description = record.payload[0], record.payload[1]
        return f"TLS Alert {description} {severity}"
    return "Ok"
