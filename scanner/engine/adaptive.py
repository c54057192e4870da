"""Adaptive cipher-suite enumeration: about one handshake per accepted suite instead of one per known suite.

Per protocol, offer every candidate suite, note the one the server picks, remove it and offer the rest again,
until the server refuses the handshake. The candidates, the clients (modern or legacy nassl, per suite for
TLS 1.2) and their configuration are exactly sslyze's own (`get_preconfigured_tls_connection`,
`CipherSuitesRepository`), so the only difference from sslyze's enumeration is how many suites one
ClientHello carries. The results are sslyze's own `CipherSuitesScanResult` objects, injected into the
`ServerScanResult` of a sslyze run of every *other* command, so everything downstream (our `TlsResult`, the
Mozilla profile check) reads them unchanged.

When the server behaves inconsistently (a handshake times out, it picks a suite that was not offered, or it
refuses on its own a suite it just accepted) that protocol is enumerated again suite by suite with sslyze's
own `connect_with_cipher_suite`, which is what sslyze's full enumeration does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache

from nassl._nassl import OpenSSLError
from nassl.ephemeral_key_info import _OPENSSL_NID_TO_SECG_ANSI_X9_62, EcDhEphemeralKeyInfo, OpenSslEcNidEnum
from nassl.legacy_ssl_client import LegacySslClient
from nassl.ssl_client import ClientCertificateRequested, OpenSslVerifyEnum, OpenSslVersionEnum
from sslyze import (
    ScanCommand,
    ScanCommandAttemptStatusEnum,
    ScanCommandErrorReasonEnum,
    ServerScanRequest,
    ServerScanResult,
    ServerScanStatusEnum,
)
from sslyze.connection_helpers.tls_connection import NoCiphersAvailableBugInSSlyze
from sslyze.errors import (
    ConnectionToServerTimedOut,
    ServerRejectedConnection,
    ServerRejectedTlsHandshake,
    ServerTlsConfigurationNotSupported,
    TlsHandshakeTimedOut,
)
from sslyze.plugins.elliptic_curves_plugin import EllipticCurve, SupportedEllipticCurvesScanResult, _test_curve
from sslyze.plugins.openssl_cipher_suites._test_cipher_suite import (
    CipherSuiteAcceptedByServer,
    CipherSuiteRejectedByServer,
    _set_cipher_suite_string,
    connect_with_cipher_suite,
)
from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuite, CipherSuitesRepository
from sslyze.plugins.openssl_cipher_suites.implementation import CipherSuitesScanResult
from sslyze.scanner.models import CipherSuitesScanAttempt, SupportedEllipticCurvesScanAttempt
from sslyze.server_connectivity import ServerConnectivityInfo, TlsVersionEnum, enable_ecdh_cipher_suites

from .sslyze_runner import run_scan

logger = logging.getLogger(__name__)

# Our protocol names -> sslyze's version enum and scan command (the attribute of AllScanCommandsAttempts).
VERSIONS: dict[TlsVersionEnum, ScanCommand] = {
    TlsVersionEnum.SSL_2_0: ScanCommand.SSL_2_0_CIPHER_SUITES,
    TlsVersionEnum.SSL_3_0: ScanCommand.SSL_3_0_CIPHER_SUITES,
    TlsVersionEnum.TLS_1_0: ScanCommand.TLS_1_0_CIPHER_SUITES,
    TlsVersionEnum.TLS_1_1: ScanCommand.TLS_1_1_CIPHER_SUITES,
    TlsVersionEnum.TLS_1_2: ScanCommand.TLS_1_2_CIPHER_SUITES,
    TlsVersionEnum.TLS_1_3: ScanCommand.TLS_1_3_CIPHER_SUITES,
}
CIPHER_COMMANDS = frozenset(VERSIONS.values())
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


@cache
def _legacy_tls12_names() -> frozenset[str]:
    # Same rule as sslyze's WorkaroundForTls12ForCipherSuites, computed once instead of once per suite.
    client = LegacySslClient(ssl_version=OpenSslVersionEnum.TLSV1_2, ssl_verify=OpenSslVerifyEnum.NONE)
    client.set_cipher_list("ALL:COMPLEMENTOFALL")
    return frozenset(client.get_cipher_list())


def _groups(version: TlsVersionEnum) -> list[tuple[bool, list[CipherSuite]]]:
    """The candidate suites, split by the nassl build sslyze uses for them: (use_legacy_openssl, suites)."""
    candidates = sorted(CipherSuitesRepository.get_all_cipher_suites(version), key=lambda suite: suite.name)
    if version == TlsVersionEnum.TLS_1_3:
        return [(False, candidates)]
    if version != TlsVersionEnum.TLS_1_2:
        return [(True, candidates)]
    legacy = _legacy_tls12_names()
    return [
        (False, [suite for suite in candidates if suite.openssl_name not in legacy]),
        (True, [suite for suite in candidates if suite.openssl_name in legacy]),
    ]


def _offer(
    info: ServerConnectivityInfo, version: TlsVersionEnum, use_legacy: bool, offered: list[CipherSuite], budget: Budget
) -> CipherSuiteAcceptedByServer | None:
    """One handshake offering `offered`; the suite the server chose, or None when it refused them all."""
    budget.take()
    connection = info.get_preconfigured_tls_connection(override_tls_version=version, should_use_legacy_openssl=use_legacy)
    _set_cipher_suite_string(version, ":".join(suite.openssl_name for suite in offered), connection.ssl_client)
    ephemeral_key = None
    try:
        connection.connect()
        ephemeral_key = connection.ssl_client.get_ephemeral_key()
    except (ServerTlsConfigurationNotSupported, ClientCertificateRequested):
        # Past the ServerHello (our OpenSSL refused the server's DH key, or the server wants a client
        # certificate): the suite was accepted, as sslyze counts it.
        pass
    except ServerRejectedTlsHandshake:
        return None
    except NoCiphersAvailableBugInSSlyze:
        # None of the remaining candidates exists in this protocol version for OpenSSL (e.g. SHA-256 suites
        # in TLS 1.0): nothing left to offer, exactly the suites sslyze's enumeration skips.
        return None
    except (TlsHandshakeTimedOut, ConnectionToServerTimedOut) as exc:
        raise Inconsistent(f"a handshake timed out ({exc.error_message})") from None
    finally:
        connection.close()
    chosen_name = connection.ssl_client.get_current_cipher_name()
    for suite in offered:
        if suite.openssl_name == chosen_name:
            return CipherSuiteAcceptedByServer(cipher_suite=suite, ephemeral_key=ephemeral_key)
    by_rfc = {suite.name: suite for suite in offered}
    for repository_suite in CipherSuitesRepository.get_all_cipher_suites(version):
        if repository_suite.openssl_name == chosen_name and repository_suite.name in by_rfc:
            return CipherSuiteAcceptedByServer(cipher_suite=by_rfc[repository_suite.name], ephemeral_key=ephemeral_key)
    raise Inconsistent(f"the server chose {chosen_name or 'an unknown suite'}, which was not offered")


def _enumerate_group(
    info: ServerConnectivityInfo, version: TlsVersionEnum, use_legacy: bool, candidates: list[CipherSuite],
    budget: Budget,
) -> list[CipherSuiteAcceptedByServer]:
    remaining = list(candidates)
    accepted: list[CipherSuiteAcceptedByServer] = []
    while remaining:
        chosen = _offer(info, version, use_legacy, remaining, budget)
        if chosen is None:
            break
        accepted.append(chosen)
        remaining.remove(chosen.cipher_suite)
    if accepted:
        # The first suite it picked must still be accepted alone: a server that starts refusing (rate limit,
        # IDS) has made the refusal that ended the loop meaningless.
        again = _offer(info, version, use_legacy, [accepted[0].cipher_suite], budget)
        if again is None:
            raise Inconsistent(f"the server refused {accepted[0].cipher_suite.name} alone after accepting it")
    return accepted


def _per_suite(
    info: ServerConnectivityInfo, version: TlsVersionEnum, budget: Budget, workers: int
) -> CipherSuitesScanResult:
    """sslyze's own enumeration: one handshake per candidate suite."""
    candidates = sorted(CipherSuitesRepository.get_all_cipher_suites(version), key=lambda suite: suite.name)

    def test(suite: CipherSuite):
        budget.take()
        try:
            return connect_with_cipher_suite(info, version, suite)
        except NoCiphersAvailableBugInSSlyze:
            return None  # not usable in this version; sslyze's enumeration skips it the same way

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(test, candidates))
    return CipherSuitesScanResult(
        tls_version_used=version,
        accepted_cipher_suites=[o for o in outcomes if isinstance(o, CipherSuiteAcceptedByServer)],
        rejected_cipher_suites=[o for o in outcomes if isinstance(o, CipherSuiteRejectedByServer)],
    )


