"""The API under 100 concurrent clients, as ratios against the cheapest request the same server answers.

bin/run's web tier (gunicorn, deploy/gunicorn.conf.py) is started here and measured with wrk (Debian's package,
installed if missing) on three endpoints: GET /healthz (one database query and a few Redis commands: the
reference), GET /api/v1/scans/{id} (a done scan with findings and its report) and GET /api/v1/sites (first
page of 1,000 sites), in turn, over several rounds so that each sees the same machine load. Each endpoint's mean
requests/s is divided by /healthz's and printed beside its target (scan detail at least 0.6x, site list at least 0.4x,
p99 under 400 ms), with the load average before and after each run: the ratios hold up on a busy machine
better than the raw figures, but only a quiet run is a measurement. A Celery worker node is started beside
it (on a queue no task is sent to) so /healthz answers 200, as in service.

wrk keeps every connection busy in a closed loop, so the mean latency follows from the throughput (Little's
law: connections / requests per second); each run prints that mean beside the p99, whose multiple of it shows
how unevenly the server shares its time among connections. Each run also prints the server's CPU per request
and the CPU wrk used: wrk runs on the same cores, and what it takes is reported, not hidden.

    .venv/bin/python -m benchmarks.web_tier [--seconds 30] [--rounds 3] [--connections 100] [--runserver]
                                            [--counted-limits]

--runserver also measures the same code under Django's runserver (the comparison that chose gunicorn);
--counted-limits counts every request against the per-user and per-token rates as in service (set too high to
refuse anything), instead of lifting them.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import runpy
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmarks._setup import ROOT, database_env, django_setup, prepare_database


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        print("wrk is missing: installing Debian's wrk package (apt-get)", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
    return shutil.which("wrk")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed() -> tuple[str, int]:
    """A user with 1,000 scanned sites; returns their API token and one done scan's id."""
    from django.contrib.auth import get_user_model

    from benchmarks.seed import seed_sites
    from scanner.models import Site
    from webui.api.tokens import token_create

    user, created = get_user_model().objects.get_or_create(username="bench-api")
    if created or not Site.objects.filter(owner=user).exists():
        seed_sites(user, 1000)
    _, token = token_create(user=user, name=f"bench {time.time():.0f}")
    return token, Site.objects.filter(owner=user).order_by("pk").first().latest_scan_id


def wait_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 180  # a loaded machine takes its time to import Django four times
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not start")


