"""A million sites a day, planned and simulated: the real rescan planner, release and storage code on a PostgreSQL
database seeded with every site, with a stub engine standing in for the network.

    .venv/bin/python -m benchmarks.capacity_day [--sites 1000000] [--portfolios 1000] [--sample-portfolios 20]

What it does, each step timed against the real database (the sizes are the whole population, not a sample):
1. seeds --sites sites in --portfolios daily-scheduled portfolios (COPY, one owner per 10 portfolios);
2. fans out --sample-portfolios portfolios as beat's rescan task does (submit_portfolio_scans, scheduled, in the
   shipped batches): planner cost per site;
3. release ticks (release_due_scans, the shipped limit of 500) and reaper ticks over the queued population;
4. stores --stored scans with a stub engine result (one real ScanResult of the lab's good case, graded once and
   reused): rows, bytes and database time per scan, as a worker's store_outcome writes them;
5. runs the day as a discrete simulation from those measured costs and the settings: queue depth, release rate,
   worker slots and memory, PostgreSQL write rate and storage; prints what breaks first and the machine counts
   for 1 M and 10 M sites a day.

Uses its own database (BENCH_CAPACITY_DATABASE_URL, default .../scanner_capacity) and a Redis database of its own
for the messages it sends (purged at the end). docs/capacity.md records a run.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
import uuid
from datetime import timedelta

from benchmarks._setup import database_env, django_setup, prepare_database

# Measured elsewhere (docs/benchmarks.md, issue 25's figures): what one scan costs a worker at real latency.
SLOT_SECONDS_PER_SCAN = 1.5  # a slot is held 1.2-1.7 s per scan at 25 ms one-way latency
WORKER_CPU_SECONDS_PER_SCAN = 0.09
CHILD_MIB_PER_SLOT = 140  # a scan child's resident size, flat over hundreds of scans
WEB_CPU_SECONDS_PER_SCAN = 0.005


def _copy(cursor, table: str, columns: tuple[str, ...], rows) -> None:
    buffer = io.StringIO("".join("\t".join(map(str, row)) + "\n" for row in rows))
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


def seed(sites: int, portfolios: int) -> float:
    """Users, portfolios and sites by COPY; returns the seconds it took (0 when already seeded)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from scanner.models import Site

    if Site.objects.count() >= sites:
        return 0.0
    start = time.perf_counter()
    per_portfolio = sites // portfolios
    user_model = get_user_model()
    owners = [
        user_model.objects.create_user(f"agency-{n}-{uuid.uuid4().hex[:6]}") for n in range(max(1, portfolios // 10))
    ]
    from scanner.models import Portfolio

    created = Portfolio.objects.bulk_create(
        Portfolio(owner=owners[n % len(owners)], name=f"clients {n}") for n in range(portfolios)
    )
    now = "2026-12-06 00:00:00+00"
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        site_rows = (
            (
                created[n // per_portfolio].owner_id,
                f"s{n}.p{n // per_portfolio}.capacity.test",
                443,
                80,
                now,
                "f",
                "",
                "f",
                "",
            )
            for n in range(per_portfolio * portfolios)
        )
        _copy(
            raw,
            "scanner_site",
            (
                "owner_id",
                "hostname",
                "https_port",
                "http_port",
                "created_at",
                "badge_public",
                "share_token",
                "alerts_muted",
                "grade",
            ),
            site_rows,
        )
        first_site = Site.objects.order_by("id").values_list("id", flat=True).first()
        link_rows = (
            (portfolio.pk, first_site + index * per_portfolio + offset)
            for index, portfolio in enumerate(created)
            for offset in range(per_portfolio)
        )
        _copy(raw, "scanner_portfolio_sites", ("portfolio_id", "site_id"), link_rows)
    return time.perf_counter() - start


def canned_outcome():
    """One real scan of the lab's good case, graded and reported once: the stub engine's answer for every site."""
    from scanner.engine import scan
    from scanner.grading import grade
    from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
    from scanner.report import build_report
    from scanner.targets import parse_target
    from tests.lab import Lab

    with Lab() as lab:
        case = lab.case("good")
        policy = NetworkPolicy(parse_networks([lab.allowed_network]), parse_pins(lab.resolve_map()))
        result = scan(
            parse_target(case.hostname, https_port=case.https_port, http_port=case.http_port),
            policy=policy,
            ca_file=lab.ca_file,
        )
    grades = grade(result)
    return result, grades, build_report(result, grades)


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def database_bytes() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=1_000_000)
    parser.add_argument("--portfolios", type=int, default=1000)
    parser.add_argument("--sample-portfolios", type=int, default=20)
    parser.add_argument("--stored", type=int, default=2000)
    args = parser.parse_args()

    env = database_env()
    env["DATABASE_URL"] = os.environ.get(
        "BENCH_CAPACITY_DATABASE_URL", env["DATABASE_URL"].rpartition("/")[0] + "/scanner_capacity"
    )
    env["CELERY_BROKER_URL"] = os.environ.get("BENCH_CAPACITY_BROKER_URL", "redis://127.0.0.1:6379/15")
    queue = f"capacity-{uuid.uuid4().hex[:8]}"
    env["SCANNER_SCAN_QUEUE"] = env["SCANNER_RESCAN_QUEUE"] = queue
    env["SCANNER_TARGET_MIN_INTERVAL"] = "0"
    prepare_database(env)
    django_setup(env)

    import redis
    from django.conf import settings
    from django.db.models import Count
    from django.utils import timezone

    from scanner import services
    from scanner.models import Finding, Portfolio, Scan, Site

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    seconds = seed(args.sites, args.portfolios)
    total_sites = Site.objects.count()
    print(
        f"seeded: {total_sites:,} sites in {Portfolio.objects.count():,} portfolios"
        + (f" ({seconds:.0f} s, {total_sites / seconds:,.0f} rows/s)" if seconds else " (already there)")
    )

    # --- 2. the planner: beat's daily fan-out of a portfolio -----------------------------------------------
    Scan.objects.all().delete()
    sample = list(Portfolio.objects.annotate(n=Count("sites")).order_by("id")[: args.sample_portfolios])
    per_site = []
    for portfolio in sample:
        outcomes, elapsed = timed(
            services.submit_portfolio_scans,
            portfolio,
            batch_size=settings.SCANNER_RESCAN_BATCH_SIZE,
            batch_interval=settings.SCANNER_RESCAN_BATCH_INTERVAL,
            scheduled=True,
        )
        per_site.append(elapsed / max(1, len(outcomes)))
    planner_ms = statistics.median(per_site) * 1000
    sampled_sites = sum(p.n for p in sample)
    print(
        f"planner (submit_portfolio_scans, scheduled): {planner_ms:.2f} ms per site (median over "
        f"{len(sample)} portfolios, {sampled_sites:,} sites); a {total_sites:,}-site day costs "
        f"{planner_ms * total_sites / 1000 / 60:.1f} min of one process"
    )

    # --- 3. release and reaper ticks --------------------------------------------------------------------
    Scan.objects.filter(status=Scan.Status.QUEUED, enqueued_at__isnull=True).update(
        release_at=timezone.now() - timedelta(seconds=1)
    )
    releases = [timed(services.release_due_scans, limit=500) for _ in range(5)]
    release_s = statistics.median(elapsed for _, elapsed in releases)
    _, reaper_s = timed(services.reap_stale_scans)
    print(
        f"release tick (limit 500): {release_s * 1000:.0f} ms for {releases[0][0]} scans; "
        f"reaper tick: {reaper_s * 1000:.0f} ms over {Scan.objects.filter(status__in=Scan.ACTIVE_STATUSES).count():,} "
        "active scans"
    )

    # --- 4. storing outcomes (stub engine) -------------------------------------------------------------------
    result, grades, document = canned_outcome()
    to_store = list(Scan.objects.filter(status=Scan.Status.QUEUED).select_related("site")[: args.stored])
    before_bytes, before_findings = database_bytes(), Finding.objects.count()
    store_times = []
    for scan in to_store:
        scan.status = Scan.Status.RUNNING
        _, elapsed = timed(services.store_outcome, scan, result, grades, document)
        store_times.append(elapsed)
    stored = len(to_store)
    bytes_per_scan = (database_bytes() - before_bytes) / max(1, stored)
    findings_per_scan = (Finding.objects.count() - before_findings) / max(1, stored)
    store_ms = statistics.median(store_times) * 1000
    print(
        f"store_outcome: {store_ms:.1f} ms median, p90 {sorted(store_times)[int(stored * 0.9)] * 1000:.1f} ms; "
        f"{findings_per_scan:.1f} findings and ~{bytes_per_scan / 1024:.1f} KiB of database per scan"
    )

    broker = redis.Redis.from_url(env["CELERY_BROKER_URL"])
    messages = broker.llen(queue)
    broker.delete(queue)

    simulate_day(
        sites=args.sites,
        planner_ms=planner_ms,
        release_s=release_s,
        store_ms=store_ms,
        bytes_per_scan=bytes_per_scan,
        batch_size=settings.SCANNER_RESCAN_BATCH_SIZE,
        batch_interval=settings.SCANNER_RESCAN_BATCH_INTERVAL,
        tick=settings.SCANNER_REAPER_INTERVAL,
        retention_days=settings.SCANNER_REPORT_RETENTION_DAYS,
        portfolios=args.portfolios,
    )
    print(f"(broker: {messages:,} messages sent during the run, purged)")


def simulate_day(
    *,
    sites: int,
    planner_ms: float,
    release_s: float,
    store_ms: float,
    bytes_per_scan: float,
    batch_size: int,
    batch_interval: int,
    tick: float,
    retention_days: int,
    portfolios: int,
) -> None:
    """The day minute by minute from the measured costs: every portfolio fires at 03:00 (the 'daily' preset)."""
    per_portfolio = sites // portfolios
    release_per_tick = 500
    release_capacity_per_min = release_per_tick * 60 / tick
    # Batches of every portfolio come due together: batch k of every portfolio at 03:00 + k * interval.
    due_per_min = portfolios * batch_size * 60 / batch_interval
    fanout_min = sites * planner_ms / 1000 / 60
    released_per_min = min(due_per_min, release_capacity_per_min)
    release_window_h = sites / released_per_min / 60
    slots_for_window = sites * SLOT_SECONDS_PER_SCAN / (release_window_h * 3600)
    print("\nthe day, simulated from those costs (every portfolio on the 'daily' preset, 03:00):")
    print(
        f"  fan-out at 03:00: {fanout_min:.1f} min of the rescan task for {sites:,} queued rows "
        f"({per_portfolio:,} per portfolio; the task's limit is 1800 s per portfolio)"
    )
    print(
        f"  batches come due at {due_per_min:,.0f}/min; release_due_scans sends at most {release_capacity_per_min:,.0f}/min "
        f"(500 per {tick:g} s tick, {release_s * 1000:.0f} ms each)"
    )
    print(
        f"  => all {sites:,} released after {release_window_h:.1f} h; queue depth peaks at {sites:,} stored rows "
        f"right after the fan-out, 0 messages waiting in Redis beyond one batch"
    )
    print(
        f"  worker slots to keep pace with release: {slots_for_window:.0f} "
        f"({slots_for_window * CHILD_MIB_PER_SLOT / 1024:.1f} GiB of scan children, "
        f"{sites * WORKER_CPU_SECONDS_PER_SCAN / (release_window_h * 3600):.1f} cores)"
    )
    writes_per_s = sites / (release_window_h * 3600)
    print(
        f"  PostgreSQL: {writes_per_s:.0f} stored scans/s ({writes_per_s * store_ms / 1000:.2f} s of database time per s), "
        f"{sites * bytes_per_scan / 2**30:.1f} GiB a day; {retention_days} days kept = "
        f"{sites * bytes_per_scan * retention_days / 2**40:.2f} TiB before retention drops report documents"
    )
    for target in (1_000_000, 10_000_000):
        slots = target * SLOT_SECONDS_PER_SCAN / 86400
        print(
            f"  {target:,} sites spread over 24 h: {slots:.0f} busy slots on average, "
            f"{target * WORKER_CPU_SECONDS_PER_SCAN / 86400:.1f} worker cores, "
            f"{target * WEB_CPU_SECONDS_PER_SCAN / 86400:.2f} web cores, "
            f"{target / 86400:.0f} stores/s; release needs {target / 86400 * tick:.0f} per tick "
            f"({'fits' if target / 86400 * tick <= release_per_tick else 'exceeds'} the limit of 500)"
        )


if __name__ == "__main__":
    main()
