"""Counts over an owner's sites kept by a web process from one page to the next while nothing they count has
changed: the triage counts (triage.triage_counts, from which a portfolio's standing per grade and compliance
profile is summed too) and the days of its history not kept in the database yet (history).

Each is a pass over every site of a portfolio or of the owner, the part of a page that grows with the portfolio
(4-20 ms of SQL at 10,000 sites, where the rest of the page takes the same at 100: docs/benchmarks.md).
And the numbers are the same for every sort, filter and page of the portfolio: someone working through a
portfolio's failing sites asks for the same counts a dozen times.

They change only when one of the owner's sites changes, which renews the version of the owner's sites
(scanner.services.sites_changed, once the change commits), or when time carries a certificate into the next
expiry window. So counts are kept with the version read before counting them, and used again while the version
is the same and no window has changed since; MAX_AGE bounds what a change made outside the services (in the
admin, by hand in the database) or a version that could not be renewed (the database gone just after the
commit) can leave showing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_AGE = timedelta(seconds=60)
# A few hundred portfolios and overviews per process, a few dozen small groups each.
MAX_KEPT = 512


@dataclass(frozen=True)
class _Kept:
    version: object
    until: datetime  # the first moment the counts may differ without a new version
    value: object


class KeptCounts:
    """Counts per key (an owner and a portfolio, or the owner's overview), each kept with the version it was
    counted under until its own expiry time or MAX_AGE."""

    def __init__(self, max_kept: int = MAX_KEPT) -> None:
        self._kept: dict[Hashable, _Kept] = {}
        self._max_kept = max_kept
        self._lock = threading.Lock()

    def get(
        self,
        key: Hashable,
        *,
        version: object,
        now: datetime,
        count: Callable[[], tuple[object, datetime]],
        recount: bool = False,
    ):
        """The counts kept for `key` if they were counted under `version` and are still good at `now` (and not
        `recount`); else `count()` (the counts, and when they stop being good) is called and its counts kept
        and returned.

        `version` must be read before counting: a change that commits in between then renews the version, and
        what was counted under the old one is not used again."""
        kept = self._kept.get(key)
        if not recount and kept is not None and kept.version == version and now < kept.until:
            return kept.value
        value, until = count()
        with self._lock:
            self._kept.pop(key, None)
            while len(self._kept) >= self._max_kept:
                del self._kept[next(iter(self._kept))]  # the oldest counted
            self._kept[key] = _Kept(version, min(until, now + MAX_AGE), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
