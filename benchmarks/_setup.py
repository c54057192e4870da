"""Shared set-up for the service benchmarks: a PostgreSQL database of their own, migrated, and Django."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scanner_bench"


def database_env(own_database: str = "") -> dict[str, str]:
    """Environment for the benchmark and every server it starts: the benchmarks' database (or, with
    `own_database`, one of its own beside it, named after it plus that suffix), DEBUG off."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"}
    env["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    if own_database:
        env["DATABASE_URL"] += f"_{own_database}"
    env.setdefault("SCANNER_PUBLIC_URL", "http://127.0.0.1:8000")  # required outside DEBUG
    env.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    return env


def prepare_database(env: dict[str, str]) -> None:
    """Create the database when missing, migrate it and collect static files, as bin/run would."""
    import psycopg

    url = env["DATABASE_URL"]
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):  # as bin/run does
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webui.settings")
    import django

    django.setup()
