"""The dashboard at 10,000 sites against the same dashboard at 100: every overview and portfolio sort and
filter, timed in-process (Django test client, real PostgreSQL), each beside its targets: at most 30 ms at
10,000 sites and at most 1.5 times the same view at 100. Then the portfolio API and the CSV/JSON export.

    .venv/bin/python -m benchmarks.dashboard_10k [--sites 10000] [--small 100] [--rounds 7]

Both users live in the same database, and each round times one request of each size back to back, so both
sizes see the same machine; times are medians of --rounds whole requests (view, queries, template) after one
warm-up. The load average is printed before and after: on a busy machine the ratio is the number to read.
Deep pages (an OFFSET of thousands of rows) are printed without targets: they walk the index to get there.
A web process keeps a portfolio's triage counts from one view to the next while the user's sites are unchanged
(webui/dashboard/kept_counts.py), so the views above count them once; the views "after a change" are each the
first after the user's sites changed, and count them again.
`rows` is the number of sites on the page at each size: a filter that matches a few of 100 sites renders a
shorter page than at 10,000 (rendering rows is most of a request), which shows in its ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc

from benchmarks._setup import database_env, django_setup, prepare_database

MS_TARGET = 30.0
RATIO_TARGET = 1.5
SORTS = [
    ("worst first (default)", {}),
    ("by site name", {"sort": "site"}),
    ("certificate expiry", {"sort": "expiry"}),
    ("last scanned", {"sort": "scanned"}),
]
FILTERS = [
    ("grade = B", {"grade": "B"}),
    ("not graded", {"grade": "none"}),
    ("failing", {"failing": "on"}),
    ("graded F/T/M", {"failing": "graded"}),
    ("unreachable", {"failing": "unreachable"}),
    ("expiring <= 30 d", {"expiring": "30"}),
    ("expiring <= 30 d, by expiry", {"expiring": "30", "sort": "expiry"}),
    ("failing, last scanned", {"failing": "on", "sort": "scanned"}),
]
# Every row of a site list shows its last attempt once (the last_scan_cell tag): the rows on the page.
ROW_MARK = b"data-site-status="
DEEP_PAGES = [
    ("last page", {"page": "last"}),
    ("last page, last scanned", {"sort": "scanned", "page": "last"}),
]
# The first view after a change to the user's sites (a scan stored, a site added), when the triage counts kept
# by the web process (webui/dashboard/kept_counts.py) are counted again; the views above reuse them.
AFTER_A_CHANGE = [
    ("worst first (default)", {}),
    ("failing", {"failing": "on"}),
]
PROFILES_CHOSEN = ("pci-dss-4.0.1", "nist-sp800-52r2", "mozilla-intermediate")
PROFILE_VIEWS = (SORTS[:1] + FILTERS[2:3], [], AFTER_A_CHANGE[:1])


def load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()) + f" on {os.cpu_count()} cores"


def timed(call, rounds: int) -> tuple[float, int, float]:
    """Median whole-request ms, query count, median ms spent in the database (as Django measured it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, sql = [], []
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
        sql.append(sum(float(query["time"]) for query in queries.captured_queries) * 1000)
    return statistics.median(times), len(queries), statistics.median(sql)


def paired(small, large, rounds: int, before=None) -> tuple[tuple[float, int, float], tuple[float, int, float]]:
    """Time two requests alternately, one round at a time, so that load spikes hit both sizes alike; `before`
    (untimed) runs before each."""
    small(), large()  # warm-up
    runs: dict[str, list[tuple[float, int, float]]] = {"small": [], "large": []}
    for _ in range(rounds):
        for size, call in (("small", small), ("large", large)):
            if before is not None:
                before()
            runs[size].append(timed(call, 1))

    def median(samples: list[tuple[float, int, float]]) -> tuple[float, int, float]:
        return statistics.median(s[0] for s in samples), samples[-1][1], statistics.median(s[2] for s in samples)

    return median(runs["small"]), median(runs["large"])


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "OVER"


def seeded_user(count: int):
    """A user with `count` seeded sites, all in its one portfolio (reused when already there)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from benchmarks.seed import SEED_FORMAT, seed_sites
    from scanner import services
    from scanner.models import Portfolio, Scan, Site

    user, _ = get_user_model().objects.get_or_create(username=f"bench-{count}")
    name = f"Everything (seed format {SEED_FORMAT})"
    Portfolio.objects.filter(owner=user).exclude(name=name).delete()  # and seed again: see below
    portfolio, _ = Portfolio.objects.get_or_create(owner=user, name=name)
    if Site.objects.filter(owner=user).count() != count or portfolio.sites.count() != count:
        Site.objects.filter(owner=user).delete()
        start = time.perf_counter()
        site_ids = seed_sites(user, count, portfolio=portfolio, real_size_reports=True)
        # One site in 50 is down: its last attempt failed (through the service that records an attempt).
        for site_id in site_ids[::50]:
            services.site_attempted(
                Scan.objects.create(site_id=site_id, status=Scan.Status.FAILED, error="connection refused")
            )
        # The rows deleted above stay in the tables and their indexes as dead tuples until a vacuum, and the
        # first views would step over them (tens of thousands after a reseed: 8 ms more SQL a page).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE scanner_site, scanner_scan, scanner_finding, scanner_portfolio_sites")
        print(f"seeded {count} sites in {time.perf_counter() - start:.1f} s")
    return user, portfolio


def compare_views(args, small_user, small_portfolio, large_user, large_portfolio) -> int:
    """Print every view at both sizes with its ratio and the verdicts; returns how many views miss a target."""
    from django.test import Client

    from scanner import services

    def changed() -> None:
        """What storing a scan of each user's tells every web process: the version of their sites is renewed."""
        services.sites_changed(owner_ids=[small_user.pk, large_user.pk])

    clients = {}
    for user in (small_user, large_user):
        clients[user.pk] = Client(HTTP_HOST="localhost")
        clients[user.pk].force_login(user)
    portfolio_url = lambda user, portfolio: f"/portfolios/{portfolio.pk}/"
    every_view = (SORTS + FILTERS, DEEP_PAGES, AFTER_A_CHANGE)
    pages = [
        ("overview", lambda user, portfolio: "/", (), every_view),
        ("portfolio", portfolio_url, (), every_view),
        # With compliance profiles chosen the page counts verdicts over every site too (kept like the triage).
        (f"portfolio, {len(PROFILES_CHOSEN)} compliance profiles", portfolio_url, PROFILES_CHOSEN, PROFILE_VIEWS),
    ]
    header = (
        f"{'view':48} {'ms@' + str(args.small):>8} {'ms@' + str(args.sites):>9} {'ratio':>6} "
        f"{'<=' + str(RATIO_TARGET) + 'x':>7} {'<=' + str(int(MS_TARGET)) + 'ms':>7} {'queries':>9} {'SQL ms':>13} {'rows':>7}"
    )
    misses = 0
    for page, url, profiles, (targeted, deep, after_a_change) in pages:
        print(f"\n{page} {'=' * 60}")
        print(header)
        for portfolio in (small_portfolio, large_portfolio):
            services.portfolio_set_compliance_profiles(portfolio, profiles=profiles)
        groups = (
            ("", targeted, None),
            ("deep page, no target: ", deep, None),
            ("after a change, no target: ", after_a_change, changed),
        )
        for group, views, before in groups:
            for label, params in views:
                small_url, large_url = url(small_user, small_portfolio), url(large_user, large_portfolio)
                (small_ms, small_q, small_sql), (large_ms, large_q, large_sql) = paired(
                    lambda u=small_url, p=params: clients[small_user.pk].get(u, p),
                    lambda u=large_url, p=params: clients[large_user.pk].get(u, p),
                    args.rounds,
                    before,
                )
                ratio = large_ms / small_ms
                rows = "/".join(
                    str(clients[who.pk].get(u, params).content.count(ROW_MARK))
                    for who, u in ((small_user, small_url), (large_user, large_url))
                )
                if group:
                    marks = f"{'-':>7} {'-':>7}"
                else:
                    marks = f"{verdict(ratio, RATIO_TARGET):>7} {verdict(large_ms, MS_TARGET):>7}"
                    misses += (ratio > RATIO_TARGET) + (large_ms > MS_TARGET)
                print(
                    f"{group + label:48} {small_ms:8.1f} {large_ms:9.1f} {ratio:5.2f}x {marks} "
                    f"{small_q:4d}/{large_q:<4d} {small_sql:6.1f}/{large_sql:<6.1f} {rows:>7}"
                )
    for portfolio in (small_portfolio, large_portfolio):
        services.portfolio_set_compliance_profiles(portfolio, profiles=())
    return misses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    # A database of its own: what the other benchmarks leave in theirs (10,000 more sites of another user, a
    # thousand queued scans) changes the planner's choices for this one's queries from run to run.
    env = database_env(own_database="dashboard")
    prepare_database(env)
    django_setup(env)
    from django.db import connection
    from django.test import Client

    from scanner.exports import csv_lines, json_chunks

    small_user, small_portfolio = seeded_user(args.small)
    user, portfolio = seeded_user(args.sites)
    with connection.cursor() as cursor:  # statistics for both users, as autovacuum would have them
        cursor.execute("ANALYZE scanner_site, scanner_scan, scanner_finding, scanner_portfolio_sites")

    print(load())
    misses = compare_views(args, small_user, small_portfolio, user, portfolio)
    print(f"\n{misses} target(s) missed; {load()}")

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    print(f"\n{'API at ' + str(args.sites) + ' sites':32} {'request ms':>10} {'queries':>8} {'SQL ms':>7}")
    client.get("/api/v1/portfolios")
    ms, queries, sql = timed(lambda: client.get("/api/v1/portfolios"), args.rounds)
    size = len(client.get("/api/v1/portfolios").content)
    print(f"{'GET /api/v1/portfolios':32} {ms:10.1f} {queries:8d} {sql:7.1f}   {size} bytes")
    client.get(f"/api/v1/sites?portfolio={portfolio.pk}")
    ms, queries, sql = timed(lambda: client.get(f"/api/v1/sites?portfolio={portfolio.pk}"), args.rounds)
    print(f"{'GET /api/v1/sites?portfolio=':32} {ms:10.1f} {queries:8d} {sql:7.1f}")

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
