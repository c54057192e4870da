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

ROBOT runs here too, with sslyze's own test functions, because only the enumeration knows whether it can
apply (an RSA key-exchange suite accepted); and the pick order is handed to the handshake simulation
(`Learned`), which reads most clients' results from it instead of connecting again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from functools import cache
from traceback import TracebackException

from cryptography.hazmat.backends import default_backend
from nassl._nassl import OpenSSLError
from nassl.ephemeral_key_info import _OPENSSL_NID_TO_SECG_ANSI_X9_62, EcDhEphemeralKeyInfo, OpenSslEcNidEnum
from nassl.legacy_ssl_client import LegacySslClient
from nassl.ssl_client import ClientCertificateRequested, OpenSslVerifyEnum, OpenSslVersionEnum
from sslyze import (
    ScanCommand,
    ScanCommandAttemptStatusEnum,
    ScanCommandErrorReasonEnum,
)
from sslyze.connection_helpers.tls_connection import NoCiphersAvailableBugInSSlyze
from sslyze.errors import (
    ConnectionToServerTimedOut,
    ServerRejectedConnection,
    ServerRejectedTlsHandshake,
    ServerTlsConfigurationNotSupported,
    TlsHandshakeTimedOut,
)
from sslyze.plugins.certificate_info.trust_stores.trust_store_repository import TrustStoresRepository
from sslyze.plugins.elliptic_curves_plugin import EllipticCurve, SupportedEllipticCurvesScanResult, _test_curve
from sslyze.plugins.openssl_cipher_suites._test_cipher_suite import (
    CipherSuiteAcceptedByServer,
    CipherSuiteRejectedByServer,
    _set_cipher_suite_string,
    connect_with_cipher_suite,
)
from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuite, CipherSuitesRepository
from sslyze.plugins.openssl_cipher_suites.implementation import CipherSuitesScanResult
from sslyze.plugins.robot._robot_tester import (
    RobotPmsPaddingPayloadEnum,
    RobotScanResultEnum,
    RobotServerResponsesAnalyzer,
    _get_rsa_parameters,
    _send_robot_payload,
)
from sslyze.plugins.robot.implementation import RobotScanResult
from sslyze.scanner.models import CipherSuitesScanAttempt, RobotScanAttempt, SupportedEllipticCurvesScanAttempt
from sslyze.server_connectivity import (
    ServerConnectivityInfo,
    TlsVersionEnum,
    enable_ecdh_cipher_suites,
)

from .pool import URGENT, PriorityPool
from .resets import is_reset, retried
from .short_handshake import chosen_suite, stop_at_server_key_exchange

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
    connection = info.get_preconfigured_tls_connection(override_tls_version=version, should_use_legacy_openssl=use_legacy)
    _set_cipher_suite_string(version, ":".join(suite.openssl_name for suite in offered), connection.ssl_client)
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
    info: ServerConnectivityInfo, version: TlsVersionEnum, use_legacy: bool, candidates: list[CipherSuite],
    budget: Budget, on_pick: Callable[[TlsVersionEnum, CipherSuite], None] | None = None,
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

    def test_once(suite: CipherSuite):
        budget.take()
        try:
            return connect_with_cipher_suite(info, version, suite)
        except NoCiphersAvailableBugInSSlyze:
            return None  # not usable in this version; sslyze's enumeration skips it the same way

    def test(suite: CipherSuite):
        # sslyze calls a reset handshake a rejected suite: made again first (resets.retried notices the reset).
        return retried(lambda: test_once(suite))

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


def _result(version: TlsVersionEnum, accepted: list[CipherSuiteAcceptedByServer],
            list_unchosen: bool = True) -> CipherSuitesScanResult:
    chosen = {item.cipher_suite.name for item in accepted}
    # Sorted as sslyze sorts them, so both enumerations produce identical reports.
    accepted = sorted(accepted, key=lambda item: item.cipher_suite.name, reverse=True)
    rejected = [
        CipherSuiteRejectedByServer(cipher_suite=suite, error_message=NOT_CHOSEN)
        for _, candidates in _groups(version) for suite in candidates if suite.name not in chosen
    ] if list_unchosen else []
    return CipherSuitesScanResult(tls_version_used=version, accepted_cipher_suites=accepted,
                                  rejected_cipher_suites=rejected)


