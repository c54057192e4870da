"""A day of scheduled rescans, simulated on a seeded PostgreSQL database: the portfolios' schedules, the real rescan planner
(scanner.tasks.rescan_portfolio), the real release (release_due_scans) and reaper (reap_stale_scans), and workers
that run the real execute_scan with a stub engine (one canned ScanResult of the lab's good case, graded and stored
for every scan it answers), on a fake clock that advances one beat tick (SCANNER_REAPER_INTERVAL) at a time.

    .venv/bin/python -m benchmarks.capacity_day [--sites 10000] [--hours 24] [--slots 64] ...

At a million sites this machine cannot run every fan-out, release and store through the product's per-row code in
an evening, so each tick runs a bounded number of them for real (--plan-real portfolios, --release-real scans,
--store-real scans) and writes the rest with one SQL statement each that leaves the same rows behind (the same
columns, the same release times, the same site bookkeeping). The per-row costs come from the real calls; the
population every query runs against is the whole day's. The default (10,000 sites) runs everything for real
except most stores. benchmarks/capacity_million.py runs it at 1,000,000 sites; docs/capacity.md records runs.

Uses a database of its own, dropped and created afresh (BENCH_CAPACITY_DATABASE_URL, default .../scanner_capacity),
and a Redis database of its own (BENCH_CAPACITY_BROKER_URL) for the run_scan messages: the real code sends them, the
bulk share of the release gets copies of a real one, and the simulated workers take the oldest first, so the queue
the reaper reads holds what a deployment's broker would hold.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import signal
import statistics
import sys
import time
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks._setup import database_env, django_setup, prepare_database

# Measured by the engine benchmarks (docs/benchmarks.md): what one scan costs a worker at real latency.
SLOT_SECONDS_PER_SCAN = 1.5
WORKER_CPU_SECONDS_PER_SCAN = 0.09
CHILD_MIB_PER_SLOT = 140
WEB_CPU_SECONDS_PER_SCAN = 0.005
# A Monday, so the weekly preset fires as well as the daily one.
DAY = datetime(2026, 12, 7, tzinfo=UTC)
# How the product's schedules are spread: the two presets fire at 03:00; a custom cron at any minute.
SCHEDULE_MIX = (("daily", 0.6), ("weekly", 0.1), ("cron", 0.3))


class Clock:
    """django.utils.timezone.now for everything the product runs here: the simulated time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class Cost:
    """Wall time, this process's CPU, the PostgreSQL backend's CPU and the queries of the real calls of one kind."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.db_cpu: list[float] = []
        self.queries: list[int] = []
        self.units = 0

    def add(self, wall: float, cpu: float, db_cpu: float, queries: int, units: int) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)
        self.db_cpu.append(db_cpu)
        self.queries.append(queries)
        self.units += units

    def per_unit(self, values: list[float]) -> float:
        return sum(values) / max(1, self.units)

    def line(self, unit: str) -> str:
        if not self.wall:
            return "not run"
        return (
            f"{len(self.wall)} calls, {self.units:,} {unit}: per {unit} {self.per_unit(self.wall) * 1000:.2f} ms wall, "
            f"{self.per_unit(self.cpu) * 1000:.2f} ms CPU, {self.per_unit(self.db_cpu) * 1000:.2f} ms PostgreSQL CPU, "
            f"{sum(self.queries) / max(1, self.units):.1f} queries; per call median "
            f"{statistics.median(self.wall) * 1000:.0f} ms, max {max(self.wall) * 1000:.0f} ms"
        )


def backend_cpu(pid: int) -> float:
    """CPU seconds the PostgreSQL backend serving this process has used (it runs on this machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(cost: Cost, units: int, function, *args, **kwargs):
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    pid = connection.cursor().connection.info.backend_pid
    reset_queries()  # the capture counts within a log capped at 9,000 queries: start each from empty
    db_before, cpu_before, start = backend_cpu(pid), time.process_time(), time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        value = function(*args, **kwargs)
    wall = time.perf_counter() - start
    cost.add(wall, time.process_time() - cpu_before, backend_cpu(pid) - db_before, len(queries), units(value))
    return value


def _copy(cursor, table: str, columns: tuple[str, ...], rows) -> None:
    buffer = "".join("\t".join(map(str, row)) + "\n" for row in rows)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buffer)


