"""What a person waits for when asking to scan or import a 200-site portfolio: the request done inline (the path
small portfolios still take) against the request that records a bulk operation, side by side, with the worker's
time to do that operation (PostgreSQL; the messages go to a throwaway Redis queue, no scan runs).

    .venv/bin/python -m benchmarks.bulk_request [--sites 200] [--rounds 3]

Prints the median of each, the ratios and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid

from benchmarks._setup import database_env, django_setup, prepare_database

TARGET_REQUEST_RATIO = 0.05  # the bulk request: at most a twentieth of doing the work inline


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    queue = f"bench-bulk-{uuid.uuid4().hex[:8]}"
    env = {
        **database_env(),
        "SCANNER_SCAN_QUEUE": queue,
        "SCANNER_RESCAN_QUEUE": queue,
        # The work itself is measured, not the limits: no quota, no per-target interval, no reuse window.
        "SCANNER_SCANS_PER_HOUR": "0",
        "SCANNER_SCANS_PER_DAY": "0",
        "SCANNER_TARGET_MIN_INTERVAL": "0",
        "SCANNER_RESCAN_MIN_INTERVAL": "0",
    }
    prepare_database(env)
    django_setup(env)
    import redis
    from django.contrib.auth import get_user_model

    from scanner import imports, services
    from scanner.models import Portfolio, Site
    from scanner.services.bulk import bulk_import_request, bulk_run, bulk_scan_request

    def portfolio(user, name: str, sites: int) -> Portfolio:
        made = Portfolio.objects.create(owner=user, name=name)
        made.sites.add(
            *Site.objects.bulk_create(Site(owner=user, hostname=f"{name}-{i}.bench.test") for i in range(sites))
        )
        return made

    def timed(call) -> tuple[float, object]:
        start = time.perf_counter()
        value = call()
        return time.perf_counter() - start, value

    rows: dict[str, list[float]] = {key: [] for key in ("scan inline", "scan bulk", "scan worker", "import inline")}
    rows.update({"import bulk": [], "import worker": []})
    try:
        for round_no in range(args.rounds):
            user = get_user_model().objects.create(username=f"bench-bulk-{uuid.uuid4().hex[:8]}")
            inline, bulk = portfolio(user, f"i{round_no}", args.sites), portfolio(user, f"b{round_no}", args.sites)
            rows["scan inline"].append(timed(lambda inline=inline: services.submit_portfolio_scans(inline))[0])
            seconds, operation = timed(lambda bulk=bulk: bulk_scan_request(bulk))
            rows["scan bulk"].append(seconds)
            rows["scan worker"].append(timed(lambda operation=operation: bulk_run(operation.pk))[0])

            empty = [Portfolio.objects.create(owner=user, name=f"{kind}{round_no}") for kind in ("ii", "ib")]
            texts = ["\n".join(f"{kind}{round_no}-{i}.bench.test,443,t" for i in range(args.sites)) for kind in "xy"]
            rows["import inline"].append(
                timed(lambda: imports.import_sites(user, empty[0], texts[0]))[0]  # noqa: B023 - called right here
            )
            seconds, operation = timed(lambda: bulk_import_request(user, empty[1], texts[1]))  # noqa: B023
            rows["import bulk"].append(seconds)
            rows["import worker"].append(timed(lambda operation=operation: bulk_run(operation.pk))[0])
    finally:
        client = redis.Redis.from_url(env["CELERY_BROKER_URL"])
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()

    median = {key: statistics.median(values) for key, values in rows.items()}
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.sites} sites, {args.rounds} rounds")
    for kind in ("scan", "import"):
        ratio = median[f"{kind} bulk"] / median[f"{kind} inline"]
        print(
            f"{kind}: request inline {median[f'{kind} inline']:.2f} s, bulk {median[f'{kind} bulk'] * 1000:.0f} ms: "
            f"ratio {ratio:.3f} (target <= {TARGET_REQUEST_RATIO}); the worker then took "
            f"{median[f'{kind} worker']:.2f} s ({median[f'{kind} worker'] / median[f'{kind} inline']:.2f}x inline)"
        )


if __name__ == "__main__":
    main()