# Our protocol names (results.PROTOCOLS) for what the enumeration learned.
PROTOCOL_NAMES = {
    TlsVersionEnum.SSL_2_0: "SSLv2", TlsVersionEnum.SSL_3_0: "SSLv3", TlsVersionEnum.TLS_1_0: "TLSv1.0",
    TlsVersionEnum.TLS_1_1: "TLSv1.1", TlsVersionEnum.TLS_1_2: "TLSv1.2", TlsVersionEnum.TLS_1_3: "TLSv1.3",
}


@dataclass(frozen=True)
class ChainOrder:
    """One (protocol, nassl build) chain: the suites offered, in our order, and the ones picked, in the server's."""

    legacy_build: bool
    offered: tuple[str, ...]  # IANA names, in the order every ClientHello of the chain listed them
    picked: tuple[str, ...]  # IANA names, in the order the server picked them

    @property
    def server_order(self) -> bool:
        """True when the picks are not in our offer order: the server chose by its own order, not ours."""
        index = {name: position for position, name in enumerate(self.offered)}
        positions = [index[name] for name in self.picked]
        return positions != sorted(positions)


@dataclass
class Learned:
    """What the enumeration saw, for the probes after it (the handshake simulation reads it instead of asking
    the server again). Protocols enumerated suite by suite (fallback) have no order here."""

    chains: dict[str, list[ChainOrder]] = field(default_factory=dict)
    curves: frozenset[int] | None = None  # OpenSSL NIDs of the groups the server accepts; None = not known
    unretried_resets: int = 0  # connections reset where no retry could check the answer (resets.unretried)
    one_connection: bool = False  # the server refused a second connection while one was open: scanned with one


def _is_rsa_key_exchange(name: str) -> bool:
    # OpenSSL's "RSA" cipher string (what sslyze's ROBOT test connects with) is kRSA: TLS_RSA_WITH_*, TLS_RSA_EXPORT_*.
    return name.startswith("TLS_RSA_") and "PSK" not in name


def enumerate_all(
    info: ServerConnectivityInfo, versions: Iterable[TlsVersionEnum] = VERSIONS, *, workers: int = 4,
    budget: Budget | None = None, with_curves: bool = False, with_robot: bool = False,
    on_fallback: Callable[[TlsVersionEnum, str], None] | None = None, learned: Learned | None = None,
) -> dict[TlsVersionEnum | str, CipherSuitesScanResult | SupportedEllipticCurvesScanResult | RobotScanResult
          | Exception]:
    """Every protocol (and the curves, and ROBOT), `workers` handshakes at a time. See `Enumeration`."""
    with PriorityPool(workers) as pool:
        enumeration = Enumeration(info, versions, budget=budget, with_curves=with_curves, with_robot=with_robot,
                                  on_fallback=on_fallback, learned=learned)
        enumeration.start(pool)
        return enumeration.finish()


