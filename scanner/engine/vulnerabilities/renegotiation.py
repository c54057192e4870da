"""Secure renegotiation and TLS compression (CRIME): where they are probed.

sslyze's renegotiation plugin checks that the server supports secure renegotiation (RFC 5746; without it a
man in the middle can splice its own data before the client's) and whether a client may start renegotiations
(a denial-of-service lever); its compression plugin checks whether the server accepts TLS compression (the
CRIME attack). Both tests begin with the same handshake, so the renegotiation job here makes it once and
answers both; sslyze's plugins still decide what the answers mean (runtime/plugin_jobs.py schedules them).
The results are read into our `Vulnerabilities` in vulnerabilities/findings.py.
"""

from __future__ import annotations

from nassl.legacy_ssl_client import LegacySslClient
from nassl.ssl_client import ClientCertificateRequested
from sslyze.errors import ServerRejectedTlsHandshake
from sslyze.plugins.plugin_base import ScanJobResult
from sslyze.server_connectivity import ServerConnectivityInfo, TlsVersionEnum

from scanner.engine.runtime.sslyze_compat import RenegotiationJobResult


class SharedLegacyHandshake:
    """One handshake for sslyze's secure-renegotiation and compression tests.

    Both make the same connection (the legacy OpenSSL build, TLS 1.2 when the server speaks TLS 1.3 and its
    highest version otherwise, the default cipher list) and read one flag of it each. This job makes it once
    and answers both, each with its own test's rules for a refused handshake or a client certificate request.
    """

    def __init__(self) -> None:
        self.compression: ScanJobResult | None = None

    def secure_renegotiation(self, info: ServerConnectivityInfo) -> tuple[RenegotiationJobResult, bool]:
        """The secure-renegotiation job's answer, as sslyze's `_test_secure_renegotiation` gives it; the
        compression test's answer from the same handshake goes to `self.compression`."""
        highest = info.tls_probing_result.highest_tls_version_supported
        downgraded = highest.value >= TlsVersionEnum.TLS_1_3.value  # no renegotiation or compression in TLS 1.3
        connection = info.get_preconfigured_tls_connection(
            override_tls_version=TlsVersionEnum.TLS_1_2 if downgraded else highest, should_use_legacy_openssl=True
        )
        client = connection.ssl_client
        if not isinstance(client, LegacySslClient):
            error = RuntimeError("sslyze's legacy OpenSSL client was expected")
            self.compression = ScanJobResult(None, error)
            raise error
        try:
            connection.connect()
        except Exception as exc:
            self.compression = _compression_after_failure(client, exc, downgraded)
            if isinstance(exc, ServerRejectedTlsHandshake) and downgraded:
                return RenegotiationJobResult.SUPPORTS_SECURE_RENEG, True
            raise
        else:
            self.compression = _compression_of(client)
            return RenegotiationJobResult.SUPPORTS_SECURE_RENEG, client.get_secure_renegotiation_support()
        finally:
            connection.close()

    def compression_results(self) -> list[ScanJobResult]:
        return [self.compression]


def _compression_of(client: LegacySslClient) -> ScanJobResult:
    # sslyze refuses to answer "no compression" from a build that could not have offered it.
    if "zlib compression" not in client.get_available_compression_methods():
        return ScanJobResult(None, RuntimeError("the legacy OpenSSL build cannot offer compression"))
    return ScanJobResult(bool(client.get_current_compression_method()), None)


def _compression_after_failure(client: LegacySslClient, exc: Exception, downgraded: bool) -> ScanJobResult:
    """What sslyze's compression test answers when its handshake ends this way."""
    if isinstance(exc, ClientCertificateRequested):
        return _compression_of(client)  # past the ServerHello: the method is known
    if isinstance(exc, ServerRejectedTlsHandshake) and downgraded:
        return ScanJobResult(False, None)  # TLS 1.3 only
    return ScanJobResult(None, exc)
