"""The one protocol table (scanner/engine/protocols/table.py) and every view derived from it agree."""

from __future__ import annotations

import pytest
from nassl.ssl_client import OpenSslVersionEnum
from sslyze import ScanCommand
from sslyze.server_connectivity import TlsVersionEnum

from scanner.engine import tls
from scanner.engine.protocols import versions
from scanner.engine.protocols.table import PROTOCOL_TABLE
from scanner.engine.results import PROTOCOLS
from scanner.engine.simulation.client_handshake import _server_hello_version
from scanner.grading.scoring import PROTOCOL_SCORES

ROWS = [pytest.param(protocol, id=protocol.name) for protocol in PROTOCOL_TABLE]


def test_results_protocols_are_the_table_names_oldest_first():
    assert PROTOCOLS == tuple(protocol.name for protocol in PROTOCOL_TABLE)
    assert [TlsVersionEnum[protocol.sslyze_version].value for protocol in PROTOCOL_TABLE] == sorted(
        member.value for member in TlsVersionEnum
    )


def test_grading_scores_exactly_the_table_protocols():
    assert tuple(PROTOCOL_SCORES) == PROTOCOLS


@pytest.mark.parametrize("protocol", ROWS)
def test_sslyze_views_map_each_protocol_to_its_own_version_and_cipher_suite_command(protocol):
    version = TlsVersionEnum[protocol.sslyze_version]
    command = versions.PROTOCOL_COMMANDS[protocol.name]
    assert command.value == f"{protocol.sslyze_version.lower()}_cipher_suites"
    assert versions.VERSIONS[version] is command
    assert versions.PROTOCOL_NAMES[version] == protocol.name
    assert command in versions.CIPHER_COMMANDS
    assert tls.PROTOCOL_COMMANDS[protocol.name] is command


@pytest.mark.parametrize("protocol", ROWS)
def test_nassl_version_is_the_same_protocol_as_sslyzes(protocol):
    assert (
        versions.OPENSSL_VERSIONS[protocol.name].value
        == OpenSslVersionEnum[protocol.nassl_version].value
        == TlsVersionEnum[protocol.sslyze_version].value
    )


@pytest.mark.parametrize("protocol", [row for row in ROWS if row.values[0].name != "SSLv2"])
def test_a_server_hello_with_the_tables_wire_version_reads_as_that_protocol(protocol):
    server_hello = bytes([0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00, 0x00, 0x3C]) + protocol.wire_version.to_bytes(2)
    assert _server_hello_version(server_hello) == protocol.name


def test_every_cipher_suite_command_belongs_to_one_protocol():
    cipher_commands = {command for command in ScanCommand if command.value.endswith("_cipher_suites")}
    assert versions.CIPHER_COMMANDS == cipher_commands
    assert len(versions.VERSIONS) == len(PROTOCOL_TABLE)