class Enumeration:
    """The adaptive enumeration of one server, on a pool it shares with the scan's other jobs.

    Each (protocol, nassl build) pair is one sequential chain of handshakes; chains run side by side. Once all
    chains are done, the first suite the server picked is offered alone once more: a server that started
    refusing everything (rate limit, IDS) has made the refusals that ended the chains meaningless, and every
    protocol is then enumerated suite by suite. The ROBOT test starts as soon as its protocol's chains show an
    RSA key-exchange suite, and is skipped when they end without one (it could only report "RSA not supported").
    """

    def __init__(
        self, info: ServerConnectivityInfo, versions: Iterable[TlsVersionEnum] = VERSIONS, *,
        budget: Budget | None = None, with_curves: bool = False, with_robot: bool = False,
        on_fallback: Callable[[TlsVersionEnum, str], None] | None = None, learned: Learned | None = None,
        list_unchosen: bool = True,
    ) -> None:
        """`list_unchosen=False` leaves the suites no handshake picked out of `rejected_cipher_suites` (a few
        hundred records per protocol that nothing reads; the scan's child would only pickle them)."""
        self.info = info
        self.list_unchosen = list_unchosen
        self.budget = budget or Budget()
        self.versions = list(versions)
        self.with_curves, self.with_robot = with_curves, with_robot
        self.on_fallback, self.learned = on_fallback, learned
        self.chains = [(version, legacy, candidates) for version in self.versions
                       for legacy, candidates in _groups(version) if candidates]
        # TLS 1.2 chains are the longest on real servers: start them first so they do not finish last.
        self.chains.sort(key=lambda chain: chain[0] != TlsVersionEnum.TLS_1_2)
        highest = info.tls_probing_result.highest_tls_version_supported
        self.robot_version = TlsVersionEnum.TLS_1_2 if highest.value >= TlsVersionEnum.TLS_1_3.value else highest
        self._robot_lock = threading.Lock()
        self._robot_job: list[Future] = []
        self._pool: PriorityPool | None = None
        self._chain_jobs: list[Future] = []
        self._curves_job: Future | None = None

    def start(self, pool: PriorityPool) -> None:
        """Queue every chain (longest first, ahead of anything else on `pool`) and the curves; returns at once."""
        self._pool = pool
        self._chain_jobs = [pool.submit_at(URGENT, self._run_chain, chain) for chain in self.chains]
        if self.with_curves:
            # Urgent too: the simulation needs the curves, and their chain is half a dozen handshakes long.
            self._curves_job = pool.submit_at(URGENT, _curves_or_error, self.info, self.budget, False)

    def robot_result(self):
        """ROBOT's outcome once its test has ended (after `finish`); "RSA not supported" when it never ran."""
        robot = self._robot_job[0].result() if self._robot_job else None
        return robot or RobotScanResult(robot_result=RobotScanResultEnum.NOT_VULNERABLE_RSA_NOT_SUPPORTED)

    def _start_robot(self) -> None:
        with self._robot_lock:
            if not self._robot_job:
                self._robot_job.append(self._pool.submit_at(
                    URGENT, _robot_or_error, self.info, self.robot_version, self.budget, self._run_all))

    def _run_all(self, function: Callable, items: list) -> list:
        """ROBOT's payloads side by side on the pool; one after the other when the pool has a single thread
        (the ROBOT job itself holds it, so waiting for the pool would never end)."""
        if self._pool.workers < 2:
            return _one_after_another(function, items)
        return [job.result() for job in [self._pool.submit_at(URGENT, function, item) for item in items]]

    def _on_pick(self, version: TlsVersionEnum, suite: CipherSuite) -> None:
        # Any protocol's RSA key exchange starts the test: it then learns for itself whether its own protocol
        # has one (sslyze's answer when not: "RSA not supported"), and it starts long before the TLS 1.2
        # chains, where servers rank RSA key exchange last, reach it.
        if self.with_robot and _is_rsa_key_exchange(suite.name):
            self._start_robot()

    def _run_chain(self, chain):
        try:
            return _enumerate_group(self.info, *chain, self.budget, self._on_pick)
        except (Inconsistent, BudgetExhausted, ServerRejectedConnection, OSError) as exc:
            return exc

    def finish(self, *, with_robot_result: bool = True) -> dict:
        """Wait for the chains, confirm, run what must follow them; every protocol's outcome (and curves, and
        ROBOT unless `with_robot_result` is False: then `robot_result()` gives it later, so what only needs the
        suites, such as the simulation, does not wait for ROBOT's last payloads)."""
        info, budget = self.info, self.budget
        chains = self.chains
        chain_outcomes = [job.result() for job in self._chain_jobs]
        robot_chains = [o for (v, _, _), o in zip(chains, chain_outcomes, strict=True) if v == self.robot_version]
        if self.with_robot and any(isinstance(o, Exception) for o in robot_chains):
            self._start_robot()  # its protocol was not measured cleanly: let the test find out for itself
        confirmation = _confirm(info, chains, chain_outcomes, budget)
        if isinstance(confirmation, Inconsistent) and self.with_robot:
            self._start_robot()
        curves_outcome = self._curves_job.result() if self._curves_job else None

        outcomes: dict = {}
        if curves_outcome is not None:
            if isinstance(confirmation, Inconsistent) and not isinstance(curves_outcome, Exception):
                curves_outcome = _curves_one_by_one_or_error(info, budget)
            outcomes["curves"] = curves_outcome
            if self.learned is not None and isinstance(curves_outcome, SupportedEllipticCurvesScanResult):
                self.learned.curves = frozenset(curve.openssl_nid for curve in curves_outcome.supported_curves or ())
        if self.with_robot and with_robot_result:
            outcomes["robot"] = self.robot_result()

        by_version: dict[TlsVersionEnum, list] = {version: [] for version in self.versions}
        for chain, outcome in zip(chains, chain_outcomes, strict=True):
            by_version[chain[0]].append((chain, outcome))
        for version, results in by_version.items():
            errors = [outcome for _, outcome in results if isinstance(outcome, Exception)]
            if isinstance(confirmation, Inconsistent) and not errors:
                errors = [confirmation]
            inconsistent = next((e for e in errors if isinstance(e, Inconsistent)), None)
            if inconsistent is not None:
                logger.info("%s: adaptive enumeration of %s fell back to one suite per handshake: %s",
                            info.server_location.hostname, version.name, inconsistent)
                if self.on_fallback is not None:
                    self.on_fallback(version, str(inconsistent))
                try:
                    outcomes[version] = _per_suite(info, version, budget, self._pool)
                except (BudgetExhausted, ServerRejectedConnection, OSError, OpenSSLError) as exc:
                    outcomes[version] = exc
            elif errors:
                outcomes[version] = errors[0]
            else:
                outcomes[version] = _result(version, [item for _, outcome in results for item in outcome],
                                            self.list_unchosen)
                if self.learned is not None:
                    self.learned.chains[PROTOCOL_NAMES[version]] = [
                        ChainOrder(legacy, tuple(s.name for s in candidates),
                                   tuple(item.cipher_suite.name for item in outcome))
                        for (_, legacy, candidates), outcome in results
                    ]
        return outcomes