def schedule_for(index: int, rng: random.Random) -> tuple[str, str]:
    """(kind, cron expression) for the index-th portfolio, following SCHEDULE_MIX."""
    from scanner.services.schedules import PRESET_CRONS

    point, total = rng.random(), 0.0
    for kind, share in SCHEDULE_MIX:
        total += share
        if point < total:
            break
    if kind == "cron":
        return kind, f"{rng.randrange(60)} {rng.randrange(24)} * * *"
    return kind, PRESET_CRONS[kind]


def seed(sites: int, portfolio_size: int) -> dict[int, str]:
    """Owners, portfolios with their schedules (as set_portfolio_schedule stores them: the cron and the first
    slot of the simulated day) and sites, in bulk. Returns each portfolio's cron expression."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from scanner.models import Portfolio, Site
    from scanner.services.schedules import next_rescan

    portfolios = max(1, sites // portfolio_size)
    rng = random.Random(25)
    user_model = get_user_model()
    owners = user_model.objects.bulk_create(
        user_model(username=f"agency-{n}", password="!") for n in range(max(1, portfolios // 10))
    )
    schedules = [schedule_for(n, rng)[1] for n in range(portfolios)]
    first_slots = {expression: next_rescan(expression, after=DAY) for expression in set(schedules)}
    created = Portfolio.objects.bulk_create(
        (
            Portfolio(
                owner=owners[n % len(owners)],
                name=f"clients {n}",
                rescan_cron=schedules[n],
                next_rescan_at=first_slots[schedules[n]],
            )
            for n in range(portfolios)
        ),
        batch_size=5000,
    )
    expressions = {portfolio.pk: portfolio.rescan_cron for portfolio in created}
    now = DAY - timedelta(days=30)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")  # the service's 30 s limit is for requests, not a 1 M-row COPY
        raw = cursor.cursor
        _copy(
            raw,
            "scanner_site",
            ("owner_id", "hostname", "https_port", "http_port", "created_at", "badge_public", "share_token")
            + ("alerts_muted", "grade", "triage_rank"),
            (
                (created[n // portfolio_size].owner_id, f"s{n}.p{n // portfolio_size}.capacity.test", 443, 80, now)
                + ("f", "", "f", "", 0)
                for n in range(portfolio_size * portfolios)
            ),
        )
        first_site = Site.objects.order_by("id").values_list("id", flat=True).first()
        _copy(
            raw,
            "scanner_portfolio_sites",
            ("portfolio_id", "site_id"),
            (
                (portfolio.pk, first_site + index * portfolio_size + offset)
                for index, portfolio in enumerate(created)
                for offset in range(portfolio_size)
            ),
        )
        cursor.execute("ANALYZE")
        cursor.execute("RESET statement_timeout")
    return expressions


def reseeded() -> dict[int, str]:
    """--reuse: the seeded sites and schedules of an earlier run, with its scans and their traces removed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        cursor.execute(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
            "WHERE c.contype = 'f' AND c.confrelid = 'scanner_scan'::regclass"
        )
        for table, column in cursor.fetchall():
            if table == "scanner_site":
                cursor.execute(f"UPDATE scanner_site SET {column} = NULL WHERE {column} IS NOT NULL")
            else:
                cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            "UPDATE scanner_site SET last_scan_at = NULL, grade = '', grade_rank = NULL, triage_rank = 0 "
            "WHERE last_scan_at IS NOT NULL OR grade <> ''"
        )
        cursor.execute("DELETE FROM scanner_scan")
        cursor.execute("DELETE FROM scanner_limitevent")
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT id, rescan_cron FROM scanner_portfolio WHERE rescan_cron <> ''")
        expressions = dict(cursor.fetchall())
        cursor.execute("RESET statement_timeout")
    return expressions


