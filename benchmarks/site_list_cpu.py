"""CPU per request of the API's site list (page 1 of 10,000 sites) and of /healthz, in-process.

Each request goes through Django's WSGI handler and the whole middleware stack with an API token, as gunicorn
would send it, without a socket: the server CPU that bin/bench web_tier reports, without the queueing. The two
paths alternate in rounds of 200 requests so both see the same machine; each line prints the CPU (process time)
and wall time per request, the wall time including PostgreSQL's and Redis's answers. --profile prints where the
site list's CPU goes instead (cProfile timed by process time).

    .venv/bin/python -m benchmarks.site_list_cpu [--requests 200] [--rounds 5] [--sites 10000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import time

from benchmarks._setup import database_env, django_setup, prepare_database
from benchmarks.web_tier import load_average, start_worker


def token_for_sites(count: int) -> str:
    from django.contrib.auth import get_user_model

    from benchmarks.seed import seed_sites
    from scanner.models import Site
    from webui.api.tokens import token_create

    user, _ = get_user_model().objects.get_or_create(username=f"bench-site-list-{count}")
    if not Site.objects.filter(owner=user).exists():
        seed_sites(user, count)
    _, token = token_create(user=user, name=f"bench {time.time():.0f}")
    return token


def requester(token: str):
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    handler = WSGIHandler()
    factory = RequestFactory(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1:8000")

    def get(path: str) -> str:
        status = []
        environ = factory.get(path).environ
        b"".join(handler(environ, lambda code, headers: status.append(code)))
        return status[0]

    return get


def per_request(get, path: str, requests: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(requests):
        get(path)
    return (time.process_time() - cpu) / requests * 1000, (time.perf_counter() - wall) / requests * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="print where the site list's CPU goes")
    args = parser.parse_args()
    env = database_env()
    rates = ("SCANNER_API_REQUESTS_PER_USER", "SCANNER_API_REQUESTS_PER_TOKEN", "SCANNER_API_REQUESTS_PER_ADDRESS")
    env.update(dict.fromkeys(rates, ""))  # capacity, not abuse limits, as in web_tier
    prepare_database(env)
    django_setup(env)
    get = requester(token_for_sites(args.sites))
    worker = start_worker(env)  # so /healthz answers 200, as in service
    try:
        measure(get, args)
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def measure(get, args) -> None:
    paths = {"healthz": "/healthz", "site list": "/api/v1/sites"}
    deadline = time.monotonic() + 120
    while not get(paths["healthz"]).startswith("200"):  # the worker's first heartbeat
        assert time.monotonic() < deadline, "/healthz did not answer 200 within 2 minutes"
        time.sleep(1)
    for path in paths.values():
        assert get(path).startswith("200"), path
        for _ in range(30):  # warm up: the first requests import and compile
            get(path)
    gc.collect()
    gc.freeze()  # as deploy/gunicorn.conf.py does after start-up
    if args.profile:
        profile = cProfile.Profile(time.process_time)
        profile.runcall(lambda: [get(paths["site list"]) for _ in range(args.requests)])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
        return
    print(f"{args.requests} requests a round, {args.rounds} rounds, {args.sites} sites; {load_average()}", flush=True)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    for round_number in range(1, args.rounds + 1):
        for name, path in paths.items():
            cpu, wall = per_request(get, path, args.requests)
            results[name].append((cpu, wall))
            print(f"round {round_number}  {name:9}  CPU {cpu:5.2f} ms  wall {wall:6.2f} ms a request", flush=True)
    for name, rounds in results.items():
        cpus = [cpu for cpu, _ in rounds]
        print(f"{name:9}  CPU a request: best {min(cpus):.2f} ms, median {statistics.median(cpus):.2f} ms")
    print(load_average())


if __name__ == "__main__":
    main()
