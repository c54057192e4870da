"""The per-process AIA cache: bounded in entries and in age."""

from __future__ import annotations

import time

from scanner.engine.certificates.aia import _Cache


def test_cached_download_is_returned_until_it_ages_out():
    cache = _Cache(entries=4, seconds=0.2)
    cache.put("http://ca.test/i.der", ["cert"])
    assert cache.get("http://ca.test/i.der") == ["cert"]
    time.sleep(0.25)
    assert cache.get("http://ca.test/i.der") is None


def test_oldest_entry_is_dropped_beyond_the_size_limit():
    cache = _Cache(entries=2, seconds=60)
    for name in ("a", "b", "c"):
        cache.put(f"http://ca.test/{name}", [name])
    assert cache.get("http://ca.test/a") is None and cache.get("http://ca.test/c") == ["c"]