def firings(expressions: dict[int, str], start: datetime, ticks: int, tick: float) -> dict[int, list[int]]:
    """Which portfolios are due in which tick: each portfolio's cron, parsed by celery as the due-rescans tick parses
    it (beat's tick itself is timed by benchmarks/due_rescans.py)."""
    from celery.schedules import crontab

    parsed: dict[str, tuple[set, set, set]] = {}
    due: dict[int, list[int]] = {}
    end = start + timedelta(seconds=ticks * tick)
    for pk, expression in expressions.items():
        if expression not in parsed:
            minute, hour, day_of_month, month, day_of_week = expression.split()
            schedule = crontab(minute, hour, day_of_week, day_of_month, month)
            parsed[expression] = (schedule.minute, schedule.hour, schedule.day_of_week)
        minutes, hours, weekdays = parsed[expression]
        moment = start.replace(second=0, microsecond=0)
        while moment < end:
            weekday = moment.isoweekday() % 7  # celery counts from Sunday = 0
            if moment >= start and moment.minute in minutes and moment.hour in hours and weekday in weekdays:
                due.setdefault(int((moment - start).total_seconds() // tick), []).append(pk)
            moment += timedelta(minutes=1)
    return due


def canned_outcome():
    """One real scan of the lab's good case: the stub engine's answer for every site."""
    from scanner.engine import scan
    from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
    from scanner.targets import parse_target
    from tests.lab import Lab

    with Lab() as lab:
        case = lab.case("good")
        policy = NetworkPolicy(parse_networks([lab.allowed_network]), parse_pins(lab.resolve_map()))
        return scan(
            parse_target(case.hostname, https_port=case.https_port, http_port=case.http_port),
            policy=policy,
            ca_file=lab.ca_file,
        )


PLAN_SQL = """
WITH ordered AS (
    SELECT s.id AS site_id, row_number() OVER (ORDER BY s.hostname, s.https_port) - 1 AS n
    FROM scanner_site s JOIN scanner_portfolio_sites ps ON ps.site_id = s.id
    WHERE ps.portfolio_id = %(portfolio)s
      AND NOT EXISTS (SELECT 1 FROM scanner_scan a WHERE a.site_id = s.id AND a.status IN ('queued', 'running'))
), inserted AS (
    INSERT INTO scanner_scan (site_id, portfolio_id, status, requested_at, security_grade, security_ignoring_trust,
        seo_grade, error, attempts, celery_task_id, worker, reserved_by, compliance_failing, release_at, enqueued_at)
    SELECT site_id, %(portfolio)s, 'queued', %(now)s, '', '', '', '', 0, gen_random_uuid()::text, '', '', '',
        %(now)s + (n / %(size)s * %(interval)s) * interval '1 second', NULL
    FROM ordered
    RETURNING id, site_id
), ledger AS (
    INSERT INTO scanner_limitevent (kind, key, cost, at)
    SELECT 'scans', (SELECT owner_id FROM scanner_portfolio WHERE id = %(portfolio)s)::text, 1, %(now)s FROM inserted
)
UPDATE scanner_site SET last_scan_id = inserted.id, last_scan_at = %(now)s
FROM inserted WHERE scanner_site.id = inserted.site_id
"""

RELEASE_SQL = """
UPDATE scanner_scan SET enqueued_at = %(now)s, release_at = %(now)s, reserved_by = ''
WHERE id IN (
    SELECT id FROM scanner_scan
    WHERE status = 'queued' AND enqueued_at IS NULL AND (release_at <= %(now)s OR release_at IS NULL)
    ORDER BY release_at, id LIMIT %(limit)s
)
RETURNING id, celery_task_id
"""

FINISH_SQL = """
WITH taken AS (
    UPDATE scanner_scan SET status = 'done', started_at = %(now)s, heartbeat_at = %(now)s, finished_at = %(now)s,
        attempts = attempts + 1, worker = 'capacity-sim', security_grade = %(grade)s, score = %(score)s
    WHERE id = ANY(%(ids)s) AND status = 'queued'
    RETURNING id, site_id
)
UPDATE scanner_site SET latest_scan_id = taken.id, grade = %(grade)s FROM taken WHERE scanner_site.id = taken.site_id
"""


def sql(statement: str, **params: object) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def sql_rows(statement: str, **params: object) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


class Broker:
    """The Redis queue the product sends its run_scan messages to, kept as a deployment's broker keeps it: the
    scans released in bulk (not by the real release) get copies of a real message pushed the same way, and the
    workers take the oldest messages first. So the reaper reads the queue a real one would read."""

    def __init__(self, client, queue: str) -> None:
        from scanner.queueing import RUN_SCAN, send_task

        self.client, self.queue = client, queue
        send_task(RUN_SCAN, args=[0], task_id=str(uuid.uuid4()), queue=queue)
        self.template = json.loads(client.rpop(queue))
        self.embed = json.loads(base64.b64decode(self.template["body"]))[2]
        self.pushed = self.taken = self.taken_bytes = 0

    def push(self, rows: list[tuple[int, str]]) -> None:
        """A message per (scan id, task id), in that order, as the release would send them."""
        pipe = self.client.pipeline(transaction=False)
        for scan_id, task_id in rows:
            body = base64.b64encode(json.dumps([[scan_id], {}, self.embed]).encode()).decode()
            headers = {**self.template["headers"], "id": task_id, "root_id": task_id, "argsrepr": f"[{scan_id}]"}
            properties = {**self.template["properties"], "correlation_id": task_id, "delivery_tag": str(uuid.uuid4())}
            pipe.lpush(
                self.queue, json.dumps({**self.template, "body": body, "headers": headers, "properties": properties})
            )
        pipe.execute()
        self.pushed += len(rows)

    def take(self, count: int) -> list[int]:
        """The scan ids of the `count` oldest messages, taken off the queue as workers take them."""
        from scanner.broker_backlog import run_scan_id

        messages = self.client.rpop(self.queue, count) or []
        self.taken += len(messages)
        self.taken_bytes += sum(len(m) for m in messages)
        return [scan_id for m in messages if (scan_id := run_scan_id(m)) is not None]

    def depth(self) -> int:
        return self.client.llen(self.queue)


def oldest_wait(now: datetime) -> float:
    """Seconds the oldest scan sent and not started has waited since it was (last) sent."""
    from scanner.models import Scan

    oldest = (
        Scan.objects.filter(status=Scan.Status.QUEUED, enqueued_at__isnull=False)
        .order_by("enqueued_at")
        .values_list("enqueued_at", flat=True)
        .first()
    )
    return (now - oldest).total_seconds() if oldest else 0.0


def counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE enqueued_at IS NULL), count(*) FILTER (WHERE enqueued_at IS NOT NULL) "
            "FROM scanner_scan WHERE status = 'queued'"
        )
        held, sent = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM scanner_scan WHERE status = 'running'")
        (running,) = cursor.fetchone()
    return {"held": held, "sent": sent, "running": running}