def enumerate_version(
    info: ServerConnectivityInfo, version: TlsVersionEnum, *, budget: Budget | None = None, workers: int = 4,
    on_fallback: Callable[[TlsVersionEnum, str], None] | None = None,
) -> CipherSuitesScanResult:
    outcome = enumerate_all(info, [version], budget=budget, workers=workers, on_fallback=on_fallback)[version]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _result(version: TlsVersionEnum, accepted: list[CipherSuiteAcceptedByServer]) -> CipherSuitesScanResult:
    chosen = {item.cipher_suite for item in accepted}
    # Sorted as sslyze sorts them, so both enumerations produce identical reports.
    accepted = sorted(accepted, key=lambda item: item.cipher_suite.name, reverse=True)
    rejected = [
        CipherSuiteRejectedByServer(cipher_suite=suite, error_message=NOT_CHOSEN)
        for _, candidates in _groups(version) for suite in candidates if suite not in chosen
    ]
    return CipherSuitesScanResult(tls_version_used=version, accepted_cipher_suites=accepted,
                                  rejected_cipher_suites=rejected)


def enumerate_all(
    info: ServerConnectivityInfo, versions: Iterable[TlsVersionEnum] = VERSIONS, *, workers: int = 4,
    budget: Budget | None = None, with_curves: bool = False,
    on_fallback: Callable[[TlsVersionEnum, str], None] | None = None,
) -> dict[TlsVersionEnum | str, CipherSuitesScanResult | SupportedEllipticCurvesScanResult | Exception]:
    """Every protocol (and the curves), `workers` handshakes at a time.

    Each (protocol, nassl build) pair is one sequential chain of handshakes; chains run side by side. A protocol
    whose chain saw the server behave inconsistently is then enumerated suite by suite.
    """
    budget = budget or Budget()
    versions = list(versions)
    chains = [(version, legacy, candidates) for version in versions for legacy, candidates in _groups(version)
              if candidates]
    # TLS 1.2 chains are the longest on real servers: start them first so they do not finish last.
    chains.sort(key=lambda chain: chain[0] != TlsVersionEnum.TLS_1_2)

    def run_chain(chain):
        try:
            return _enumerate_group(info, *chain, budget)
        except (Inconsistent, BudgetExhausted, ServerRejectedConnection, OSError) as exc:
            return exc

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        curves = pool.submit(_curves_or_error, info, budget) if with_curves else None
        chain_outcomes = list(pool.map(run_chain, chains))
        outcomes: dict = {"curves": curves.result()} if curves else {}

    by_version: dict[TlsVersionEnum, list] = {version: [] for version in versions}
    for (version, _, _), outcome in zip(chains, chain_outcomes, strict=True):
        by_version[version].append(outcome)
    for version, results in by_version.items():
        errors = [r for r in results if isinstance(r, Exception)]
        inconsistent = next((e for e in errors if isinstance(e, Inconsistent)), None)
        if inconsistent is not None:
            logger.info("%s: adaptive enumeration of %s fell back to one suite per handshake: %s",
                        info.server_location.hostname, version.name, inconsistent)
            if on_fallback is not None:
                on_fallback(version, str(inconsistent))
            try:
                outcomes[version] = _per_suite(info, version, budget, workers)
            except (BudgetExhausted, ServerRejectedConnection, OSError) as exc:
                outcomes[version] = exc
        elif errors:
            outcomes[version] = errors[0]
        else:
            outcomes[version] = _result(version, [item for r in results for item in r])
    return outcomes


