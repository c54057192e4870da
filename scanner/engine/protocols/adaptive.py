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
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cache

from cryptography.hazmat.backends import default_backend
from sslyze import (
    RobotScanResultEnum,
)
from sslyze.errors import (
    ServerRejectedConnection,
)
from sslyze.plugins.certificate_info.trust_stores.trust_store_repository import TrustStoresRepository
from sslyze.plugins.elliptic_curves_plugin import SupportedEllipticCurvesScanResult
from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuite
from sslyze.plugins.openssl_cipher_suites.implementation import CipherSuiteAcceptedByServer, CipherSuitesScanResult
from sslyze.plugins.robot.implementation import RobotScanResult
from sslyze.server_connectivity import (
    ServerConnectivityInfo,
    TlsVersionEnum,
)

from scanner.engine.protocols.versions import PROTOCOL_NAMES, VERSIONS
from scanner.engine.runtime.pool import URGENT, PriorityPool
from scanner.engine.runtime.sslyze_compat import OpenSSLError

logger = logging.getLogger(__name__)

from scanner.engine.curves import _curves_one_by_one_or_error, _curves_or_error
from scanner.engine.protocols.split_chain import Halves, halves, joined_halves
from scanner.engine.protocols.suite_offers import (
    CHAIN_ERRORS,
    Budget,
    BudgetExhausted,
    Inconsistent,
    _enumerate_group,
    _groups,
    _offer,
    _per_suite,
    _result,
)
from scanner.engine.vulnerabilities.robot import _robot_or_error