def table_bytes() -> dict[str, int]:
    from django.db import connection

    tables = ("scanner_scan", "scanner_finding", "scanner_site", "scanner_limitevent", "scanner_alert")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname = ANY(%s)", [list(tables)]
        )
        sizes = dict(cursor.fetchall())
        cursor.execute("SELECT pg_database_size(current_database())")
        sizes["database"] = cursor.fetchone()[0]
    return sizes


def stored_row_bytes(scan_ids: list[int]) -> dict[str, float]:
    """Per really stored scan: the rows and bytes (pg_column_size of each row, before indexes) it wrote."""
    from django.db import connection

    if not scan_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(pg_column_size(s.*)), 0), coalesce(sum(pg_column_size(s.result)), 0) "
            "FROM scanner_scan s WHERE id = ANY(%s)",
            [scan_ids],
        )
        scans, scan_bytes, document_bytes = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), coalesce(sum(pg_column_size(f.*)), 0) FROM scanner_finding f WHERE scan_id = ANY(%s)",
            [scan_ids],
        )
        findings, finding_bytes = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM scanner_alert WHERE scan_id = ANY(%s)", [scan_ids])
        (alerts,) = cursor.fetchone()
    n = max(1, scans)
    return {
        "scan_bytes": scan_bytes / n,
        "document_bytes": document_bytes / n,
        "findings": findings / n,
        "finding_bytes": finding_bytes / n,
        "alerts": alerts / n,
    }


