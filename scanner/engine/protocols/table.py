"""The one protocol table: every SSL/TLS version the engine knows, with each library's name for it.

Everything else that lists protocols derives from this table: `results.PROTOCOLS` (our names, oldest first,
as reports store them), the sslyze views in `protocols/versions.py` (version enum to scan command and back),
the ServerHello wire versions and OpenSSL's "no version" options the handshake simulation uses, and the
grade's score per protocol (`grading/scoring.py`, policy data keyed by these names; a test compares them).

Plain data on purpose: `results.py` is read by the dashboard and the report, which must not import sslyze;
library enums are looked up by member name where sslyze is loaded anyway.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Protocol:
    name: str  # ours, in results and stored reports
    wire_version: int  # the version field of a ServerHello (SSL 2.0 has no such record: its own numbering)
    sslyze_version: str  # member of sslyze's TlsVersionEnum
    scan_command: str  # member of sslyze's ScanCommand: this version's cipher suite enumeration
    nassl_version: str  # member of nassl's OpenSslVersionEnum
    openssl_no_flag: int  # OpenSSL's SSL_OP_NO_<version> option (0: OpenSSL 1.1 has no SSL 2.0 to switch off)


PROTOCOL_TABLE: tuple[Protocol, ...] = (
    Protocol("SSLv2", 0x0002, "SSL_2_0", "SSL_2_0_CIPHER_SUITES", "SSLV2", 0),
    Protocol("SSLv3", 0x0300, "SSL_3_0", "SSL_3_0_CIPHER_SUITES", "SSLV3", 0x02000000),
    Protocol("TLSv1.0", 0x0301, "TLS_1_0", "TLS_1_0_CIPHER_SUITES", "TLSV1", 0x04000000),
    Protocol("TLSv1.1", 0x0302, "TLS_1_1", "TLS_1_1_CIPHER_SUITES", "TLSV1_1", 0x10000000),
    Protocol("TLSv1.2", 0x0303, "TLS_1_2", "TLS_1_2_CIPHER_SUITES", "TLSV1_2", 0x08000000),
    Protocol("TLSv1.3", 0x0304, "TLS_1_3", "TLS_1_3_CIPHER_SUITES", "TLSV1_3", 0x20000000),
)

# Oldest first: order matters to readers ("the highest version", tables in the report).
PROTOCOLS: tuple[str, ...] = tuple(protocol.name for protocol in PROTOCOL_TABLE)
BY_NAME: dict[str, Protocol] = {protocol.name: protocol for protocol in PROTOCOL_TABLE}
# A ServerHello's version field to our name; SSL 2.0's server hello has another layout and is never read so.
BY_WIRE_VERSION: dict[int, str] = {
    protocol.wire_version: protocol.name for protocol in PROTOCOL_TABLE if protocol.name != "SSLv2"
}
