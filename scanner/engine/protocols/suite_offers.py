"""Offering cipher suites: one protocol's suites offered together, the server's pick removed, offered again.

The mechanics of the adaptive enumeration (scanner/engine/adaptive.py runs them for every protocol): sslyze's
own clients and suite tables, a handshake budget per address, and the fallback to one suite per handshake when
the server answers inconsistently. Also the engine's table of protocols: our names and sslyze's commands.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cache

from nassl.legacy_ssl_client import LegacySslClient
from nassl.ssl_client import ClientCertificateRequested, OpenSslVerifyEnum, OpenSslVersionEnum
from sslyze import (
    CipherSuiteAcceptedByServer,
    CipherSuiteRejectedByServer,
)
from sslyze.connection_helpers.tls_connection import NoCiphersAvailableBugInSSlyze
from sslyze.errors import (
    ConnectionToServerTimedOut,
    ServerRejectedConnection,
    ServerRejectedTlsHandshake,
    ServerTlsConfigurationNotSupported,
    TlsHandshakeTimedOut,
)
from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuite, CipherSuitesRepository
from sslyze.plugins.openssl_cipher_suites.implementation import CipherSuitesScanResult
from sslyze.server_connectivity import (
    ServerConnectivityInfo,
    TlsVersionEnum,
)

from scanner.engine.runtime.resets import is_reset, retried
from scanner.engine.runtime.short_handshake import chosen_suite, stop_at_server_key_exchange
from scanner.engine.runtime.sslyze_compat import OpenSSLError, connect_with_cipher_suite, set_cipher_suite_string

logger = logging.getLogger(__name__)

NOT_CHOSEN = "not chosen by the server when offered together with the remaining suites"


class Inconsistent(Exception):
    """The server did something a stable TLS stack would not do; enumerate this protocol suite by suite."""


@dataclass
class Budget:
    """The connection budget of one scan: how many handshakes the enumeration may open, and until when.

    A server that stalls mid-scan makes every handshake wait for the timeout; the deadline keeps the per-suite
    fallback from turning that into minutes. Past either limit, what is left is "not measured", never "refused".
    """

    limit: int | None = None
    seconds: float | None = None
    used: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _started: float = field(default_factory=time.monotonic, repr=False)

    def take(self) -> None:
        with self._lock:
            if self.limit is not None and self.used >= self.limit:
                raise BudgetExhausted(f"the connection budget of {self.limit} handshakes is used up")
            if self.seconds is not None and time.monotonic() - self._started > self.seconds:
                raise BudgetExhausted(f"the enumeration's time budget of {self.seconds:g} s is used up")
            self.used += 1


class BudgetExhausted(Exception):
    pass


# What ends a chain as "not measured cleanly" rather than as a bug: the protocol's outcome is then this error, or
# (for Inconsistent) its suite-by-suite enumeration.
CHAIN_ERRORS = (Inconsistent, BudgetExhausted, ServerRejectedConnection, OSError)


@cache
def _legacy_tls12_names() -> frozenset[str]:
    # Same rule as sslyze's WorkaroundForTls12ForCipherSuites, computed once instead of once per suite.
    client = LegacySslClient(ssl_version=OpenSslVersionEnum.TLSV1_2, ssl_verify=OpenSslVerifyEnum.NONE)
    client.set_cipher_list("ALL:COMPLEMENTOFALL")
    return frozenset(client.get_cipher_list())


@cache
def _groups(version: TlsVersionEnum) -> tuple[tuple[bool, tuple[CipherSuite, ...]], ...]:
    """The candidate suites, split by the nassl build sslyze uses for them: (use_legacy_openssl, suites)."""
    candidates = tuple(sorted(CipherSuitesRepository.get_all_cipher_suites(version), key=lambda suite: suite.name))
    if version == TlsVersionEnum.TLS_1_3:
        return ((False, candidates),)
    if version != TlsVersionEnum.TLS_1_2:
        return ((True, candidates),)
    legacy = _legacy_tls12_names()
    return (
        (False, tuple(suite for suite in candidates if suite.openssl_name not in legacy)),
        (True, tuple(suite for suite in candidates if suite.openssl_name in legacy)),
    )


def _offer(
    info: ServerConnectivityInfo, version: TlsVersionEnum, use_legacy: bool, offered: list[CipherSuite], budget: Budget
) -> CipherSuiteAcceptedByServer | None:
    """One handshake offering `offered`; the suite the server chose, or None when it refused them all. A
    handshake cut by a reset is made again before a refusal is believed (resets.retried)."""
    try:
        return retried(lambda: _offer_once(info, version, use_legacy, offered, budget))
    except ServerRejectedTlsHandshake:  # reset on every try: the server refuses by resetting
        return None


def _offer_once(
    info: ServerConnectivityInfo, version: TlsVersionEnum, use_legacy: bool, offered: list[CipherSuite], budget: Budget
) -> CipherSuiteAcceptedByServer | None:
    budget.take()
    connection = info.get_preconfigured_tls_connection(
        override_tls_version=version, should_use_legacy_openssl=use_legacy
    )
    set_cipher_suite_string(version, ":".join(suite.openssl_name for suite in offered), connection.ssl_client)
    stop_at_server_key_exchange(connection, version, info)
    ephemeral_key = None
    try:
        connection.connect()
        ephemeral_key = connection.ssl_client.get_ephemeral_key()
    except (ServerTlsConfigurationNotSupported, ClientCertificateRequested):
        # Past the ServerHello (our OpenSSL refused the server's DH key, or the server wants a client
        # certificate): the suite was accepted, as sslyze counts it.
        pass
    except ServerRejectedTlsHandshake as exc:
        if is_reset(exc):
            raise  # for _offer to try again
        return None
    except NoCiphersAvailableBugInSSlyze:
        # None of the remaining candidates exists in this protocol version for OpenSSL (e.g. SHA-256 suites
        # in TLS 1.0): nothing left to offer, exactly the suites sslyze's enumeration skips.
        return None
    except (TlsHandshakeTimedOut, ConnectionToServerTimedOut) as exc:
        raise Inconsistent(f"a handshake timed out ({exc.error_message})") from None
    except OpenSSLError as exc:
        # An error sslyze's connect() does not sort: leave this protocol to sslyze's own one-suite handshakes.
        raise Inconsistent(f"a handshake failed unexpectedly ({exc})") from None
    finally:
        connection.close()
    iana_name = chosen_suite(connection.ssl_client)
    chosen_name = connection.ssl_client.get_current_cipher_name()
    for suite in offered:
        if suite.name == iana_name or suite.openssl_name == chosen_name:
            return CipherSuiteAcceptedByServer(cipher_suite=suite, ephemeral_key=ephemeral_key)
    by_rfc = {suite.name: suite for suite in offered}
    for repository_suite in CipherSuitesRepository.get_all_cipher_suites(version):
        if repository_suite.openssl_name == chosen_name and repository_suite.name in by_rfc:
            return CipherSuiteAcceptedByServer(cipher_suite=by_rfc[repository_suite.name], ephemeral_key=ephemeral_key)
    raise Inconsistent(f"the server chose {iana_name or chosen_name or 'an unknown suite'}, which was not offered")


def _enumerate_group(
    info: ServerConnectivityInfo,
    version: TlsVersionEnum,
    use_legacy: bool,
    candidates: list[CipherSuite],
    budget: Budget,
    on_pick: Callable[[TlsVersionEnum, CipherSuite], None] | None = None,
) -> list[CipherSuiteAcceptedByServer]:
    """The suites the server accepts from `candidates`, in the order it picked them."""
    remaining = list(candidates)
    accepted: list[CipherSuiteAcceptedByServer] = []
    while remaining:
        chosen = _offer(info, version, use_legacy, remaining, budget)
        if chosen is None:
            break
        accepted.append(chosen)
        remaining = [suite for suite in remaining if suite is not chosen.cipher_suite]
        if on_pick is not None:
            on_pick(version, chosen.cipher_suite)
    return accepted


def _per_suite(
    info: ServerConnectivityInfo, version: TlsVersionEnum, budget: Budget, pool: Executor
) -> CipherSuitesScanResult:
    """sslyze's own enumeration: one handshake per candidate suite."""
    candidates = sorted(CipherSuitesRepository.get_all_cipher_suites(version), key=lambda suite: suite.name)

    def test_once(suite: CipherSuite) -> CipherSuiteAcceptedByServer | CipherSuiteRejectedByServer | None:
        budget.take()
        try:
            return connect_with_cipher_suite(info, version, suite)
        except NoCiphersAvailableBugInSSlyze:
            return None  # not usable in this version; sslyze's enumeration skips it the same way

    def test(suite: CipherSuite) -> CipherSuiteAcceptedByServer | CipherSuiteRejectedByServer | None:
        # sslyze calls a reset handshake a rejected suite: made again first (resets.retried notices the reset).
        return retried(lambda: test_once(suite))

    outcomes = list(pool.map(test, candidates))
    return CipherSuitesScanResult(
        tls_version_used=version,
        accepted_cipher_suites=[o for o in outcomes if isinstance(o, CipherSuiteAcceptedByServer)],
        rejected_cipher_suites=[o for o in outcomes if isinstance(o, CipherSuiteRejectedByServer)],
    )


def _result(
    version: TlsVersionEnum, accepted: list[CipherSuiteAcceptedByServer], list_unchosen: bool = True
) -> CipherSuitesScanResult:
    chosen = {item.cipher_suite.name for item in accepted}
    # Sorted as sslyze sorts them, so both enumerations produce identical reports.
    accepted = sorted(accepted, key=lambda item: item.cipher_suite.name, reverse=True)
    rejected = (
        [
            CipherSuiteRejectedByServer(cipher_suite=suite, error_message=NOT_CHOSEN)
            for _, candidates in _groups(version)
            for suite in candidates
            if suite.name not in chosen
        ]
        if list_unchosen
        else []
    )
    return CipherSuitesScanResult(
        tls_version_used=version, accepted_cipher_suites=accepted, rejected_cipher_suites=rejected
    )
