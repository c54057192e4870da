"""The embedded default holds: on SQLite, a real worker and a busy "web" process writing at the same time
never fail a scan with "database is locked" (WAL, IMMEDIATE transactions, a busy timeout, one worker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import FAULT_ENV, REPO, Processes

SCANS = 20

# Runs as the web tier would: submits scans one after another while also writing to the sites it owns
# (tags), then reads until every scan has ended. Prints each scan's status and error as JSON.
DRIVER = """
import json, sys, time
import django
django.setup()
from django.contrib.auth import get_user_model
from scanner import services
from scanner.models import Scan

hosts = json.loads(sys.argv[1])
owner = get_user_model().objects.create_user("embedded")
ids = []
for host, port, http_port in hosts:
    scan, _ = services.submit_scan(owner, host, port=port, http_port=http_port)
    services.site_set_tags(scan.site, ["embedded", host.split(".")[0]])
    ids.append(scan.pk)
deadline = time.monotonic() + 240
while time.monotonic() < deadline:
    if not Scan.objects.filter(pk__in=ids, status__in=Scan.ACTIVE_STATUSES).exists():
        break
    time.sleep(0.2)
print(json.dumps(list(Scan.objects.filter(pk__in=ids).values_list("status", "error"))))
"""


@pytest.mark.faults
def test_sqlite_with_a_worker_and_a_busy_web_process_never_reports_database_is_locked(lab, private_redis, tmp_path):
    private_redis.client().flushall()
    good = lab.case("good")
    # Twenty sites behind the good server's address: the certificate names only good.lab.test, which is
    # irrelevant here; what matters is twenty scans written by the worker while the driver writes too.
    hosts = [(f"site{index}.lab.test", good.https_port, good.http_port) for index in range(SCANS)]
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(
        FAULT_ENV,
        SCANNER_VAR_DIR=str(tmp_path / "var"),
        CELERY_BROKER_URL=private_redis.url,
        SCANNER_ALLOWED_NETWORKS=lab.allowed_network,
        SCANNER_RESOLVE=",".join(f"{host}:{good.ip}" for host, _, _ in hosts),
        SCANNER_CA_FILE=lab.ca_file,
        SCANNER_TARGET_MIN_INTERVAL="0",
        DJANGO_SETTINGS_MODULE="webui.settings",
        PYTHONPATH=str(REPO),
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    workers = Processes(env=env, logs=tmp_path)
    try:
        workers.worker(concurrency=1)  # bin/run's choice on SQLite
        driver = subprocess.run(
            [sys.executable, "-c", DRIVER, json.dumps(hosts)],
            check=False,
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        workers.kill_all()
    assert driver.returncode == 0, driver.stderr[-3000:]
    outcomes = json.loads(driver.stdout.strip().splitlines()[-1])
    assert len(outcomes) == SCANS
    assert not [error for _, error in outcomes if error and "locked" in error.lower()]
    assert [status for status, _ in outcomes] == ["done"] * SCANS, outcomes