def run(args: argparse.Namespace) -> dict:
    env = database_env()
    env["DATABASE_URL"] = os.environ.get(
        "BENCH_CAPACITY_DATABASE_URL", env["DATABASE_URL"].rpartition("/")[0] + "/scanner_capacity"
    )
    env["CELERY_BROKER_URL"] = os.environ.get("BENCH_CAPACITY_BROKER_URL", "redis://127.0.0.1:6379/15")
    queue = f"capacity-{uuid.uuid4().hex[:8]}"
    env["SCANNER_SCAN_QUEUE"] = env["SCANNER_RESCAN_QUEUE"] = queue
    # The sites are invented names: the per-target limit's advisory lock still runs, with nothing to find.
    env.setdefault("SCANNER_TARGET_MIN_INTERVAL", "3600")
    if not args.reuse:
        fresh_database(env["DATABASE_URL"])
    prepare_database(env)
    django_setup(env)

    import redis
    from django.conf import settings
    from django.utils import timezone

    from scanner import config, services, tasks
    from scanner.grading import grade
    from scanner.models import Scan

    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    start = time.perf_counter()
    expressions = reseeded() if args.reuse else seed(args.sites, args.portfolio_size)
    seeding = time.perf_counter() - start
    sites = len(expressions) * args.portfolio_size
    kinds = {kind: 0 for kind, _ in SCHEDULE_MIX}
    for expression in expressions.values():
        kinds[next((k for k, e in (("daily", "0 3 * * *"), ("weekly", "0 3 * * 1")) if e == expression), "cron")] += 1
    print(
        f"{'reused' if args.reuse else 'seeded'} {sites:,} sites in {len(expressions):,} portfolios of "
        f"{args.portfolio_size} in {seeding:.0f} s{'' if args.reuse else ' (COPY)'}; schedules: {kinds['daily']:,} daily (03:00), {kinds['weekly']:,} weekly (Monday 03:00), "
        f"{kinds['cron']:,} custom cron spread over the day"
    )

    result = canned_outcome()
    grades = grade(result)
    import scanner.engine

    scanner.engine.scan = lambda target, **_: result  # the stub engine: the network scan's place, nothing else

    tick = settings.SCANNER_REAPER_INTERVAL
    ticks = int(args.hours * 3600 // tick)
    begin = DAY + timedelta(hours=args.start_hour)
    clock = Clock(begin)
    timezone.now = clock
    due = firings(expressions, begin, ticks, tick)
    per_tick_scans = args.slots * tick / SLOT_SECONDS_PER_SCAN
    broker = Broker(redis.Redis.from_url(env["CELERY_BROKER_URL"]), queue)
    size, interval = config.rescan_batch_size(), config.rescan_batch_interval()
    planner, release, reaper, store = Cost(), Cost(), Cost(), Cost()
    planner_queue: deque[int] = deque()
    planner_debt = 0.0  # seconds of rescans-worker time owed by fan-outs already started
    totals = {"planned": 0, "released": 0, "stored": 0, "fanouts": 0, "duplicates": 0}
    reaped = {"resent": 0, "requeued": 0, "failed": 0}
    stored_ids: list[int] = []
    timeline: list[tuple[str, dict[str, int], int, float]] = []
    bytes_before = table_bytes()
    per_site_estimate = 0.01
    wall_start = time.perf_counter()
    due_ticks = sorted(due)
    n = 0
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # kill <pid>: report the day so far
    try:
        while n < ticks:
            clock.now = begin + timedelta(seconds=n * tick)
            planner_queue.extend(due.get(n, ()))
            # The rescans workers: --planners processes, each fan-out costing what the real ones cost per site.
            planner_debt = max(0.0, planner_debt - args.planners * tick)
            real_plans = 0
            tick_planner_s = 0.0
            while planner_queue and planner_debt < args.planners * tick:
                portfolio = planner_queue.popleft()
                if real_plans < args.plan_real and n % args.plan_every == 0:
                    before = len(planner.wall)
                    planned = measured(planner, lambda n: n, tasks.rescan_portfolio.run, portfolio)
                    per_site_estimate = planner.per_unit(planner.wall) if planner.units else per_site_estimate
                    tick_planner_s += planner.wall[before]
                    real_plans += 1
                else:
                    # Every batch held, the first included: the release sends them (scan_requests).
                    planned = sql(PLAN_SQL, portfolio=portfolio, now=clock.now, size=size, interval=interval)
                totals["planned"] += planned
                totals["fanouts"] += 1
                planner_debt += planned * per_site_estimate
            # Beat's release tops the queue up to its limit: the real one sends up to --release-real of that room,
            # then (at scale) the same query in bulk the rest, with a message pushed for each as the real one sends it.
            waiting = broker.depth()
            room = config.release_limit() - waiting
            real_share = max(0, min(room, args.release_real))
            sent = measured(release, lambda n: n, services.release_due_scans, limit=waiting + real_share)
            if sent >= real_share and room > sent:
                rows = sorted(sql_rows(RELEASE_SQL, now=clock.now, limit=room - sent))
                broker.push(rows)
                sent += len(rows)
            totals["released"] += sent
            # The workers: as many scans as --slots finish in a tick, taking the oldest messages from the broker. A
            # message for a scan no longer queued (a second copy) costs a worker next to nothing: it is skipped.
            take = int(per_tick_scans)
            started: list[int] = []
            for _ in range(10):
                taken = broker.take(take - len(started))
                if not taken:
                    break
                queued = set(Scan.objects.filter(pk__in=taken, status=Scan.Status.QUEUED).values_list("pk", flat=True))
                for scan_id in taken:
                    if scan_id in queued and scan_id not in started:
                        started.append(scan_id)
                    else:
                        totals["duplicates"] += 1
                if len(started) >= take:
                    break
            real = started[: args.store_real]
            for scan_id in real:
                measured(store, lambda _: 1, services.execute_scan, scan_id)
            stored_ids.extend(real)
            finished = len(real)
            if started[len(real) :]:
                finished += sql(
                    FINISH_SQL, now=clock.now, ids=started[len(real) :], grade=grades.security, score=grades.score
                )
            totals["stored"] += finished
            # Beat's reaper, every tick.
            for key, value in measured(reaper, lambda _: 1, services.reap_stale_scans).items():
                reaped[key] += value
            if n % int(args.sample_every / tick) == 0:
                depth = {**counts(), "broker": broker.depth(), "oldest_wait": oldest_wait(clock.now)}
                timeline.append((clock.now.strftime("%H:%M"), depth, len(planner_queue), tick_planner_s))
                if args.progress:
                    print("  progress", timeline[-1], reaped, f"{time.perf_counter() - wall_start:.0f} s", flush=True)
            n += 1
            if not planner_queue and planner_debt <= 0 and not counts_active():
                # Nothing queued or running: on to beat's next firing.
                later = [m for m in due_ticks if m >= n]
                if not later:
                    break
                n = later[0]
    except KeyboardInterrupt:
        print(f"  interrupted at {clock.now:%H:%M}: the day so far", flush=True)
    simulated = (clock.now - begin).total_seconds()
    bytes_after = table_bytes()
    wall = time.perf_counter() - wall_start
    return {
        "args": args,
        "sites": sites,
        "load": load,
        "seeding": seeding,
        "planner": planner,
        "release": release,
        "reaper": reaper,
        "store": store,
        "totals": totals,
        "reaped": reaped,
        "timeline": timeline,
        "simulated": simulated,
        "wall": wall,
        "bytes_before": bytes_before,
        "bytes_after": bytes_after,
        "row_bytes": stored_row_bytes(stored_ids),
        "tick": tick,
        "begin": begin,
        "broker": broker,
    }


def counts_active() -> bool:
    from scanner.models import Scan

    return Scan.objects.filter(status__in=Scan.ACTIVE_STATUSES).exists()


def fresh_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(outcome: dict) -> None:
    args, totals = outcome["args"], outcome["totals"]
    load = outcome["load"]
    print(
        f"\n-- the day: {outcome['begin']:%a %H:%M} + {outcome['simulated'] / 3600:.1f} h simulated in "
        f"{outcome['wall']:.0f} s, tick {outcome['tick']:g} s, {args.slots} worker slots, {args.planners} planners"
    )
    print(f"  planner (rescan_portfolio, real): {outcome['planner'].line('site')}")
    print(f"  release tick (release_due_scans, real): {outcome['release'].line('scan')}")
    print(f"  reaper tick (reap_stale_scans, real): {outcome['reaper'].line('tick')}")
    print(f"  worker (execute_scan with the stub engine, real): {outcome['store'].line('scan')}")
    print(
        f"  fan-outs {totals['fanouts']:,}; scans planned {totals['planned']:,}, released {totals['released']:,}, "
        f"finished {totals['stored']:,}; reaper: {outcome['reaped']}"
    )
    print("  time   held(PG)  sent(PG)  in-broker  oldest-wait-s  running  planner-queue  real-planner-s")
    for moment, depth, waiting, planner_s in outcome["timeline"]:
        if depth["held"] or depth["sent"] or depth["running"] or waiting:
            print(
                f"  {moment}  {depth['held']:>8,}  {depth['sent']:>8,}  {depth['broker']:>9,}  "
                f"{depth['oldest_wait']:>13,.0f}  {depth['running']:>7,}  {waiting:>13,}  {planner_s:>14.2f}"
            )
    rows = outcome["row_bytes"]
    if rows:
        print(
            f"  per stored scan: scan row {rows['scan_bytes'] / 1024:.1f} KiB (report document "
            f"{rows['document_bytes'] / 1024:.1f} KiB), {rows['findings']:.1f} findings ({rows['finding_bytes']:.0f} B), "
            f"{rows['alerts']:.2f} alerts; plus 1 limit-ledger row and 1-2 site updates"
        )
    before, after = outcome["bytes_before"], outcome["bytes_after"]
    for name in after:
        print(f"  {name}: {before.get(name, 0) / 2**20:,.1f} MiB -> {after[name] / 2**20:,.1f} MiB")
    broker = outcome["broker"]
    messages = broker.taken + broker.depth()
    average = broker.taken_bytes / max(1, broker.taken)
    print(
        f"  broker: {messages:,} run_scan messages ({broker.depth():,} still waiting), {average:,.0f} B each; "
        f"{totals['duplicates']:,} taken for a scan no longer queued (a second copy)"
    )
    print(f"  (load average at start {load[0]:.1f}; now {os.getloadavg()[0]:.1f})")


def parse(argv: list[str] | None = None, *, sites: int = 10_000) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=sites)
    parser.add_argument("--portfolio-size", type=int, default=100)
    parser.add_argument("--start-hour", type=float, default=0)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--slots", type=int, default=64, help="worker slots (pool processes) across all machines")
    parser.add_argument("--planners", type=int, default=4, help="rescans-queue processes running fan-outs")
    parser.add_argument("--plan-real", type=int, default=2, help="fan-outs per tick through the real task")
    parser.add_argument("--plan-every", type=int, default=1, help="ticks between ticks that run real fan-outs")
    parser.add_argument("--release-real", type=int, default=100, help="scans per tick released by the real code")
    parser.add_argument("--store-real", type=int, default=5, help="scans per tick run through execute_scan")
    parser.add_argument("--reuse", action="store_true", help="keep the sites and schedules an earlier run seeded")
    parser.add_argument("--progress", action="store_true", help="print each queue-depth sample as it is taken")
    parser.add_argument("--sample-every", type=float, default=300, help="seconds between queue-depth samples")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, *, sites: int = 10_000) -> None:
    args = parse(argv, sites=sites)
    if args.sites < 1_000_000:
        print(f"scale: {args.sites:,} sites, not the million (that is bin/bench capacity_million)")
    report(run(args))


if __name__ == "__main__":
    main(sys.argv[1:])
