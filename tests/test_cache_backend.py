"""The cache backend (Django's Redis cache keeping one client per connection pool) answers like Django's."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.core.cache import caches


def test_every_call_goes_through_one_kept_client():
    cache = caches.create_connection("default")
    cache.set("kept-client", 1)
    client = cache._cache.get_client(write=True)
    assert cache.get("kept-client") == 1
    assert cache._cache.get_client(write=True) is client


def test_threads_sharing_the_client_each_read_their_own_values():
    cache = caches.create_connection("default")

    def write_and_read(n: int) -> list[int]:
        values = []
        for i in range(50):
            cache.set(f"thread-{n}", i)
            values.append(cache.get(f"thread-{n}"))
        return values

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(write_and_read, range(8)))
    assert results == [list(range(50))] * 8
