"""Extended Master Secret (RFC 7627): where it is probed.

sslyze's test makes a whole TLS 1.2 (or older) handshake with the modern OpenSSL build, which always offers the
extension, and asks OpenSSL whether the session uses it. The server answers in its ServerHello, by echoing the
extension or not, so this job ends its handshake at the server's first flight (runtime/short_handshake.py)
and reads the ServerHello; nassl itself only says once the handshake has finished. runtime/plugin_jobs.py puts
it in the place of sslyze's job; sslyze's plugin still turns the answer into its result.
"""

from __future__ import annotations

from sslyze.server_connectivity import ServerConnectivityInfo, TlsVersionEnum

from scanner.engine.runtime.short_handshake import FirstFlightConnectivity, server_hello_extensions

EXTENDED_MASTER_SECRET = 23  # the extension's type (RFC 7627 section 5.1)


def extended_master_secret(server_info: ServerConnectivityInfo) -> bool:
    """What sslyze's `_test_ems` answers: True for a TLS 1.3 server (the extension belongs to TLS 1.2 and
    older), else whether the server's ServerHello carries the extension."""
    if server_info.tls_probing_result.highest_tls_version_supported.value >= TlsVersionEnum.TLS_1_3.value:
        return True
    connection = FirstFlightConnectivity.of(server_info).get_preconfigured_tls_connection(
        should_use_legacy_openssl=False  # as sslyze's: only the modern build offers the extension
    )
    try:
        connection.connect()
    finally:
        connection.close()
    return EXTENDED_MASTER_SECRET in server_hello_extensions(connection.ssl_client)
