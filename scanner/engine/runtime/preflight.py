"""The pre-flight: one quick handshake before the scan, so a silent or refusing server fails the scan at once
with a clear reason instead of after every probe's timeout."""

from __future__ import annotations

import logging
import socket
import ssl
import time

from scanner.engine.runtime.error_reasons import (
    CERTIFICATE_TOO_LARGE,
    RECORD_LAYER_FAILURE,
    WRONG_VERSION_NUMBER,
    openssl_error_kinds,
)
from scanner.insecure_tls import insecure_tls_context

logger = logging.getLogger(__name__)


class TlsUnreachable(Exception):
    """The host does not speak TLS on that port (refused, silent, or not TLS at all)."""


# OpenSSL's default cap on the peer's certificate list (SSL_CTX_set_max_cert_list): 100 KiB.
OPENSSL_MAX_CERT_LIST_KIB = 100


def preflight(host: str, ip: str, port: int, timeout: float) -> None:
    """Fail fast and clearly: sslyze needs ~11 x its timeout to give up on a silent host. A handshake cut by a
    reset is made again (a flaky server, or one serving one connection at a time beside the scan's child)."""
    for pause in PREFLIGHT_RESET_PAUSES:
        try:
            return _preflight_once(host, ip, port, timeout)
        except _PreflightReset:
            time.sleep(pause)
    try:
        return _preflight_once(host, ip, port, timeout)
    except _PreflightReset as exc:
        raise TlsUnreachable(
            f"TLS handshake with {ip}:{port} failed: the server reset the connection on every try ({exc}); a "
            "server that serves one connection at a time resets connections made beside another"
        ) from None


PREFLIGHT_RESET_PAUSES = (0.3, 1.0)


class _PreflightReset(Exception):
    pass


def _preflight_once(host: str, ip: str, port: int, timeout: float) -> None:
    try:
        sock = socket.create_connection((ip, port), timeout=timeout)
    except ConnectionRefusedError:
        raise TlsUnreachable(f"connection refused on {ip}:{port}: nothing listens for HTTPS") from None
    except TimeoutError:
        raise TlsUnreachable(f"no TCP answer from {ip}:{port} within {timeout:g} s") from None
    except ConnectionResetError as exc:
        raise _PreflightReset(exc.strerror or str(exc)) from None
    except OSError as exc:
        raise TlsUnreachable(f"cannot connect to {ip}:{port}: {exc.strerror or exc}") from None

    try:
        with insecure_tls_context().wrap_socket(sock, server_hostname=host):
            pass
    except TimeoutError:
        raise TlsUnreachable(
            f"{ip}:{port} accepted the connection but sent no TLS answer within {timeout:g} s"
        ) from None
    except ssl.SSLError as exc:
        # An old-protocol-only server can still fail here; sslyze knows more protocols, so let it try.
        kinds = openssl_error_kinds(exc)
        if WRONG_VERSION_NUMBER in kinds or RECORD_LAYER_FAILURE in kinds:
            raise TlsUnreachable(f"{ip}:{port} does not speak TLS (is it plain HTTP?)") from None
        if CERTIFICATE_TOO_LARGE in kinds:
            raise TlsUnreachable(
                f"the TLS handshake with {ip}:{port} failed: the server's certificate is too large for OpenSSL "
                f"(its certificate message exceeds the {OPENSSL_MAX_CERT_LIST_KIB} KiB OpenSSL accepts), so "
                "most clients cannot connect; serve a certificate with fewer names"
            ) from None
    except OSError as exc:
        if isinstance(exc, ConnectionResetError):
            raise _PreflightReset(exc.strerror or str(exc)) from None
        raise TlsUnreachable(f"TLS handshake with {ip}:{port} failed: {exc.strerror or exc}") from None
    finally:
        sock.close()