__all__ = ["Enumeration", "Learned", "enumerate_all", "enumerate_version", "warm_up"]


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
    info: ServerConnectivityInfo,
    versions: Iterable[TlsVersionEnum] = VERSIONS,
    *,
    workers: int = 4,
    budget: Budget | None = None,
    with_curves: bool = False,
    with_robot: bool = False,
    on_fallback: Callable[[TlsVersionEnum, str], None] | None = None,
    learned: Learned | None = None,
) -> dict[
    TlsVersionEnum | str, CipherSuitesScanResult | SupportedEllipticCurvesScanResult | RobotScanResult | Exception
]:
    """Every protocol (and the curves, and ROBOT), `workers` handshakes at a time. See `Enumeration`."""
    with PriorityPool(workers) as pool:
        enumeration = Enumeration(
            info,
            versions,
            budget=budget,
            with_curves=with_curves,
            with_robot=with_robot,
            on_fallback=on_fallback,
            learned=learned,
        )
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
        self,
        info: ServerConnectivityInfo,
        versions: Iterable[TlsVersionEnum] = VERSIONS,
        *,
        budget: Budget | None = None,
        with_curves: bool = False,
        with_robot: bool = False,
        on_fallback: Callable[[TlsVersionEnum, str], None] | None = None,
        learned: Learned | None = None,
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
        self.chains = [
            (version, legacy, candidates)
            for version in self.versions
            for legacy, candidates in _groups(version)
            if candidates
        ]
        # TLS 1.2 chains are the longest on real servers, nassl's legacy build's (most of TLS 1.2's suites)
        # ahead: start them first so they do not finish last.
        self.chains.sort(key=lambda chain: (chain[0] != TlsVersionEnum.TLS_1_2, not chain[1]))
        highest = info.tls_probing_result.highest_tls_version_supported
        self.robot_version = TlsVersionEnum.TLS_1_2 if highest.value >= TlsVersionEnum.TLS_1_3.value else highest
        self._robot_lock = threading.Lock()
        self._robot_job: list[Future] = []
        self._pool: PriorityPool | None = None
        self._chain_jobs: list[Future] = []
        self._curves_job: Future | None = None
        # Set by chains_ended:
        self._tentative: dict | None = None
        self._chain_outcomes: list = []
        self._confirmation: Future | None = None
        self._curves_outcome: object = None
        self._measured_suite_by_suite: dict[TlsVersionEnum, object] = {}

    def start(self, pool: PriorityPool) -> None:
        """Queue every chain and the curves, longest first, ahead of anything else on `pool`; returns at once."""
        self._pool = pool
        tls12 = sum(1 for chain in self.chains if chain[0] == TlsVersionEnum.TLS_1_2)  # sorted first (__init__)
        self._chain_jobs = [self._submit_chain(chain) for chain in self.chains[:tls12]]
        if self.with_curves:
            # Urgent too, and right after TLS 1.2: the simulation needs the curves, and their chain (half a dozen
            # handshakes and more) is longer than the other protocols' on most servers. Queued behind those, it
            # started late and was the last thing the simulation waited for.
            self._curves_job = pool.submit_at(URGENT, _curves_or_error, self.info, self.budget, False)
        self._chain_jobs += [self._submit_chain(chain) for chain in self.chains[tls12:]]

    def _submit_chain(self, chain: tuple[TlsVersionEnum, bool, tuple[CipherSuite, ...]]) -> Future:
        version, legacy, candidates = chain
        if version != TlsVersionEnum.TLS_1_2 or not legacy:
            return self._pool.submit_at(URGENT, self._run_chain, chain)
        # The longest chain, as two halves at once (split_chain.py says why the merged order is exact).
        return Halves(
            self._pool,
            lambda half: self._run_chain((version, legacy, half)),
            halves(candidates),
            lambda outcomes: joined_halves(self.info, chain, outcomes, self.budget),
        ).joined

    def robot_result(self) -> RobotScanResult | Exception:
        """ROBOT's outcome once its test has ended (after `finish`); "RSA not supported" when it never ran."""
        robot = self._robot_job[0].result() if self._robot_job else None
        return robot or RobotScanResult(robot_result=RobotScanResultEnum.NOT_VULNERABLE_RSA_NOT_SUPPORTED)

    def _start_robot(self) -> None:
        with self._robot_lock:
            if not self._robot_job:
                self._robot_job.append(
                    self._pool.submit_at(
                        URGENT, _robot_or_error, self.info, self.robot_version, self.budget, self._pool.map_joining
                    )
                )

    def _on_pick(self, version: TlsVersionEnum, suite: CipherSuite) -> None:
        # Any protocol's RSA key exchange starts the test: it then learns for itself whether its own protocol
        # has one (sslyze's answer when not: "RSA not supported"), and it starts long before the TLS 1.2
        # chains, where servers rank RSA key exchange last, reach it.
        if self.with_robot and _is_rsa_key_exchange(suite.name):
            self._start_robot()

    def _run_chain(
        self, chain: tuple[TlsVersionEnum, bool, list[CipherSuite]]
    ) -> list[CipherSuiteAcceptedByServer] | Exception:
        try:
            return _enumerate_group(self.info, *chain, self.budget, self._on_pick)
        except CHAIN_ERRORS as exc:
            return exc

    def chains_ended(self) -> dict:
        """Wait for the chains and the curves, queue the confirmation, and return every protocol's outcome (and
        the curves) as they stand if the confirmation passes: what only needs the suites, such as the handshake
        simulation, can start beside the confirmation's handshake. `finish` then says whether it passed."""
        if self._tentative is not None:
            return self._tentative
        chain_outcomes = [job.result() for job in self._chain_jobs]
        robot_chains = [o for (v, _, _), o in zip(self.chains, chain_outcomes, strict=True) if v == self.robot_version]
        if self.with_robot and any(isinstance(o, Exception) for o in robot_chains):
            self._start_robot()  # its protocol was not measured cleanly: let the test find out for itself
        self._chain_outcomes = chain_outcomes
        self._confirmation = self._pool.submit_at(URGENT, _confirm, self.info, self.chains, chain_outcomes, self.budget)
        self._curves_outcome = self._curves_job.result() if self._curves_job else None
        self._tentative = self._outcomes(None)
        return self._tentative

    def finish(self, *, with_robot_result: bool = True) -> dict:
        """Wait for the chains, confirm, run what must follow them; every protocol's outcome (and curves, and
        ROBOT unless `with_robot_result` is False: then `robot_result()` gives it later, so what only needs the
        suites, such as the simulation, does not wait for ROBOT's last payloads). The same dict `chains_ended`
        returned when the confirmation passed; a new one when it did not."""
        outcomes = self.chains_ended()
        confirmation = self._confirmation.result()
        if isinstance(confirmation, Inconsistent):
            if self.with_robot:
                self._start_robot()
            if self.learned is not None:
                self.learned.chains.clear()  # no chain's order stands
            outcomes = self._outcomes(confirmation)
        if self.with_robot and with_robot_result:
            outcomes["robot"] = self.robot_result()
        return outcomes

    def _outcomes(self, confirmation: Exception | None) -> dict:
        info, budget, chains = self.info, self.budget, self.chains
        outcomes: dict = {}
        curves_outcome = self._curves_outcome
        if curves_outcome is not None:
            if isinstance(confirmation, Inconsistent) and not isinstance(curves_outcome, Exception):
                curves_outcome = _curves_one_by_one_or_error(info, budget)
            outcomes["curves"] = curves_outcome
            if self.learned is not None and isinstance(curves_outcome, SupportedEllipticCurvesScanResult):
                self.learned.curves = frozenset(curve.openssl_nid for curve in curves_outcome.supported_curves or ())

        by_version: dict[TlsVersionEnum, list] = {version: [] for version in self.versions}
        for chain, outcome in zip(chains, self._chain_outcomes, strict=True):
            by_version[chain[0]].append((chain, outcome))
        for version, results in by_version.items():
            errors = [outcome for _, outcome in results if isinstance(outcome, Exception)]
            if isinstance(confirmation, Inconsistent) and not errors:
                errors = [confirmation]
            inconsistent = next((e for e in errors if isinstance(e, Inconsistent)), None)
            if inconsistent is not None and version in self._measured_suite_by_suite:
                # Measured suite by suite already (chains_ended): a failed confirmation changes nothing there.
                outcomes[version] = self._measured_suite_by_suite[version]
            elif inconsistent is not None:
                logger.info(
                    "%s: adaptive enumeration of %s fell back to one suite per handshake: %s",
                    info.server_location.hostname,
                    version.name,
                    inconsistent,
                )
                if self.on_fallback is not None:
                    self.on_fallback(version, str(inconsistent))
                try:
                    outcomes[version] = _per_suite(info, version, budget, self._pool)
                except (BudgetExhausted, ServerRejectedConnection, OSError, OpenSSLError) as exc:
                    outcomes[version] = exc
                self._measured_suite_by_suite[version] = outcomes[version]
            elif errors:
                outcomes[version] = errors[0]
            else:
                outcomes[version] = _result(
                    version, [item for _, outcome in results for item in outcome], self.list_unchosen
                )
                if self.learned is not None:
                    self.learned.chains[PROTOCOL_NAMES[version]] = [
                        ChainOrder(
                            legacy, tuple(s.name for s in candidates), tuple(item.cipher_suite.name for item in outcome)
                        )
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
            except CHAIN_ERRORS as exc:
                return exc if isinstance(exc, Inconsistent) else Inconsistent(f"the confirmation failed: {exc}")
            if again is None:
                return Inconsistent(f"the server refused {first.name} alone after accepting it")
            return None
    return None


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


def enumerate_version(
    info: ServerConnectivityInfo,
    version: TlsVersionEnum,
    *,
    budget: Budget | None = None,
    workers: int = 4,
    on_fallback: Callable[[TlsVersionEnum, str], None] | None = None,
) -> CipherSuitesScanResult:
    outcome = enumerate_all(info, [version], budget=budget, workers=workers, on_fallback=on_fallback)[version]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
