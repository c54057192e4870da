"""A thread pool whose queue is ordered by priority: one scan's connections to one server, spent where they
shorten the scan most.

The scan's jobs are not equal: a chain of the adaptive enumeration is a dozen handshakes one after the other,
a certificate or Heartbleed test is one, and ROBOT is only known to be needed once the enumeration has seen an
RSA key exchange. With a first-in-first-out pool a ROBOT test found halfway through waits behind every quick
job queued at the start, and finishes last; here it goes to the next free thread.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future

# Lower runs first; equal priorities run in submission order.
URGENT, NORMAL, BACKGROUND = 0, 1, 2
_STOP = float("inf")


class PriorityPool(Executor):
    def __init__(self, workers: int, name: str = "scan") -> None:
        self.workers = max(1, workers)
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True) for n in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable, /, *args: object, **kwargs: object) -> Future:
        return self.submit_at(NORMAL, fn, *args, **kwargs)

    def submit_at(self, priority: int, fn: Callable, /, *args: object, **kwargs: object) -> Future:
        future: Future = Future()
        self._queue.put((priority, next(self._order), future, fn, args, kwargs))
        return future

    def map_joining(self, function: Callable, items: list, priority: int = URGENT) -> list:
        """`function` over `items`, in order, for a job already on one of this pool's threads: the rest go on the
        pool, and the calling thread runs the first and then every one no other thread has started yet. A job
        that only waited for its own would hold one of the server's connections idle meanwhile (and with every
        thread waiting so, or a single thread, would wait forever)."""
        futures = [self.submit_at(priority, function, item) for item in items[1:]]
        results = [function(item) for item in items[:1]]
        for item, future in zip(items[1:], futures, strict=True):
            results.append(function(item) if future.cancel() else future.result())
        return results

    def _work(self) -> None:
        while True:
            priority, _, future, fn, args, kwargs = self._queue.get()
            if priority == _STOP:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                future.set_exception(exc)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for _ in self._threads:
            self._queue.put((_STOP, next(self._order), None, None, None, None))
        if wait:
            for thread in self._threads:
                thread.join()
