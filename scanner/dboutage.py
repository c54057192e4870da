"""Riding out a database outage: a write that fails because the connection broke (a PostgreSQL restart, a
failover, a network cut) is retried on a fresh connection with backoff, for up to an outage budget.

Only whole transactions are retried: `work` must open and close its own `transaction.atomic()` block, so a
retry repeats the same transaction from its start on the new connection.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What a broken or unreachable connection raises (psycopg's OperationalError covers refused, reset and
# "server closed the connection unexpectedly"; InterfaceError is "connection already closed").
CONNECTION_ERRORS = (OperationalError, InterfaceError)
FIRST_DELAY = 0.25
LONGEST_DELAY = 5.0


class DatabaseUnavailable(Exception):
    """The database stayed unreachable for the whole outage budget; the caller hands the work back."""


def drop_broken_connection() -> None:
    """Forget this thread's connection, so the next query opens a new one instead of failing on the old."""
    with contextlib.suppress(DatabaseError):
        connection.close()


def reopen_if_broken() -> None:
    """Between units of work in a long-lived process (a worker's main process, a pool process): drop this
    thread's connection if it broke or aged out, as Django does for each web request. Inside a transaction
    (a caller's, a test's) the connection is the caller's and is left alone."""
    if not connection.in_atomic_block:
        close_old_connections()


def with_reconnect(work: Callable[[], T], *, budget: float, what: str) -> T:
    """`work()`, retried on connection errors with backoff (0.25 s doubling to 5 s) until `budget` seconds
    have passed; then DatabaseUnavailable. Other errors propagate at once. Inside an outer transaction `work`
    runs once."""
    if connection.in_atomic_block:
        # Inside the caller's transaction (a test's, or a service composing this one): a broken connection
        # loses that whole transaction, which only its owner can start again. One try, no retry.
        return work()
    deadline = time.monotonic() + budget
    delay = FIRST_DELAY
    tries = 0
    while True:
        tries += 1
        try:
            return work()
        except CONNECTION_ERRORS as exc:
            drop_broken_connection()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DatabaseUnavailable(
                    f"the database stayed unreachable for {budget:g} s while trying to {what}: {exc}"
                ) from exc
            logger.warning(
                "could not %s (try %d, database connection error: %s); retrying in %.2g s",
                what,
                tries,
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                min(delay, remaining),
            )
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, LONGEST_DELAY)