def _confirm(info: ServerConnectivityInfo, chains: list, outcomes: list, budget: Budget) -> Exception | None:
    """Offer the first suite the server picked alone again, after every chain ended with a refusal."""
    for (version, legacy, _), outcome in zip(chains, outcomes, strict=True):
        if isinstance(outcome, list) and outcome:
            first = outcome[0].cipher_suite
            try:
                again = _offer(info, version, legacy, [first], budget)
            except (Inconsistent, BudgetExhausted, ServerRejectedConnection, OSError) as exc:
                return exc if isinstance(exc, Inconsistent) else Inconsistent(f"the confirmation failed: {exc}")
            if again is None:
                return Inconsistent(f"the server refused {first.name} alone after accepting it")
            return None
    return None


# --- ROBOT: sslyze's own test, run only when it can apply, and stopped once it has its answer ---

_ROBOT_GCM = "AES128-GCM-SHA256:AES256-GCM-SHA384"  # what sslyze tries first with TLS 1.2
_ROBOT_ATTEMPTS = 3  # sslyze's: an oracle must show the same answers three times


def _one_after_another(function: Callable, items: list) -> list:
    return [function(item) for item in items]


def _robot(info: ServerConnectivityInfo, version: TlsVersionEnum, budget: Budget,
           run_all: Callable[[Callable, list], list] = _one_after_another) -> RobotScanResult:
    """sslyze's ROBOT test (same cipher strings, payloads and analysis), one attempt at a time.

    sslyze always makes three attempts and calls differing answers "inconsistent"; a first attempt whose five
    payloads all got the same answer shows no oracle, so the other two (ten more connections) are only made
    when the first one saw an oracle and it must be confirmed.
    """
    rsa = None
    cipher_string = "RSA"
    if version == TlsVersionEnum.TLS_1_2:
        budget.take()
        rsa = retried(lambda: _get_rsa_parameters(info, version, _ROBOT_GCM))
        cipher_string = _ROBOT_GCM
    if rsa is None:
        cipher_string = "RSA"
        budget.take()
        rsa = retried(lambda: _get_rsa_parameters(info, version, cipher_string))
    if rsa is None:
        return RobotScanResult(robot_result=RobotScanResultEnum.NOT_VULNERABLE_RSA_NOT_SUPPORTED)
    responses: dict[RobotPmsPaddingPayloadEnum, list[str]] = {payload: [] for payload in RobotPmsPaddingPayloadEnum}

    def send(payload: RobotPmsPaddingPayloadEnum) -> str:
        budget.take()
        return _send_robot_payload(info, version, cipher_string, payload, True, rsa.n, rsa.e)

    for attempt in range(_ROBOT_ATTEMPTS):
        # The five payloads of one attempt are independent connections (sslyze makes them separate jobs too).
        for payload, answer in zip(RobotPmsPaddingPayloadEnum, run_all(send, list(RobotPmsPaddingPayloadEnum)),
                                   strict=True):
            responses[payload].append(answer)
        if attempt == 0:
            first = RobotServerResponsesAnalyzer(responses, 1).compute_result_enum()
            if first == RobotScanResultEnum.NOT_VULNERABLE_NO_ORACLE:
                return RobotScanResult(robot_result=first)
    return RobotScanResult(robot_result=RobotServerResponsesAnalyzer(responses, _ROBOT_ATTEMPTS).compute_result_enum())


