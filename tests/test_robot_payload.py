"""Our ROBOT handshake (scanner/engine/vulnerabilities/robot_payload.py): the server's first flight read as a
stream of handshake messages whatever records carry them, and the same answers as sslyze's own reader where
that reader works."""

from __future__ import annotations

import pytest
from sslyze import ServerNetworkConfiguration, ServerNetworkLocation
from sslyze.server_connectivity import ServerConnectivityInfo, TlsVersionEnum, check_connectivity_to_server

from scanner.engine.runtime.sslyze_compat import (
    RobotPmsPaddingPayloadEnum,
    get_rsa_parameters,
    sslyze_send_robot_payload,
)
from scanner.engine.runtime.tls_records import RecordStream
from scanner.engine.vulnerabilities.robot_payload import send_robot_payload

SERVER_HELLO = bytes([2, 0, 0, 2]) + b"\x03\x03"
CERTIFICATE = bytes([11]) + (40_000).to_bytes(3, "big") + bytes(40_000)  # larger than a record
SERVER_HELLO_DONE = bytes([14, 0, 0, 0])


def handshake_records(data: bytes, size: int) -> bytes:
    """`data` as handshake records of at most `size` bytes of payload each."""
    chunks = [data[start : start + size] for start in range(0, len(data), size)]
    return b"".join(b"\x16\x03\x03" + len(chunk).to_bytes(2, "big") + chunk for chunk in chunks)


def messages_from(wire: bytes, arrival: int) -> list[bytes]:
    """Every handshake message of `wire`, received `arrival` bytes at a time."""
    stream, messages = RecordStream(), []
    for start in range(0, len(wire), arrival):
        stream.receive(wire[start : start + arrival])
        while (record := stream.next_record()) is not None:
            stream.add_handshake(record.payload)
            while (message := stream.next_message()) is not None:
                messages.append(message)
    return messages


@pytest.mark.parametrize("arrival", [1, 7, 1500, 16381, 100_000])
def test_a_message_split_over_several_records_comes_out_whole_however_the_bytes_arrive(arrival):
    wire = handshake_records(SERVER_HELLO + CERTIFICATE + SERVER_HELLO_DONE, 2**14)
    assert messages_from(wire, arrival) == [SERVER_HELLO, CERTIFICATE, SERVER_HELLO_DONE]


def test_several_messages_in_one_record_come_out_one_by_one():
    wire = handshake_records(SERVER_HELLO + SERVER_HELLO_DONE, 2**14)
    assert messages_from(wire, len(wire)) == [SERVER_HELLO, SERVER_HELLO_DONE]


def test_a_record_is_not_given_out_before_its_last_byte_arrives():
    stream = RecordStream()
    stream.receive(bytes([21, 3, 3, 0, 2, 2]))
    assert stream.next_record() is None
    stream.receive(bytes([20]))
    record = stream.next_record()
    assert (record.content_type, record.payload) == (21, bytes([2, 20]))


def connectivity(case, answer_timeout: float = 5) -> ServerConnectivityInfo:
    """The case's connectivity, checked with sslyze's default timeout; the ROBOT handshakes then wait
    `answer_timeout` seconds for each answer (a server waiting for a Finished never sends one)."""
    location = ServerNetworkLocation(hostname=case.hostname, port=case.https_port, ip_address=case.ip)
    checked = check_connectivity_to_server(location, ServerNetworkConfiguration(case.hostname, network_timeout=5))
    config = ServerNetworkConfiguration(tls_server_name_indication=case.hostname, network_timeout=answer_timeout)
    return ServerConnectivityInfo(location, config, checked)


def answers(
    send, info: ServerConnectivityInfo, finish: bool, payloads=tuple(RobotPmsPaddingPayloadEnum)
) -> dict[RobotPmsPaddingPayloadEnum, str]:
    rsa = get_rsa_parameters(info, TlsVersionEnum.TLS_1_2, "RSA")
    return {payload: send(info, TlsVersionEnum.TLS_1_2, "RSA", payload, finish, rsa.n, rsa.e) for payload in payloads}


def test_robot_answers_are_sslyzes_own_on_a_server_whose_certificate_fits_in_one_record(lab):
    info = connectivity(lab.case("legacy"))
    ours = answers(send_robot_payload, info, True)
    assert ours == answers(sslyze_send_robot_payload, info, True)
    assert all(answer.startswith("TLS Alert") for answer in ours.values())


def test_robot_answer_without_the_finished_is_sslyzes_own_timeout_text(lab):
    # The server waits for the client's Finished, so the answer is the socket's timeout, in sslyze's words.
    info = connectivity(lab.case("legacy"), answer_timeout=3)
    valid = (RobotPmsPaddingPayloadEnum.VALID,)
    ours = answers(send_robot_payload, info, False, valid)
    assert ours == answers(sslyze_send_robot_payload, info, False, valid) == {valid[0]: "socket.error timed out"}


def test_robot_payload_reaches_a_server_whose_certificate_spans_several_records(lab):
    ours = answers(send_robot_payload, connectivity(lab.case("manynames")), True)
    assert set(ours.values()) == {ours[RobotPmsPaddingPayloadEnum.VALID]}
    assert ours[RobotPmsPaddingPayloadEnum.VALID].startswith("TLS Alert")
