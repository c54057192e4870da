"""The API under 100 concurrent clients: bin/run's web tier (gunicorn, deploy/gunicorn.conf.py) against the same
code under Django's runserver, both started here, measured with wrk (Debian's package, installed if missing).

    .venv/bin/python -m benchmarks.web_tier [--seconds 30] [--connections 100]

Endpoints: GET /api/v1/scans/{id} (a done scan with findings and its report) and GET /api/v1/sites (first page
of 1,000 sites). Prints requests/s, p50/p99 latency and errors per server and endpoint, and the ratios.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import time

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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not start")


def wrk(binary: str, url: str, token: str, seconds: int, connections: int) -> dict:
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=100)
    args = parser.parse_args()
    binary = ensure_wrk()
    env = database_env()
    # Capacity, not abuse limits, is measured: the per-user/token/address request rates are off for this run.
    env.update(SCANNER_API_REQUESTS_PER_USER="", SCANNER_API_REQUESTS_PER_TOKEN="", SCANNER_API_REQUESTS_PER_ADDRESS="")
    prepare_database(env)
    django_setup(env)
    token, scan_id = seed()
    from django.db import connections

    connections.close_all()
    paths = {"scan detail": f"/api/v1/scans/{scan_id}", "site list": "/api/v1/sites"}
    servers = {
        "gunicorn (bin/run)": lambda port: [
            str(ROOT / ".venv/bin/gunicorn"),
            "webui.wsgi:application",
            "--config",
            "deploy/gunicorn.conf.py",
        ],
        "runserver": lambda port: [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
    }
    results: dict[tuple[str, str], dict] = {}
    for server, command in servers.items():
        port = free_port()
        process = subprocess.Popen(
            command(port),
            cwd=ROOT,
            env={**env, "PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_up(f"http://127.0.0.1:{port}/healthz", process)
            for label, path in paths.items():
                result = wrk(binary, f"http://127.0.0.1:{port}{path}", token, args.seconds, args.connections)
                result["db_connections"] = db_connections(env)
                results[(server, label)] = result
                print(
                    f"{server:20} {label:12} {result['rps']:8.1f} req/s  p50 {result['p50']:7.1f} ms  "
                    f"p99 {result['p99']:7.1f} ms  errors {result['errors']} of {result['requests']}  "
                    f"db connections after {result['db_connections']}",
                    flush=True,
                )
        finally:
            process.terminate()
            process.wait(timeout=30)
    for label in paths:
        fast, slow = results[("gunicorn (bin/run)", label)], results[("runserver", label)]
        print(
            f"{label}: gunicorn / runserver throughput x{fast['rps'] / slow['rps']:.2f}, "
            f"p99 {fast['p99']:.0f} ms vs {slow['p99']:.0f} ms"
        )


if __name__ == "__main__":
    main()