def _robot_or_error(info: ServerConnectivityInfo, version: TlsVersionEnum, budget: Budget,
                    run_all: Callable[[Callable, list], list] = _one_after_another):
    try:
        return _robot(info, version, budget, run_all)
    except Exception as exc:  # noqa: BLE001 - becomes the command's error, sorted as sslyze sorts it
        return exc


@cache
def warm_up() -> None:
    """Do in this process, before the fork, what every scan's child would otherwise do again: parse sslyze's
    bundled trust stores (about half of a cold child's CPU), load modules, build the suite tables."""
    TrustStoresRepository.get_default().get_all_stores()
    # sslyze's ROBOT and certificate code load cryptography's OpenSSL backend on first use: a module import
    # (about 5 ms of CPU) that each child would otherwise repeat.
    default_backend()
    for version in VERSIONS:
        _groups(version)


def _curves_or_error(info: ServerConnectivityInfo, budget: Budget, confirm: bool = True):
    try:
        return enumerate_curves(info, budget=budget, confirm=confirm)
    except (BudgetExhausted, ServerRejectedConnection, OSError, OpenSSLError) as exc:
        return exc


def _curves_one_by_one_or_error(info: ServerConnectivityInfo, budget: Budget):
    try:
        return _curves_one_by_one(info, budget)
    except (BudgetExhausted, ServerRejectedConnection, OSError, OpenSSLError) as exc:
        return exc


def attempts_for(outcomes: dict) -> dict[str, object]:
    """The enumeration's outcomes as sslyze's ScanCommandAttempts, by command name (AllScanCommandsAttempts)."""
    attempts: dict[str, object] = {}
    for key, outcome in outcomes.items():
        if key == "curves":
            attempts[ScanCommand.ELLIPTIC_CURVES.value] = _attempt(SupportedEllipticCurvesScanAttempt, outcome, "curves")
        elif key == "robot":
            attempts[ScanCommand.ROBOT.value] = _attempt(RobotScanAttempt, outcome, "ROBOT")
        else:
            attempts[VERSIONS[key].value] = _attempt(CipherSuitesScanAttempt, outcome, key.name)
    return attempts


def accepted_suites(outcomes: dict) -> dict[str, list[str]]:
    """Our protocol name -> the IANA names of the suites the server accepted, for what measured cleanly."""
    return {
        PROTOCOL_NAMES[version]: [item.cipher_suite.name for item in outcome.accepted_cipher_suites]
        for version, outcome in outcomes.items()
        if isinstance(version, TlsVersionEnum) and isinstance(outcome, CipherSuitesScanResult)
        and outcome.accepted_cipher_suites
    }


