"""Beat at 10,000 and 100,000 portfolios: the one due-rescans tick against a beat entry per portfolio.

Seeds a PostgreSQL database of its own by COPY with the capacity simulation's schedule mix (60 % daily and 10 %
weekly at 03:00, 30 % a custom cron at a random minute; the day is a Monday), twice over: each portfolio's cron
and next run (what the product stores now) and, for the comparison, the django-celery-beat entry per portfolio
that scanner.services.schedules stored before (PeriodicTask + CrontabSchedule). Then, at 03:00 on a fake clock
(django.utils.timezone.now), rounds of, interleaved:

- old: beat's DatabaseScheduler loading its entries (those of the hours around now) and asking each whether it is
  due: what beat did at start and after every schedule change, while its other ticks waited;
- claim at 03:00:05: the same tick inside a transaction rolled back at the end, so without its messages: what the
  tick itself costs, apart from sending the messages beat sent before too, one per portfolio due;
- tick at 03:00:05: the real scanner.services.queue_due_rescans claiming, advancing and sending every portfolio
  due at 03:00 (the rescan_portfolio messages go to a Redis database of its own, counted, then purged);
- tick at 03:01:05: the same with nothing due, what the tick costs the other 1,439 minutes of the day.

Between rounds the claimed portfolios are put back on their 03:00 slot.

    .venv/bin/python -m benchmarks.due_rescans [--portfolios 10000 100000] [--rounds 3] [--reuse]

BENCH_DUE_RESCANS_DATABASE_URL (default .../scanner_due_rescans), BENCH_DUE_RESCANS_BROKER_URL (default Redis db 14).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from datetime import timedelta

from benchmarks._setup import database_env, django_setup, prepare_database
from benchmarks.capacity_day import DAY, Clock, Cost, _copy, fresh_database, measured, schedule_for

PORTFOLIO_SIZE = 100  # sites per portfolio in the capacity model: 100,000 portfolios are 10 M sites


def seed(portfolios: int) -> None:
    """Owners, then portfolios and beat entries by COPY."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django_celery_beat.models import CrontabSchedule, PeriodicTasks

    from scanner import config
    from scanner.services.schedules import CRON_FIELDS, RESCAN_TASK, next_rescan

    rng = random.Random(25)
    user_model = get_user_model()
    owners = user_model.objects.bulk_create(
        (user_model(username=f"agency-{n}", password="!") for n in range(max(1, portfolios // 10))), batch_size=5000
    )
    schedules = [schedule_for(n, rng)[1] for n in range(portfolios)]
    # Seeded as if the last tick ran at 02:59:05: only the 03:00 slots are due at 03:00:05.
    first_slots = {
        expression: next_rescan(expression, after=DAY + timedelta(hours=2, minutes=59, seconds=5))
        for expression in set(schedules)
    }
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        _copy(
            cursor.cursor,
            "scanner_portfolio",
            ("owner_id", "name", "created_at", "notify_all_channels", "compliance_profiles")
            + ("rescan_cron", "next_rescan_at"),
            (
                (owners[n % len(owners)].pk, f"clients {n}", DAY, "t", "[]", expression, first_slots[expression])
                for n, expression in enumerate(schedules)
            ),
        )
        cursor.execute("SELECT id, rescan_cron FROM scanner_portfolio ORDER BY id")
        rows = cursor.fetchall()
        crontabs = {
            expression: CrontabSchedule.objects.get_or_create(
                **dict(zip(CRON_FIELDS, expression.split())), timezone=config.celery_timezone()
            )[0].pk
            for expression in set(schedules)
        }
        _copy(
            cursor.cursor,
            "django_celery_beat_periodictask",
            ("name", "task", "args", "kwargs", "enabled", "total_run_count", "date_changed", "description")
            + ("crontab_id", "one_off", "headers"),
            (
                (f"rescan portfolio {pk}", RESCAN_TASK, "[]", json.dumps({"portfolio_id": pk}), "t", 0, DAY, "")
                + (crontabs[expression], "f", "{}")
                for pk, expression in rows
            ),
        )
        cursor.execute("ANALYZE")
        cursor.execute("RESET statement_timeout")
    PeriodicTasks.update_changed()


def old_scheduler_load(cost: Cost) -> int:
    """What beat's DatabaseScheduler did with an entry per portfolio: load them (at start and after any schedule
    change), then ask each whether it is due."""
    from django_celery_beat.schedulers import DatabaseScheduler

    from webui.celery import app

    def load_and_check() -> int:
        scheduler = DatabaseScheduler(app=app, lazy=True)
        entries = scheduler.all_as_schedule()
        for entry in entries.values():
            entry.is_due()
        return len(entries)

    return measured(cost, lambda n: n, load_and_check)


def claim_only(queue_due_rescans, **kwargs) -> int:
    """The tick in a transaction rolled back: its claims and advances are undone and its messages never sent
    (on_commit callbacks of a rolled-back transaction are dropped)."""
    from django.db import transaction

    class RolledBack(Exception):
        pass

    try:
        with transaction.atomic():
            claimed = queue_due_rescans(**kwargs, time_budget=3600)
            raise RolledBack
    except RolledBack:
        return claimed


def run(args: argparse.Namespace, portfolios: int) -> None:
    env = database_env()
    env["DATABASE_URL"] = os.environ.get(
        "BENCH_DUE_RESCANS_DATABASE_URL", env["DATABASE_URL"].rpartition("/")[0] + "/scanner_due_rescans"
    )
    env["CELERY_BROKER_URL"] = os.environ.get("BENCH_DUE_RESCANS_BROKER_URL", "redis://127.0.0.1:6379/14")
    queue = f"due-rescans-{uuid.uuid4().hex[:8]}"
    env["SCANNER_RESCAN_QUEUE"] = queue
    if not args.reuse:
        fresh_database(env["DATABASE_URL"])
    prepare_database(env)
    django_setup(env)

    import redis
    from django.db import connection
    from django.utils import timezone

    from scanner import config
    from scanner.models import Portfolio
    from scanner.services import queue_due_rescans

    load = os.getloadavg()
    print(f"\n== {portfolios:,} portfolios ({portfolios * PORTFOLIO_SIZE:,} sites in the capacity model)")
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    if not args.reuse:
        start = time.perf_counter()
        seed(portfolios)
        print(
            f"seeded {portfolios:,} portfolios and as many beat entries in {time.perf_counter() - start:.0f} s (COPY)"
        )

    clock = Clock(DAY + timedelta(hours=3))
    timezone.now = clock
    slot = DAY + timedelta(hours=3)
    due_ids = list(Portfolio.objects.filter(next_rescan_at__lte=slot).values_list("pk", flat=True))
    broker = redis.Redis.from_url(env["CELERY_BROKER_URL"])
    old, claim, busy, quiet = Cost(), Cost(), Cost(), Cost()
    batch = config.due_rescans_batch_size()
    for round_ in range(args.rounds):
        clock.now = slot
        old_scheduler_load(old)
        clock.now = slot + timedelta(seconds=5)
        measured(claim, lambda n: n, claim_only, queue_due_rescans, batch_size=batch)
        queued = measured(busy, lambda n: n, queue_due_rescans, batch_size=batch, time_budget=3600)
        sent = broker.llen(queue)
        clock.now = slot + timedelta(minutes=1, seconds=5)
        measured(quiet, lambda n: 1, queue_due_rescans, batch_size=batch, time_budget=3600)
        print(
            f"  round {round_ + 1}: old load {old.wall[-1]:.2f} s; claim only {claim.wall[-1]:.2f} s; "
            f"tick {busy.wall[-1]:.2f} s queued {queued:,} "
            f"({sent:,} messages in the broker); quiet tick {quiet.wall[-1] * 1000:.1f} ms "
            f"(load {os.getloadavg()[0]:.1f})"
        )
        broker.delete(queue)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE scanner_portfolio SET next_rescan_at = %s WHERE id = ANY(%s)", [slot, due_ids])
    broker.delete(queue, f"_kombu.binding.{queue}")
    print(f"old: DatabaseScheduler load + is_due at 03:00: {old.line('entry')}")
    print(f"new: the tick's claim and advance alone, no messages: {claim.line('portfolio')}")
    print(f"new: due-rescans tick at 03:00:05 ({len(due_ids):,} due, batches of {batch}): {busy.line('portfolio')}")
    print(f"new: due-rescans tick at 03:01:05 (none due): {quiet.line('tick')}")
    print(f"(load average at end {os.getloadavg()[0]:.1f})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--portfolios", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the database an earlier run seeded (one size)")
    args = parser.parse_args(argv)
    for portfolios in args.portfolios:
        if len(args.portfolios) > 1:
            # Each size in a process of its own: Django is set up once per process, against that size's database.
            import subprocess

            command = [sys.executable, "-m", "benchmarks.due_rescans", "--portfolios", str(portfolios)]
            subprocess.run([*command, "--rounds", str(args.rounds), *(["--reuse"] if args.reuse else [])], check=True)
        else:
            run(args, portfolios)


if __name__ == "__main__":
    main(sys.argv[1:])
