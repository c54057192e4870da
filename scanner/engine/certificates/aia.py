"""Download missing intermediates from the leaf's AIA caIssuers URL, as browsers do.

Every download goes through scanner.outbound (resolved once through the same network policy and pins as the
scan target, byte cap, one deadline). Plain http:// only: that is what CAs publish (RFC 5280 4.2.2.1), and an
https:// URL would need the very chain we are trying to build.

Successful downloads are cached per URL for the process (bounded in entries and age): one CA's intermediate
serves thousands of sites. Failures are not cached, so a network hiccup costs one scan, not an hour of scans.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cryptography import x509

from scanner.engine.certificates.chain import AiaBudgetSpent, AiaError, AiaFetcher, parse_aia_body
from scanner.engine.runtime.outbound_budget import OutboundBudget

if TYPE_CHECKING:
    from scanner.netpolicy import NetworkPolicy

MAX_AIA_BYTES = 64 * 1024  # a CA certificate is 1-2 KiB; a PKCS#7 bundle of a few stays far below this
CACHE_ENTRIES = 256
CACHE_SECONDS = 3600.0


class _Cache:
    def __init__(self, entries: int, seconds: float) -> None:
        self._entries, self._seconds = entries, seconds
        self._items: OrderedDict[str, tuple[float, list[x509.Certificate]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> list[x509.Certificate] | None:
        with self._lock:
            item = self._items.get(url)
            if item is None:
                return None
            stored_at, certs = item
            if time.monotonic() - stored_at > self._seconds:
                del self._items[url]
                return None
            self._items.move_to_end(url)
            return certs

    def put(self, url: str, certs: list[x509.Certificate]) -> None:
        with self._lock:
            self._items[url] = (time.monotonic(), certs)
            self._items.move_to_end(url)
            while len(self._items) > self._entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = _Cache(CACHE_ENTRIES, CACHE_SECONDS)


def make_fetcher(
    policy: NetworkPolicy, *, deadline: float, connect_timeout: float, budget: OutboundBudget | None = None
) -> AiaFetcher:
    """A fetcher bound to the scan's network policy (the same pins and allowed networks as the target). Each
    download (not a cached answer) takes one fetch from the scan's outbound `budget`."""

    def fetch(url: str) -> list[x509.Certificate]:
        # The outbound client (httpx) is imported by the first download, not when the scan starts.
        from scanner import outbound

        if urlsplit(url).scheme.lower() != "http":
            raise AiaError(f"only http:// download URLs are followed, and this one is {url}")
        cached = CACHE.get(url)
        if cached is not None:
            return cached
        if budget is not None and not budget.take(OutboundBudget.AIA):
            raise AiaBudgetSpent(f"the scan's outbound budget of {budget.limit} fetches is spent")
        limits = outbound.Limits(connect_timeout=connect_timeout, deadline=deadline, max_body=MAX_AIA_BYTES)
        try:
            response = outbound.request("GET", url, policy=policy, limits=limits)
        except outbound.OutboundError as exc:
            raise AiaError(str(exc)) from None
        if response.status != 200:
            raise AiaError(f"the server answered HTTP {response.status}")
        if response.truncated:
            raise AiaError(f"the answer is larger than {MAX_AIA_BYTES // 1024} KiB, more than any CA certificate")
        certs = parse_aia_body(response.body)
        CACHE.put(url, certs)
        return certs

    return fetch