def _attempt(attempt_class, outcome, what: str):
    if isinstance(outcome, Exception):
        logger.warning("adaptive enumeration of %s failed: %s", what, outcome)
        return attempt_class(
            status=ScanCommandAttemptStatusEnum.ERROR, error_reason=_error_reason(outcome),
            error_trace=TracebackException.from_exception(outcome), result=None,
        )
    return attempt_class(status=ScanCommandAttemptStatusEnum.COMPLETED, error_reason=None, error_trace=None,
                         result=outcome)


def _error_reason(exc: Exception) -> ScanCommandErrorReasonEnum:
    # Sorted as sslyze's scanner sorts a command's exception. A used-up budget and a refused connection both
    # mean "not measured"; the engine reports it as such.
    if isinstance(exc, ClientCertificateRequested):
        return ScanCommandErrorReasonEnum.CLIENT_CERTIFICATE_NEEDED
    if isinstance(exc, (BudgetExhausted, Inconsistent, ConnectionToServerTimedOut, TlsHandshakeTimedOut,
                        ServerRejectedTlsHandshake, ServerRejectedConnection, OSError)):
        return ScanCommandErrorReasonEnum.CONNECTIVITY_ISSUE
    return ScanCommandErrorReasonEnum.BUG_IN_SSLYZE


# --- elliptic curves: the same idea (offer every curve, remove the one the server used) ---


def _curve(nid: OpenSslEcNidEnum) -> EllipticCurve:
    name = _OPENSSL_NID_TO_SECG_ANSI_X9_62.get(nid, f"unknown-curve-with-openssl-id-{nid.value}")
    return EllipticCurve(name=name, openssl_nid=nid.value)


def _offer_curves(info: ServerConnectivityInfo, offered: list[OpenSslEcNidEnum], budget: Budget) -> OpenSslEcNidEnum | None:
    try:
        return retried(lambda: _offer_curves_once(info, offered, budget))
    except ServerRejectedTlsHandshake:  # reset on every try: the server refuses by resetting
        return None


def _offer_curves_once(info: ServerConnectivityInfo, offered: list[OpenSslEcNidEnum], budget: Budget) -> OpenSslEcNidEnum | None:
    budget.take()
    version = info.tls_probing_result.highest_tls_version_supported
    connection = info.get_preconfigured_tls_connection(override_tls_version=version, should_use_legacy_openssl=False)
    enable_ecdh_cipher_suites(version, connection.ssl_client)
    connection.ssl_client.set_groups(offered)
    stop_at_server_key_exchange(connection, version, info)
    key = None
    try:
        connection.connect()
        key = connection.ssl_client.get_ephemeral_key()
    except ClientCertificateRequested:
        key = connection.ssl_client.get_ephemeral_key()
    except ServerRejectedTlsHandshake as exc:
        if is_reset(exc):
            raise  # for _offer_curves to try again
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


def _curves_one_by_one(info: ServerConnectivityInfo, budget: Budget) -> SupportedEllipticCurvesScanResult:
    results = []
    for nid in OpenSslEcNidEnum.get_supported_by_ssl_client():
        budget.take()
        results.append(retried(lambda nid=nid: _test_curve(info, nid)))
    return SupportedEllipticCurvesScanResult(
        supports_ecdh_key_exchange=True,
        supported_curves=[r.curve for r in results if r.was_accepted_by_server],
        rejected_curves=[r.curve for r in results if not r.was_accepted_by_server],
    )


def enumerate_curves(
    info: ServerConnectivityInfo, *, budget: Budget | None = None, confirm: bool = True
) -> SupportedEllipticCurvesScanResult:
    """`confirm=False` leaves the closing re-check to the caller (enumerate_all confirms once for everything)."""
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
        if confirm and accepted and _offer_curves(info, [accepted[0]], budget) is None:
            raise Inconsistent(f"the server refused curve {accepted[0].name} alone after using it")
    except Inconsistent as exc:
        logger.info("%s: adaptive curve enumeration fell back to one curve per handshake: %s",
                    info.server_location.hostname, exc)
        return _curves_one_by_one(info, budget)
    return SupportedEllipticCurvesScanResult(
        supports_ecdh_key_exchange=True,
        supported_curves=[_curve(nid) for nid in accepted],
        rejected_curves=[_curve(nid) for nid in candidates if nid not in accepted],
    )
