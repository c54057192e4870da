"""The longest chain of the adaptive enumeration run as two halves at once, their picks merged back into one order.

A chain makes one handshake per accepted suite, one after the other. On a server that accepts a dozen TLS 1.2
suites, the chain of nassl's legacy build (which holds most of TLS 1.2's suites) is the scan's critical path
behind a real network: about a round trip and a half per suite. Split by forward secrecy, its two halves run
side by side, and a merge puts their picks back into the server's order.

Why the merge is exact. A server picks by a fixed ranking: its own order, or ours when it follows the client's
(every ClientHello of a chain lists its suites in the same order). From any offer it takes the best-ranked suite
it accepts. Each half's picks are then that ranking restricted to the half, and one handshake offering two
suites says which of them ranks higher. Servers rank forward secrecy first (and so does the chain's offer order,
by name: TLS_DHE_ and TLS_ECDHE_ sort before TLS_ECDH_ and TLS_RSA_), so one handshake usually settles it: the
last pick of the forward-secret half against the first of the other. A server that ranks its halves the other
way round takes a second handshake, and one that interleaves them takes a handshake per step of the merge. A
server that then refuses both suites, or picks neither, is inconsistent: the protocol is enumerated suite by
suite, as for any chain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TypeVar

from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuite
from sslyze.plugins.openssl_cipher_suites.implementation import CipherSuiteAcceptedByServer
from sslyze.server_connectivity import ServerConnectivityInfo, TlsVersionEnum

from scanner.engine.protocols.suite_offers import CHAIN_ERRORS, Budget, Inconsistent, _offer
from scanner.engine.runtime.pool import URGENT, PriorityPool

Pick = TypeVar("Pick")


def forward_secret(suite: CipherSuite) -> bool:
    """An ephemeral (EC)DH key exchange, PSK variants included; static DH, ECDH and RSA are not."""
    return "_DHE_" in suite.name or "_ECDHE_" in suite.name


def halves(candidates: Sequence[CipherSuite]) -> tuple[tuple[CipherSuite, ...], tuple[CipherSuite, ...]]:
    """The forward-secret candidates, then the others; each in the chain's own order."""
    return (
        tuple(suite for suite in candidates if forward_secret(suite)),
        tuple(suite for suite in candidates if not forward_secret(suite)),
    )


def merged(first: list[Pick], second: list[Pick], prefers: Callable[[Pick, Pick], bool]) -> list[Pick]:
    """Two lists, each in the server's order, as one list in that order. `prefers(a, b)` asks the server (one
    handshake) whether it ranks `a` above `b`; it is asked as rarely as the common shapes allow."""
    if not first or not second:
        return first + second
    if prefers(first[-1], second[0]):
        return first + second
    if len(first) == len(second) == 1 or prefers(second[-1], first[0]):  # one each: the same pair, answered
        return second + first
    # Interleaved: the two heads are compared until one list runs out (the rest of the other follows it). What
    # the two handshakes above showed is not asked again: (i, j) -> first[i] ranks above second[j].
    known = {(len(first) - 1, 0): False, (0, len(second) - 1): True}
    joined: list[Pick] = []
    i = j = 0
    while i < len(first) and j < len(second):
        first_wins = known[(i, j)] if (i, j) in known else prefers(first[i], second[j])
        if first_wins:
            joined.append(first[i])
            i += 1
        else:
            joined.append(second[j])
            j += 1
    return joined + first[i:] + second[j:]


def joined_halves(
    info: ServerConnectivityInfo,
    chain: tuple[TlsVersionEnum, bool, Sequence[CipherSuite]],
    outcomes: list[list[CipherSuiteAcceptedByServer] | Exception],
    budget: Budget,
) -> list[CipherSuiteAcceptedByServer] | Exception:
    """The halves' picks as the whole chain's, in the server's order; else a half's error (an inconsistency
    first: it sends the protocol suite by suite)."""
    errors = sorted((o for o in outcomes if isinstance(o, Exception)), key=lambda e: not isinstance(e, Inconsistent))
    if errors:
        return errors[0]
    version, legacy, candidates = chain
    position = {suite.name: index for index, suite in enumerate(candidates)}

    def prefers(a: CipherSuiteAcceptedByServer, b: CipherSuiteAcceptedByServer) -> bool:
        offered = sorted((a.cipher_suite, b.cipher_suite), key=lambda suite: position[suite.name])
        chosen = _offer(info, version, legacy, offered, budget)
        if chosen is None:
            raise Inconsistent(f"the server refused {a.cipher_suite.name} and {b.cipher_suite.name}, both accepted")
        return chosen.cipher_suite.name == a.cipher_suite.name

    try:
        return merged(*outcomes, prefers)
    except CHAIN_ERRORS as exc:
        return exc


class Halves:
    """Two jobs on the pool; whichever ends last joins both outcomes in its own thread. `joined` is a future of
    the join's result: nobody waits inside the pool, so no thread can be held waiting for a job still queued."""

    def __init__(
        self,
        pool: PriorityPool,
        run: Callable[[Sequence[CipherSuite]], object],
        parts: tuple[Sequence[CipherSuite], Sequence[CipherSuite]],
        join: Callable[[list[object]], object],
    ) -> None:
        self.joined: Future = Future()
        self._run, self._join = run, join
        self._outcomes: list[object] = [None] * len(parts)
        self._raised: BaseException | None = None
        self._left = len(parts)
        self._lock = threading.Lock()
        for index, part in enumerate(parts):
            pool.submit_at(URGENT, self._run_part, index, part)

    def _run_part(self, index: int, part: Sequence[CipherSuite]) -> None:
        try:
            outcome = self._run(part)
        except BaseException as exc:  # noqa: BLE001 - a bug in a half must still end `joined`, never hang it
            outcome, self._raised = None, exc
        with self._lock:
            self._outcomes[index] = outcome
            self._left -= 1
            if self._left:
                return
        if self._raised is not None:
            self.joined.set_exception(self._raised)
            return
        try:
            self.joined.set_result(self._join(self._outcomes))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on `joined`
            self.joined.set_exception(exc)
