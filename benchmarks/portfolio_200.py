"""A 200-site portfolio through the real service path (bulk request -> Redis -> a Celery worker started with the
shipped settings, as deploy/Procfile runs it -> PostgreSQL) against one sslyze CLI invocation over the same
200 targets, all on the lab.

    .venv/bin/python -m benchmarks.portfolio_200 [--sites 200] [--concurrency 4]

Prints the wall time of each, the ratio, and where the service's time went (scan run time vs queue wait).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter

from benchmarks._setup import ROOT, database_env, django_setup, prepare_database
from benchmarks.engine_vs_sslyze_cli import SSLYZE_CLI_COMMANDS
from tests.lab import Lab


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "4")))
    args = parser.parse_args()
    with Lab() as lab:
        good = lab.case("good")
        pins = [f"p{i:03d}.bench.test:{good.ip}" for i in range(args.sites)]
        queue = f"bench-portfolio-{uuid.uuid4().hex[:8]}"
        env = {
            **database_env(),
            "SCANNER_ALLOWED_NETWORKS": lab.allowed_network,
            "SCANNER_RESOLVE": ",".join([*lab.resolve_map(), *pins]),
            "SCANNER_CA_FILE": lab.ca_file,
            "SCANNER_SCAN_QUEUE": queue,
            "SCANNER_RESCAN_QUEUE": queue,
        }
        prepare_database(env)
        django_setup(env)
        from django.contrib.auth import get_user_model
        from django.db.models import Avg, F, Max, Min, Sum

        from scanner import services
        from scanner.models import Portfolio, Scan, Site

        user, _ = get_user_model().objects.get_or_create(username=f"bench-portfolio-{uuid.uuid4().hex[:6]}")
        portfolio = Portfolio.objects.create(owner=user, name="200 sites")
        portfolio.sites.add(
            *Site.objects.bulk_create(
                Site(owner=user, hostname=pin.partition(":")[0], https_port=good.https_port, http_port=good.http_port)
                for pin in pins
            )
        )
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "webui",
                "worker",
                f"--queues={queue}",
                f"--concurrency={args.concurrency}",
                f"--hostname=bench-{queue}@%h",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            time.sleep(5)  # the worker's start-up is not part of a portfolio scan
            start = time.perf_counter()
            services.submit_portfolio_scans(portfolio)
            requested = time.perf_counter() - start
            scans = Scan.objects.filter(portfolio=portfolio)
            while scans.filter(status__in=Scan.ACTIVE_STATUSES).exists():
                time.sleep(0.5)
            service_wall = time.perf_counter() - start
        finally:
            worker.terminate()
            worker.wait(timeout=120)
        stats = scans.aggregate(
            runs=Sum(F("finished_at") - F("started_at")),
            first=Min("requested_at"),
            last=Max("finished_at"),
            wait=Avg(F("started_at") - F("requested_at")),
        )
        durations = [(s.finished_at - s.started_at).total_seconds() for s in scans if s.started_at and s.finished_at]
        statuses = dict(Counter(scans.values_list("status", flat=True)))

        command = [
            sys.executable,
            "-m",
            "sslyze",
            "--quiet",
            "--mozilla_config=disable",
            "--certinfo_ca_file",
            lab.ca_file,
            *SSLYZE_CLI_COMMANDS,
            *(f"{pin.partition(':')[0]}:{good.https_port}{{{good.ip}}}" for pin in pins),
        ]
        start = time.perf_counter()
        subprocess.run(command, check=False, capture_output=True)
        cli_wall = time.perf_counter() - start

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"service: {args.sites} sites, worker --concurrency={args.concurrency}: all finished in {service_wall:.1f} s "
        f"(request {requested:.2f} s; statuses {statuses})"
    )
    print(
        f"  per scan: median {statistics.median(durations):.2f} s, p90 {sorted(durations)[int(len(durations) * 0.9)]:.2f} s; "
        f"mean queue wait {stats['wait'].total_seconds():.1f} s"
    )
    busy = stats["runs"].total_seconds() / (args.concurrency * service_wall)
    print(
        f"  worker slots busy {busy:.0%} of the wall time (sum of scan run times {stats['runs'].total_seconds():.0f} s)"
    )
    print(f"sslyze CLI, one invocation, same {args.sites} targets and TLS commands: {cli_wall:.1f} s")
    print(f"service / CLI: {service_wall / cli_wall:.2f}x")


if __name__ == "__main__":
    main()
