"""What the scan learns before it starts: sslyze's connectivity test, and whether the server serves more than one
connection at a time.

sslyze's test (check_connectivity_to_server) asks one question after another: a TLS 1.3 handshake; if that is
refused, TLS 1.2, then older versions; and, when the negotiated suite does not name an ECDH key exchange, one more
handshake to learn whether the server can do one. TLS 1.3 suites never name their key exchange, so every TLS 1.3
server gets that extra handshake. The engine then asked, with two more handshakes, whether the server answers a
second connection while one is open. Behind a real network each answer costs one or two round trips, and nothing
else runs meanwhile.

`probe_at_once` starts the three likely questions together: TLS 1.3, TLS 1.2, and ECDH with TLS 1.3. sslyze's
answer is read from them: TLS 1.3 when accepted, else TLS 1.2. Three connections that were open at the same
time, all answered without a reset or a timeout, also settle the concurrency question. The TLS 1.2 question
ends its handshake at the server's first flight (runtime/short_handshake.py): its answer, the version and the
suite the server picks, is in the ServerHello, and on a TLS 1.2 server this question is the one the whole scan
waits for; a full handshake would add the client's key exchange and a round trip.

Anything unusual sends the scan back to the old way, one question after another, which gives exactly sslyze's
answers: a reset, a timeout or an unexpected error on one connection; neither TLS 1.3 nor TLS 1.2 accepted; a
server that asks for a client certificate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from nassl.ssl_client import ClientCertificateRequested
from sslyze import ServerNetworkConfiguration, ServerNetworkLocation
from sslyze.connection_helpers.tls_connection import SslConnection
from sslyze.errors import ConnectionToServerFailed, ConnectionToServerTimedOut, TlsHandshakeFailed, TlsHandshakeTimedOut
from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuitesRepository
from sslyze.server_connectivity import (
    ClientAuthRequirementEnum,
    ServerConnectivityInfo,
    ServerTlsProbingResult,
    TlsVersionEnum,
)

from scanner.engine.runtime import resets
from scanner.engine.runtime.short_handshake import chosen_suite, end_before_key_exchange
from scanner.engine.runtime.sslyze_compat import (
    OpenSSLError,
    TlsVersionDetectionResult,
    TlsVersionNotSupported,
    detect_ecdh_support,
    detect_tls_1_3,
)

CONNECTIONS_AT_ONCE = 3  # what `probe_at_once` opens at the same time


def probe_at_once(
    location: ServerNetworkLocation, network: ServerNetworkConfiguration
) -> ServerTlsProbingResult | None:
    """sslyze's probing result, from three handshakes started together; None when the old way must ask (see the
    module's docstring). Raises sslyze's connection error when every handshake failed to connect the same way (a
    server that never answers fails in one timeout, as with sslyze's own test)."""
    tls13, tls12, ecdh13 = _at_once(
        network.network_timeout,
        lambda: detect_tls_1_3(location, network),
        lambda: tls_1_2_from_the_server_hello(location, network),
        lambda: detect_ecdh_support(location, network, TlsVersionEnum.TLS_1_3),
    )
    outcomes = [tls13, tls12, ecdh13]
    if all(isinstance(o, ConnectionToServerTimedOut) for o in outcomes):
        raise tls13  # what sslyze's own test raises, after one timeout instead of several
    if any(
        o is _NOT_BELIEVED or (isinstance(o, Exception) and not isinstance(o, TlsVersionNotSupported)) for o in outcomes
    ):
        return None
    found = tls13 if not isinstance(tls13, Exception) else tls12
    if isinstance(found, Exception) or found.server_requested_client_cert:
        return None
    if "ECDH" in found.cipher_suite_supported:
        ecdh = True
    elif found.tls_version_supported == TlsVersionEnum.TLS_1_3:
        ecdh = ecdh13
    else:
        ecdh = resets.retried(lambda: detect_ecdh_support(location, network, found.tls_version_supported))
    return ServerTlsProbingResult(
        highest_tls_version_supported=found.tls_version_supported,
        cipher_suite_supported=found.cipher_suite_supported,
        client_auth_requirement=ClientAuthRequirementEnum.DISABLED,
        supports_ecdh_key_exchange=ecdh,
    )


def tls_1_2_from_the_server_hello(
    location: ServerNetworkLocation, network: ServerNetworkConfiguration
) -> TlsVersionDetectionResult:
    """sslyze's TLS 1.2 question (`_detect_support_for_tls_1_2_or_below`: OpenSSL's default suites, then all of them, for
    front ends that choke on a long ClientHello), each handshake ended at the server's first flight. Raises
    what sslyze's raises; a ServerHello naming a suite sslyze does not know raises UnknownSuite."""
    for cipher_list in ("DEFAULT", "ALL:COMPLEMENTOFALL:-PSK:-SRP"):
        connection = SslConnection(
            server_location=location,
            network_configuration=network,
            tls_version=TlsVersionEnum.TLS_1_2,
            should_ignore_client_auth=False,
        )
        connection.ssl_client.set_cipher_list(cipher_list)
        end_before_key_exchange(connection, certificate_request_raises=True)
        try:
            connection.connect(should_retry_connection=False)
            chosen = chosen_suite(connection.ssl_client)
            suite = _OPENSSL_NAMES.get(chosen)
            if suite is None:
                raise UnknownSuite(f"the server chose {chosen}")
            return TlsVersionDetectionResult(
                tls_version_supported=TlsVersionEnum.TLS_1_2,
                server_requested_client_cert=False,
                cipher_suite_supported=suite,
            )
        except ClientCertificateRequested:
            return TlsVersionDetectionResult(
                tls_version_supported=TlsVersionEnum.TLS_1_2,
                server_requested_client_cert=True,
                cipher_suite_supported=cipher_list,
            )
        except TlsHandshakeFailed:
            continue
        except (OSError, OpenSSLError) as exc:
            raise ConnectionToServerFailed(
                server_location=location,
                network_configuration=network,
                error_message=f'Unexpected connection error: "{exc.args}"',
            ) from None
        finally:
            connection.close()
    raise TlsVersionNotSupported()


class UnknownSuite(Exception):
    """A ServerHello named a suite missing from sslyze's tables: the old way asks (with a full handshake)."""


# sslyze keeps the suite a probing handshake agreed on under OpenSSL's name; the ServerHello gives the IANA one.
_OPENSSL_NAMES = {
    suite.name: suite.openssl_name for suite in CipherSuitesRepository.get_all_cipher_suites(TlsVersionEnum.TLS_1_2)
}


# A question whose connection was reset, or that waited out its whole timeout (sslyze takes a timed-out
# handshake for a refused version): its answer says nothing about the server alone.
_NOT_BELIEVED = object()


def _at_once(timeout: float, *questions: Callable[[], object]) -> list[object]:
    """Each question's answer (or the exception it raised; `_NOT_BELIEVED`, see above), all asked at the same
    time, each on its own connection."""
    answers = []
    for answer, reset, seconds in _together(*questions):
        if isinstance(answer, ConnectionToServerTimedOut):
            answers.append(answer)  # no connection at all: the caller tells a silent server from a one-off
        elif reset or seconds >= timeout:
            answers.append(_NOT_BELIEVED)
        else:
            answers.append(answer)
    return answers


def _together(*calls: Callable[[], object]) -> list[tuple[object, bool, float]]:
    """Each call's return value (or the exception it raised), whether its connection was reset, and its seconds;
    all started at the same moment, each in a thread of its own, and all ended when this returns. Their resets
    are the question asked, not a measurement gone wrong: counted apart (resets.watching)."""
    outcomes: list[tuple[object, bool, float]] = [(None, False, 0.0)] * len(calls)

    def run(index: int) -> None:
        started = time.monotonic()
        with resets.watching() as scope:
            try:
                answer = calls[index]()
            except Exception as exc:  # noqa: BLE001 - sorted by the caller
                answer = exc
        reset = bool(scope.resets) or (isinstance(answer, Exception) and resets.is_reset(answer))
        outcomes[index] = (answer, reset, time.monotonic() - started)

    beside = [threading.Thread(target=run, args=(n,), name="at-once", daemon=True) for n in range(1, len(calls))]
    for thread in beside:
        thread.start()
    run(0)
    for thread in beside:
        thread.join()
    return outcomes


def one_connection_only(info: ServerConnectivityInfo) -> bool:
    """True when the server resets (or leaves unanswered) a second handshake while a first connection is open,
    and answers again once it is closed: a server, or a middlebox, that serves one connection at a time.

    Two handshakes are made at once first: when both complete (almost every server) that took one round trip
    instead of two one after the other. Otherwise it is asked one connection after the other."""
    with resets.watching():  # these resets are the question asked, not a measurement gone wrong
        together = _two_at_once(info)
        opened = [outcome for outcome in together if isinstance(outcome, SslConnection)]
        for connection in opened:
            connection.close()
        if len(opened) == 2:
            return False
        if len(opened) == 1:
            # The other failed while this one was open: the same observation as a second connection failing.
            if not _refused_as_a_second(next(o for o in together if not isinstance(o, SslConnection))):
                return False
        elif not _second_refused_one_after_the_other(info):
            return False
        # Alone again (the server may take a moment to notice the first connection closed): it answers.
        third = _first_connection(info)
        if third is None:  # not answering alone either: not a concurrency limit
            return False
        third.close()
    return True


def _two_at_once(info: ServerConnectivityInfo) -> list[SslConnection | Exception]:
    """Two handshakes started together, the connection left open or the error, each; both have ended (and the
    open ones are still open) when this returns."""

    def connect() -> SslConnection:
        connection = info.get_preconfigured_tls_connection()
        try:
            connection.connect(should_retry_connection=False)
        except Exception:
            connection.close()
            raise
        return connection

    return [answer for answer, _, _ in _together(connect, connect)]


def _refused_as_a_second(exc: Exception) -> bool:
    return resets.is_reset(exc) or isinstance(exc, ConnectionToServerTimedOut | TlsHandshakeTimedOut)


def _second_refused_one_after_the_other(info: ServerConnectivityInfo) -> bool:
    """A first connection made alone, then a second while it is open: True when the second is reset or times
    out. False when the first cannot be made (cannot tell; the scan finds out the usual way)."""
    first = _first_connection(info)
    if first is None:
        return False
    try:
        second = info.get_preconfigured_tls_connection()
        try:
            second.connect(should_retry_connection=False)
            return False
        except Exception as exc:  # noqa: BLE001 - sorted below
            return _refused_as_a_second(exc)
        finally:
            second.close()
    finally:
        first.close()


def _first_connection(info: ServerConnectivityInfo, tries: int = 3) -> SslConnection | None:
    """A connection made alone, for the one-connection check. The HTTP probe runs beside the TLS scan and may hold
    the server's only connection at that moment, and a server takes a moment to notice a closed one: a reset is
    tried again after a pause, a few times."""
    for attempt in range(tries):
        connection = info.get_preconfigured_tls_connection()
        try:
            connection.connect(should_retry_connection=False)
            return connection
        except Exception as exc:  # noqa: BLE001 - only a reset is worth another try
            connection.close()
            if not resets.is_reset(exc) or attempt == tries - 1:
                return None
            time.sleep(0.2 * (attempt + 1))
    return None