def run_adaptive_scan(
    request: ServerScanRequest, *, per_server_connections: int = 4, connection_budget: int | None = None,
    deadline: float | None = None,
) -> ServerScanResult:
    """sslyze for every other command, then the adaptive cipher-suite and curve enumeration, in one result."""
    replaced = CIPHER_COMMANDS | {ScanCommand.ELLIPTIC_CURVES}
    wanted = set(request.scan_commands) & replaced
    others = replace(request, scan_commands=set(request.scan_commands) - replaced)
    started = time.monotonic()
    server_result = run_scan(others, per_server_connections=per_server_connections, deadline=deadline)
    if server_result.scan_status != ServerScanStatusEnum.COMPLETED or not wanted:
        return server_result
    info = ServerConnectivityInfo(
        server_location=server_result.server_location,
        network_configuration=server_result.network_configuration,
        tls_probing_result=server_result.connectivity_result,
    )
    # One deadline for the whole TLS scan: the enumeration gets what sslyze's commands left of it.
    budget = Budget(connection_budget, None if deadline is None else max(0.0, deadline - (time.monotonic() - started)))
    versions = [version for version, command in VERSIONS.items() if command in wanted]
    outcomes = enumerate_all(info, versions, workers=per_server_connections, budget=budget,
                             with_curves=ScanCommand.ELLIPTIC_CURVES in wanted)
    curves_outcome = outcomes.pop("curves", None)
    attempts = {}
    for version, outcome in outcomes.items():
        attempts[VERSIONS[version].value] = _attempt(CipherSuitesScanAttempt, outcome, version.name)
    if curves_outcome is not None:
        attempts[ScanCommand.ELLIPTIC_CURVES.value] = _attempt(SupportedEllipticCurvesScanAttempt, curves_outcome, "curves")
    logger.debug("%s: adaptive enumeration used %d handshakes", request.server_location.hostname, budget.used)
    return replace(server_result, scan_result=replace(server_result.scan_result, **attempts))


