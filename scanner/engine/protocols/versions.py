"""The protocol table (protocols/table.py) as sslyze's and nassl's enums, for the code that speaks to them."""

from __future__ import annotations

from nassl.ssl_client import OpenSslVersionEnum
from sslyze import ScanCommand
from sslyze.server_connectivity import TlsVersionEnum

from scanner.engine.protocols.table import PROTOCOL_TABLE

# sslyze's version enum -> that version's cipher suite scan command (an attribute of AllScanCommandsAttempts).
VERSIONS: dict[TlsVersionEnum, ScanCommand] = {
    TlsVersionEnum[protocol.sslyze_version]: ScanCommand[protocol.scan_command] for protocol in PROTOCOL_TABLE
}
CIPHER_COMMANDS: frozenset[ScanCommand] = frozenset(VERSIONS.values())
# sslyze's version enum -> our name.
PROTOCOL_NAMES: dict[TlsVersionEnum, str] = {
    TlsVersionEnum[protocol.sslyze_version]: protocol.name for protocol in PROTOCOL_TABLE
}
# Our name -> sslyze's cipher suite scan command.
PROTOCOL_COMMANDS: dict[str, ScanCommand] = {
    protocol.name: ScanCommand[protocol.scan_command] for protocol in PROTOCOL_TABLE
}
# Our name -> nassl's version enum.
OPENSSL_VERSIONS: dict[str, OpenSslVersionEnum] = {
    protocol.name: OpenSslVersionEnum[protocol.nassl_version] for protocol in PROTOCOL_TABLE
}
