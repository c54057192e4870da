"""One scan's allowance of outbound fetches the scanned site chooses the destination of.

A scan connects to its target, and then, on the target's say-so, to other hosts: the AIA caIssuers URLs in its
certificates, OCSP responders and CRL distribution points, the hosts its redirects point at. Each of those is a
request the service sends to a host a stranger picked, so a hostile certificate with 300 caIssuers URLs (or a
redirect chain across 300 hosts) would turn one scan into 300 requests. Every such fetch takes one unit from
the scan's single OutboundBudget first; once it is spent, the rest are skipped, counted by kind, and grading
reports them in one information finding (scan.outbound_budget_exhausted).

Use from any probe (AIA, OCSP, CRL, redirects):

    if not budget.take(OutboundBudget.OCSP):
        ...  # skipped: do not fetch; the budget has recorded it for the report
    response = outbound.request(...)

The object is shared by the threads of one scan (the HTTP probe runs beside the TLS scan), hence the lock.
Cached answers (no request sent) take nothing.
"""

from __future__ import annotations

import threading


class OutboundBudget:
    AIA = "aia"
    OCSP = "ocsp"
    CRL = "crl"
    REDIRECT = "redirect"

    def __init__(self, limit: int | None) -> None:
        """`limit`: fetches this scan may make (None or 0: unlimited)."""
        self.limit = limit or None
        self._used = 0
        self._skipped: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, kind: str) -> bool:
        """Spend one fetch of `kind`; False (and counted as skipped) when the budget is spent."""
        with self._lock:
            if self.limit is not None and self._used >= self.limit:
                self._skipped[kind] = self._skipped.get(kind, 0) + 1
                return False
            self._used += 1
            return True

    @property
    def used(self) -> int:
        return self._used

    @property
    def skipped(self) -> tuple[tuple[str, int], ...]:
        """(kind, fetches skipped) pairs, sorted by kind; empty when nothing was skipped."""
        with self._lock:
            return tuple(sorted(self._skipped.items()))

    def __repr__(self) -> str:
        return f"OutboundBudget(limit={self.limit}, used={self._used}, skipped={dict(self._skipped)})"


UNLIMITED = None  # OutboundBudget(UNLIMITED) never refuses: for callers outside a scan (CLI tools, tests)
