"""The dashboard and API at 10,000 sites for one user: every overview sort, filter and page, the portfolio
list, and the CSV/JSON export, timed in-process (Django test client, real PostgreSQL), with query counts.

    .venv/bin/python -m benchmarks.dashboard_10k [--sites 10000] [--rounds 5]

Times are medians of --rounds requests, whole request (view, queries, template), after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc

from benchmarks._setup import database_env, django_setup, prepare_database

VIEWS = [
    ("name (default)", {}),
    ("grade, worst first", {"sort": "grade"}),
    ("expiry, soonest first", {"sort": "expiry"}),
    ("last scanned", {"sort": "scanned"}),
    ("filter grade=B", {"grade": "B"}),
    ("filter failing", {"failing": "on"}),
    ("filter expiring<=30 d", {"expiring": "30"}),
    ("expiring<=30 d by grade", {"expiring": "30", "sort": "grade"}),
    ("last page", {"page": "last"}),
    ("last page by grade", {"sort": "grade", "page": "last"}),
    ("page 100 by last scanned", {"sort": "scanned", "page": "100"}),
]


def timed(call, rounds: int) -> tuple[float, int, float]:
    """Median whole-request ms, query count, median ms spent in the database (as Django measured it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()  # warm-up
    times, sql = [], []
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
        sql.append(sum(float(query["time"]) for query in queries.captured_queries) * 1000)
    return statistics.median(times), len(queries), statistics.median(sql)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    env = database_env()
    prepare_database(env)
    django_setup(env)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from benchmarks.seed import seed_sites
    from scanner.exports import csv_lines, json_chunks
    from scanner.models import Portfolio, Site

    user, _ = get_user_model().objects.get_or_create(username=f"bench-{args.sites}")
    portfolio, _ = Portfolio.objects.get_or_create(owner=user, name="Everything")
    if Site.objects.filter(owner=user).count() != args.sites:
        Site.objects.filter(owner=user).delete()
        start = time.perf_counter()
        seed_sites(user, args.sites, portfolio=portfolio)
        print(f"seeded {args.sites} sites in {time.perf_counter() - start:.1f} s")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'overview at ' + str(args.sites) + ' sites':28} {'request ms':>10} {'queries':>8} {'SQL ms':>7}")
    for label, params in VIEWS:
        ms, queries, sql = timed(lambda params=params: client.get("/", params), args.rounds)
        print(f"{label:28} {ms:10.1f} {queries:8d} {sql:7.1f}")
    ms, queries, sql = timed(lambda: client.get("/api/v1/portfolios"), args.rounds)
    size = len(client.get("/api/v1/portfolios").content)
    print(f"{'GET /api/v1/portfolios':28} {ms:10.1f} {queries:8d} {sql:7.1f}   {size} bytes")
    ms, queries, sql = timed(lambda: client.get(f"/api/v1/sites?portfolio={portfolio.pk}"), args.rounds)
    print(f"{'GET /api/v1/sites?portfolio=':28} {ms:10.1f} {queries:8d} {sql:7.1f}")

    for label, stream in (("CSV", csv_lines), ("JSON", json_chunks)):
        tracemalloc.start()
        start = time.perf_counter()
        size = sum(len(chunk) for chunk in stream(portfolio))
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        start = time.perf_counter()
        sum(1 for _ in stream(portfolio))  # again without tracemalloc's overhead, for the time
        print(
            f"export {label}: {args.sites} rows, {size / 1e6:.1f} MB in {time.perf_counter() - start:.2f} s "
            f"(peak Python memory {peak / 1e6:.1f} MB; {seconds:.2f} s under tracemalloc)"
        )


if __name__ == "__main__":
    main()
