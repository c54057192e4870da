"""OCSP requests and CRL downloads through scanner.outbound, cached so that a portfolio on one CA costs one download.

Both go through the scan's network policy (resolved once, pinned, allowed networks), one deadline each and a
byte cap (a CRL can be megabytes; an OCSP answer is a few KiB). Plain http:// only, like AIA: that is what CAs
publish (RFC 5280 §4.2.1.13, RFC 6960 §A.1), and an https:// URL would need a revocation check of its own.

Caches (per process, bounded): an OCSP answer per issuer + serial, a CRL per URL, each until its nextUpdate
(at most MAX_CACHE_SECONDS). Concurrent scans asking for the same CRL wait for the one download in progress.
Failures are not cached: a responder that was down for one scan is asked again by the next.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp

from scanner.engine.certificates.revocation import RevocationFetchError, assess
from scanner.engine.results import RevocationCheck
from scanner.engine.runtime.outbound_budget import OutboundBudget

if TYPE_CHECKING:
    from scanner.netpolicy import NetworkPolicy

MAX_OCSP_BYTES = 64 * 1024
MAX_CRL_BYTES = 16 * 1024 * 1024  # the largest public CRLs are a few MiB
MAX_CACHE_SECONDS = 24 * 3600.0
OCSP_CACHE_ENTRIES = 10_000
OCSP_CACHE_TIME = timedelta(hours=1)
CRL_CACHE_ENTRIES = 64


class TtlCache:
    """Entries that expire at their own moment (a response's nextUpdate), least recently used evicted first."""

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._items: OrderedDict[object, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object) -> object | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if time.monotonic() >= expires:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: object, value: object, next_update: datetime | None) -> None:
        seconds = MAX_CACHE_SECONDS
        if next_update is not None:
            seconds = min(seconds, (next_update - datetime.now(UTC)).total_seconds())
        if seconds <= 0:
            return
        with self._lock:
            self._items[key] = (time.monotonic() + seconds, value)
            self._items.move_to_end(key)
            while len(self._items) > self._entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


OCSP_CACHE = TtlCache(OCSP_CACHE_ENTRIES)
CRL_CACHE = TtlCache(CRL_CACHE_ENTRIES)
_crl_locks: dict[str, threading.Lock] = {}
_crl_locks_guard = threading.Lock()


def clear_caches() -> None:
    OCSP_CACHE.clear()
    CRL_CACHE.clear()


def _url_lock(url: str) -> threading.Lock:
    with _crl_locks_guard:
        if len(_crl_locks) > 4 * CRL_CACHE_ENTRIES:
            _crl_locks.clear()  # only unused locks matter little; a fresh one per URL is always correct
        return _crl_locks.setdefault(url, threading.Lock())


def _http_only(url: str) -> None:
    if urlsplit(url).scheme.lower() != "http":
        raise RevocationFetchError(f"only http:// URLs are followed, and this one is {url}")


def _load_crl(body: bytes) -> x509.CertificateRevocationList:
    for loader in (x509.load_der_x509_crl, x509.load_pem_x509_crl):
        try:
            return loader(body)
        except ValueError:
            continue
    raise RevocationFetchError("the answer is not a CRL (neither DER nor PEM)")


Checker = Callable[[x509.Certificate, x509.Certificate, "ocsp.OCSPResponse | None"], RevocationCheck]


def make_checker(
    policy: NetworkPolicy,
    *,
    deadline: float,
    connect_timeout: float,
    total: float | None = None,
    budget: OutboundBudget | None = None,
) -> Checker:
    """check(leaf, issuer, staple) -> RevocationCheck, bound to the scan's network policy. Each request gets
    `deadline`; all requests of this checker (one scan: every deployment and intermediate) share `total`
    (default: twice `deadline`), so silent responders cannot stretch a scan. Each request sent (not a cached
    answer) takes one fetch of the scan's outbound `budget`; once it is spent, the status is unknown."""
    ends_at = time.monotonic() + (total if total is not None else 2 * deadline)

    def get(method: str, url: str, max_body: int, kind: str, **kwargs: Any) -> bytes:
        # The outbound client (httpx) is imported by the first request, not when the scan starts.
        from scanner import outbound

        _http_only(url)
        if budget is not None and not budget.take(kind):
            raise RevocationFetchError(f"not asked: the scan's outbound budget of {budget.limit} fetches is spent")
        left = ends_at - time.monotonic()
        if left <= 0:
            raise RevocationFetchError("not asked: the scan's time for revocation checks was used up")
        limits = outbound.Limits(connect_timeout=connect_timeout, deadline=min(deadline, left), max_body=max_body)
        try:
            response = outbound.request(method, url, policy=policy, limits=limits, allow_truncated=False, **kwargs)
        except outbound.ResponseTooLarge:
            raise RevocationFetchError(f"the answer is larger than the {max_body // 1024} KiB allowed") from None
        except outbound.OutboundError as exc:
            raise RevocationFetchError(str(exc)) from None
        if response.status != 200:
            raise RevocationFetchError(f"the server answered HTTP {response.status}")
        return response.body

    def fetch_ocsp(url: str, request_der: bytes) -> bytes:
        # POST (RFC 6960 §A.1.1): GET would need the request base64'd into the URL, and caches are ours anyway.
        return get(
            "POST",
            url,
            MAX_OCSP_BYTES,
            OutboundBudget.OCSP,
            content=request_der,
            headers={"Content-Type": "application/ocsp-request", "Accept": "application/ocsp-response"},
        )

    def fetch_crl(url: str) -> x509.CertificateRevocationList:
        cached = CRL_CACHE.get(url)
        if cached is not None:
            return cached
        with _url_lock(url):
            cached = CRL_CACHE.get(url)  # another scan may have downloaded it while this one waited
            if cached is not None:
                return cached
            crl = _load_crl(get("GET", url, MAX_CRL_BYTES, OutboundBudget.CRL))
            CRL_CACHE.put(url, crl, crl.next_update_utc)
            return crl

    def check(leaf: x509.Certificate, issuer: x509.Certificate, staple: ocsp.OCSPResponse | None) -> RevocationCheck:
        now = datetime.now(UTC)
        key = (issuer.fingerprint(hashes.SHA256()), leaf.serial_number)
        if staple is None and (cached := OCSP_CACHE.get(key)) is not None:
            return cached
        result = assess(leaf, issuer, staple, fetch_ocsp=fetch_ocsp, fetch_crl=fetch_crl, now=now)
        if result.source == "ocsp":
            # A "good" answer may turn "revoked" at any time; an hour keeps a portfolio rescan cheap yet fresh.
            # What this server's staple was like is not the responder's answer: never served to another scan.
            OCSP_CACHE.put(key, replace(result, staple_problem=None, staple_problem_detail=None), now + OCSP_CACHE_TIME)
        return result

    return check