def _curves_or_error(info: ServerConnectivityInfo, budget: Budget):
    try:
        return enumerate_curves(info, budget=budget)
    except (BudgetExhausted, ServerRejectedConnection, OSError, OpenSSLError) as exc:
        return exc


def _attempt(attempt_class, outcome, what: str):
    if isinstance(outcome, Exception):
        logger.warning("adaptive enumeration of %s failed: %s", what, outcome)
        return attempt_class(
            status=ScanCommandAttemptStatusEnum.ERROR, error_reason=_error_reason(outcome), error_trace=None,
            result=None,
        )
    return attempt_class(status=ScanCommandAttemptStatusEnum.COMPLETED, error_reason=None, error_trace=None,
                         result=outcome)


def _error_reason(exc: Exception) -> ScanCommandErrorReasonEnum:
    # Both a used-up budget and a refused connection mean "not measured"; the engine reports it as such.
    return ScanCommandErrorReasonEnum.CONNECTIVITY_ISSUE


# --- elliptic curves: the same idea (offer every curve, remove the one the server used) ---


def _curve(nid: OpenSslEcNidEnum) -> EllipticCurve:
    name = _OPENSSL_NID_TO_SECG_ANSI_X9_62.get(nid, f"unknown-curve-with-openssl-id-{nid.value}")
    return EllipticCurve(name=name, openssl_nid=nid.value)


def _offer_curves(info: ServerConnectivityInfo, offered: list[OpenSslEcNidEnum], budget: Budget) -> OpenSslEcNidEnum | None:
    budget.take()
    version = info.tls_probing_result.highest_tls_version_supported
    connection = info.get_preconfigured_tls_connection(override_tls_version=version, should_use_legacy_openssl=False)
    enable_ecdh_cipher_suites(version, connection.ssl_client)
    connection.ssl_client.set_groups(offered)
    key = None
    try:
        connection.connect()
        key = connection.ssl_client.get_ephemeral_key()
    except ClientCertificateRequested:
        key = connection.ssl_client.get_ephemeral_key()
    except ServerRejectedTlsHandshake:
        return None
    except (TlsHandshakeTimedOut, ConnectionToServerTimedOut) as exc:
        raise Inconsistent(f"a handshake timed out ({exc.error_message})") from None
    except OpenSSLError as exc:
        # What sslyze's own curve test counts as "this curve is refused" (servers answering oddly).
        if any(mark in exc.args[0] for mark in ("unexpected message", "wrong curve")):
            return None
        raise
    finally:
        connection.close()
    if not isinstance(key, EcDhEphemeralKeyInfo):
        return None
    if key.curve not in offered:
        raise Inconsistent(f"the server used curve {key.curve}, which was not offered")
    return OpenSslEcNidEnum(key.curve)


def enumerate_curves(info: ServerConnectivityInfo, *, budget: Budget | None = None) -> SupportedEllipticCurvesScanResult:
    budget = budget or Budget()
    if not info.tls_probing_result.supports_ecdh_key_exchange:
        return SupportedEllipticCurvesScanResult(
            supports_ecdh_key_exchange=False, supported_curves=None, rejected_curves=None
        )
    candidates = list(OpenSslEcNidEnum.get_supported_by_ssl_client())
    remaining = list(candidates)
    accepted: list[OpenSslEcNidEnum] = []
    try:
        while remaining:
            chosen = _offer_curves(info, remaining, budget)
            if chosen is None:
                break
            accepted.append(chosen)
            remaining.remove(chosen)
        if accepted and _offer_curves(info, [accepted[0]], budget) is None:
            raise Inconsistent(f"the server refused curve {accepted[0].name} alone after using it")
    except Inconsistent as exc:
        logger.info("%s: adaptive curve enumeration fell back to one curve per handshake: %s",
                    info.server_location.hostname, exc)
        results = []
        for nid in candidates:
            budget.take()
            results.append(_test_curve(info, nid))
        return SupportedEllipticCurvesScanResult(
            supports_ecdh_key_exchange=True,
            supported_curves=[r.curve for r in results if r.was_accepted_by_server],
            rejected_curves=[r.curve for r in results if not r.was_accepted_by_server],
        )
    return SupportedEllipticCurvesScanResult(
        supports_ecdh_key_exchange=True,
        supported_curves=[_curve(nid) for nid in accepted],
        rejected_curves=[_curve(nid) for nid in candidates if nid not in accepted],
    )
