"""How many connections to the scanned address one side of a scan may have open at once, a number that can grow
while that side runs.

The HTTP probe runs beside the TLS scan, which holds up to SCANNER_PER_TARGET_CONNECTIONS connections to the
same address. Beside it the HTTP side keeps one open at a time, so the address never sees more than that
setting plus one; once the TLS scan has ended, its connections are free and the HTTP side may use as many.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ConnectionAllowance:
    def __init__(self, at_once: int = 1) -> None:
        self._at_once = max(1, at_once)
        self._free = threading.Semaphore(self._at_once)
        self._lock = threading.Lock()

    def grow_to(self, at_once: int) -> None:
        """Allow `at_once` connections from now on (never fewer than already allowed); waiting callers go on."""
        with self._lock:
            more = at_once - self._at_once
            if more > 0:
                self._at_once = at_once
                self._free.release(more)

    @contextmanager
    def connection(self) -> Iterator[None]:
        """Held while one connection is open: waits until the allowance has room for it."""
        with self._free:
            yield