def wait_healthy(url: str) -> bool:
    """Whether /healthz turns 200 (the worker below has stamped its first heartbeat) within a minute."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if httpx.get(url, timeout=5).status_code == 200:
            return True
        time.sleep(1)
    return False


def start_worker(env: dict) -> subprocess.Popen:
    """A real Celery worker node, so /healthz answers 200 as in service: it only stamps its heartbeat, on a
    queue no task is sent to, and takes no CPU from the measured server after start-up."""
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "webui", "worker", "--pool", "solo", "-Q", "bench-web-tier-idle"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# (endpoint, least requests/s as a fraction of /healthz's); every API endpoint's p99 must stay under P99_TARGET_MS.
RATIO_TARGETS = (("scan detail", 0.6), ("site list", 0.4))
P99_TARGET_MS = 400


def load_average() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a server process and its worker processes (Linux's /proc)."""
    total = 0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for each in [pid, *children]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a worker that has just exited
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def wrk(binary: str, url: str, token: str, seconds: int, connections: int) -> dict:
    cpu_before = children_cpu_seconds()
    out = subprocess.run(
        [
            binary,
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-H",
            f"Authorization: Token {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
        "requests": total,
        "errors": errors + (int(non2xx.group(1)) if non2xx else 0),
        "wrk_cpu": children_cpu_seconds() - cpu_before,
    }


def db_connections(env) -> int | str:
    import psycopg

    base, _, name = env["DATABASE_URL"].rpartition("/")
    try:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()[0]
    except psycopg.OperationalError as exc:
        if "too many clients" in str(exc):
            return "all (PostgreSQL's max_connections reached)"  # the failure the web tier exists to avoid
        raise


def measure(server: str, command: list[str], env: dict, port: int, paths: dict, args, binary: str, token: str):
    """Every endpoint in turn, `args.rounds` times over (so each sees the machine's load as the others do);
    per endpoint the mean requests/s and the median p50/p99 of its runs."""
    process = subprocess.Popen(
        command, cwd=ROOT, env={**env, "PORT": str(port)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    runs: dict[str, list[dict]] = {label: [] for label in paths}
    seconds = max(1, round(args.seconds / args.rounds))
    try:
        wait_up(f"http://127.0.0.1:{port}/healthz", process)
        healthy = wait_healthy(f"http://127.0.0.1:{port}/healthz")
        print(f"{server}: /healthz answers {'200' if healthy else '503 (no worker heartbeat seen in 60 s)'}")
        for round_number in range(1, args.rounds + 1):
            for label, path in paths.items():
                before = load_average()
                server_cpu = process_tree_cpu_seconds(process.pid)
                result = wrk(binary, f"http://127.0.0.1:{port}{path}", token, seconds, args.connections)
                server_cpu = process_tree_cpu_seconds(process.pid) - server_cpu
                result["db_connections"] = db_connections(env)
                result["little_mean"] = 1000 * args.connections / result["rps"]
                runs[label].append(result)
                print(
                    f"{server:20} {label:12} round {round_number}  {result['rps']:8.1f} req/s  "
                    f"p50 {result['p50']:7.1f} ms  p99 {result['p99']:7.1f} ms "
                    f"(mean by Little's law {result['little_mean']:.0f} ms, p99 {result['p99'] / result['little_mean']:.1f}x)  "
                    f"errors {result['errors']} of {result['requests']}  "
                    f"db connections after {result['db_connections']}  "
                    f"CPU: server {1000 * server_cpu / max(1, result['requests']):.1f} ms a request, "
                    f"wrk {result['wrk_cpu']:.1f} s in {seconds} s  ({before}; after: {load_average()})",
                    flush=True,
                )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        label: {
            "rps": statistics.fmean(run["rps"] for run in results),
            "p50": statistics.median(run["p50"] for run in results),
            "p99": statistics.median(run["p99"] for run in results),
            "wrk_cpu": statistics.fmean(run["wrk_cpu"] for run in results) / seconds,
        }
        for label, results in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="each endpoint's seconds are split over this many runs")
    parser.add_argument("--runserver", action="store_true", help="also measure Django's runserver")
    parser.add_argument("--counted-limits", action="store_true", help="count every request against the rates")
    args = parser.parse_args()
    binary = ensure_wrk()
    env = database_env()
    # Capacity, not abuse limits, is measured: the per-user/token/address request rates are off for this run, or
    # with --counted-limits so high that nothing is refused while every request is still counted in Redis.
    rate = "1000000000/min" if args.counted_limits else ""
    env.update(
        SCANNER_API_REQUESTS_PER_USER=rate, SCANNER_API_REQUESTS_PER_TOKEN=rate, SCANNER_API_REQUESTS_PER_ADDRESS=rate
    )
    prepare_database(env)
    django_setup(env)
    token, scan_id = seed()
    from django.db import connections

    connections.close_all()
    paths = {"healthz": "/healthz", "scan detail": f"/api/v1/scans/{scan_id}", "site list": "/api/v1/sites"}
    print(
        f"{args.connections} connections, {args.seconds} s per endpoint in {args.rounds} rounds; {load_average()}",
        flush=True,
    )
    gunicorn_command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "webui.wsgi:application",
        "--config",
        "deploy/gunicorn.conf.py",
    ]
    config = runpy.run_path(str(ROOT / "deploy/gunicorn.conf.py"))  # as the server reads it, from this environment
    print(
        f"gunicorn: {config['workers']} processes x {config['threads']} threads on {config['usable_cores']()} cores, "
        f"keep-alive {config['keepalive']} s, recycled after {config['max_requests'] or 'no'} requests",
        flush=True,
    )
    worker = start_worker(env)
    try:
        fast = measure("gunicorn (bin/run)", gunicorn_command, env, free_port(), paths, args, binary, token)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    print(
        "gunicorn (bin/run): "
        + ", ".join(f"{label} {result['rps']:.1f} req/s (p99 {result['p99']:.0f} ms)" for label, result in fast.items())
    )
    print(
        "wrk used "
        + ", ".join(f"{100 * result['wrk_cpu']:.0f}% ({label})" for label, result in fast.items())
        + " of one core while measuring them (on the same cores as the server and PostgreSQL)"
    )
    for label, target in RATIO_TARGETS:
        result = fast[label]
        ratio = result["rps"] / fast["healthz"]["rps"]
        print(
            f"{label}: {ratio:.2f}x /healthz's requests/s (target >= {target}: {'met' if ratio >= target else 'NOT met'})"
            f", p99 {result['p99']:.0f} ms (target < {P99_TARGET_MS} ms: "
            f"{'met' if result['p99'] < P99_TARGET_MS else 'NOT met'})",
            flush=True,
        )
    if args.runserver:
        port = free_port()
        runserver_command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
        slow = measure("runserver", runserver_command, env, port, paths, args, binary, token)
        for label in ("scan detail", "site list"):
            print(
                f"{label}: gunicorn / runserver throughput x{fast[label]['rps'] / slow[label]['rps']:.2f}, "
                f"p99 {fast[label]['p99']:.0f} ms vs {slow[label]['p99']:.0f} ms"
            )
    print(load_average())


if __name__ == "__main__":
    main()
