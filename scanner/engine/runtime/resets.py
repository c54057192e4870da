"""Connections a flaky server resets: retried before their answer is believed, and counted.

sslyze reads a connection reset during a handshake as the server refusing it (`ServerRejectedTlsHandshake`,
"Server rejected the connection") and a reset at connect time as `ServerRejectedConnection`. Against a server
that resets some connections at random (an overloaded load balancer, a rate limit, an IDS) that turns one
lost connection into "this suite is not supported", a confident wrong answer. So every handshake the scan
makes goes through `retried`: an attempt that saw a reset is made again (up to `TRIES` times), and only an
answer given without a reset is believed. The same reset on every try (a server that refuses by resetting, or
bad luck) is taken as a refusal but counted, and the scan is then partial.

Resets are noticed where sslyze connects (`SslConnection.connect`, patched once in the scan's child process by
`install`) and counted per thread, so a job knows whether *its* connection was reset whatever sslyze's
plugin then made of it. A reset outside any `retried` call, or on every try of one, is counted in
`unretried()`; the scan is then partial, never a complete `done` result built on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sslyze.connection_helpers.tls_connection import SslConnection
from sslyze.errors import ServerRejectedConnection, ServerRejectedTlsHandshake

T = TypeVar("T")

TRIES = 4  # one attempt and three retries: a server resetting a third of connections at random resets all
# four tries of about one handshake in 80, and that one is then counted as unsettled (the scan is partial)
_PAUSE_S = 0.2  # before the first retry; doubled before each next one (1.4 s in all)

# sslyze's words for a handshake cut by a TCP reset (its `except ConnectionError` in SslConnection.connect).
_RESET_MESSAGE = "Server rejected the connection"


def is_reset(exc: BaseException) -> bool:
    """True for a connection lost to a reset (or refused), as opposed to a TLS-level refusal (an alert)."""
    if isinstance(exc, ServerRejectedConnection | ConnectionError):
        return True
    return isinstance(exc, ServerRejectedTlsHandshake) and exc.error_message == _RESET_MESSAGE


@dataclass
class _Scope:
    resets: int = 0


_local = threading.local()
_lock = threading.Lock()
_unretried = 0
_installed = False


def note_reset() -> None:
    """A connection of this thread was reset (called by the patched connect, and by our own raw sockets)."""
    scope = getattr(_local, "scope", None)
    if scope is not None:
        scope.resets += 1
    else:
        _count_unsettled()


def _count_unsettled() -> None:
    global _unretried
    with _lock:
        _unretried += 1


def unretried() -> int:
    """Resets no retry could check since `install` (in this process): outside any `retried` call, or on every
    try of one."""
    return _unretried


@contextmanager
def watching() -> Iterator[_Scope]:
    """Count this thread's resets apart (in the yielded scope) while the block runs."""
    previous = getattr(_local, "scope", None)
    scope = _local.scope = _Scope()
    try:
        yield scope
    finally:
        _local.scope = previous


def retried(call: Callable[[], T], *, tries: int = TRIES) -> T:
    """`call()`, made again while its connection was reset (up to `tries` times in all). Returns or raises what
    the last attempt did: an attempt without a reset, or a reset on every try (then believed)."""
    pause = _PAUSE_S
    for attempt in range(1, tries + 1):
        with watching() as scope:
            try:
                outcome, error = call(), None
            except Exception as exc:  # noqa: BLE001 - raised again below unless a retry follows
                outcome, error = None, exc
            if error is not None and is_reset(error) and not scope.resets:
                scope.resets = 1  # a reset raised before sslyze's connect saw it (our own sockets)
        if not scope.resets or attempt == tries:
            if scope.resets:
                # Reset on every try: believed (a server may refuse by resetting), but it could be bad luck
                # with a flaky server, so the scan built on it is partial.
                _count_unsettled()
            if error is not None:
                raise error
            return outcome  # type: ignore[return-value]
        time.sleep(pause)
        pause *= 2
    raise AssertionError("unreachable")


def install() -> None:
    """Count resets where sslyze connects. Called in the scan's child process, which owns every connection."""
    global _installed, _unretried
    _unretried = 0
    if _installed:
        return
    _installed = True
    original = SslConnection.connect

    def connect(self: SslConnection, should_retry_connection: bool = True) -> None:
        try:
            original(self, should_retry_connection)
        except Exception as exc:
            if is_reset(exc):
                note_reset()
            raise

    SslConnection.connect = connect  # type: ignore[method-assign]


def was_reset(exc: BaseException) -> bool:
    """Did this error (or one it came from) come from a connection the server reset or closed mid-way?"""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen).lower()
        if isinstance(seen, ConnectionResetError) or "reset" in text or "disconnected" in text or "eof" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False
