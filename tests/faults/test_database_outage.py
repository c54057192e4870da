"""PostgreSQL cut off (every connection reset, new ones refused) under running scans and API traffic: the
scans are delayed, never failed, and the API answers 503 `database_unavailable` until it is back.

Every process (worker, beat, gunicorn) reaches PostgreSQL through a proxy the test cuts, as a database restart
or a network partition would; the test's own connection goes around it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from django.db import connection

from scanner.models import Scan
from tests.conftest import free_port, subprocess_database_url
from webui.api.tokens import token_create

from .conftest import REPO, finished, make_site, queue_scan, wait_for
from .cut_proxy import CuttableProxy

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

# The HTTP probe of the dripping lab site takes this long, so each scan is mid-run when the cut comes.
SCAN_SECONDS = "6"


@pytest.fixture
def database_proxy() -> Iterator[CuttableProxy]:
    db = connection.settings_dict
    with CuttableProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)) as proxy:
        yield proxy


def through(proxy: CuttableProxy) -> str:
    """The test database's URL, reached through the proxy."""
    parts = urlsplit(subprocess_database_url())
    netloc = parts.netloc.rpartition("@")[0] + f"@127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def start_slow_scans(processes, broker, owner, lab, proxy: CuttableProxy, count: int) -> list[int]:
    processes.env.update(DATABASE_URL=through(proxy), SCANNER_HTTP_DEADLINE=SCAN_SECONDS)
    processes.beat()  # the reaper runs throughout, as in production
    processes.worker(concurrency=count)
    case = lab.case("driphttps")
    # One active scan per site and owner: the same site as seen by `count` accounts.
    owners = [owner] + [type(owner).objects.create_user(f"{owner.username}-{n}") for n in range(1, count)]
    ids = [
        queue_scan(broker, make_site(who, case.hostname, case.https_port, case.http_port), case.ip).pk for who in owners
    ]
    wait_for(
        lambda: Scan.objects.filter(pk__in=ids, status=Scan.Status.RUNNING).count() == count,
        30,
        f"{count} scans to run",
    )
    time.sleep(1)  # into the engine's run: the connections they claimed the scans on are idle now
    return ids


def outcome(ids: list[int]) -> list[dict]:
    return list(Scan.objects.filter(pk__in=ids).values("pk", "status", "attempts", "error"))


def test_a_2_s_database_cut_under_4_running_scans_leaves_every_scan_done(processes, broker, owner, lab, database_proxy):
    ids = start_slow_scans(processes, broker, owner, lab, database_proxy, 4)
    cut_at = time.monotonic()
    database_proxy.cut(2)

    wait_for(lambda: finished(ids), 90, "every scan to end")
    took = time.monotonic() - cut_at
    print(f"\n2 s database cut under 4 running scans: {outcome(ids)}, all ended {took:.1f} s after the cut")
    assert {row["status"] for row in outcome(ids)} == {Scan.Status.DONE}, outcome(ids)

    # The node's main process (which notes who holds each message) reconnected too.
    good = lab.case("good")
    after = queue_scan(broker, make_site(owner, good.hostname, good.https_port, good.http_port), good.ip)
    wait_for(lambda: finished([after.pk]), 30, "a scan sent after the cut to end")
    after.refresh_from_db()
    assert after.status == Scan.Status.DONE and after.reserved_by, (after.status, after.reserved_by)


@pytest.fixture
def gunicorn(faults_env, tmp_path, database_proxy) -> Iterator[str]:
    port = free_port()
    env = {
        **faults_env,
        "DATABASE_URL": through(database_proxy),
        "SCANNER_VAR_DIR": str(tmp_path),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "4",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "webui.wsgi:application",
            "--config",
            "deploy/gunicorn.conf.py",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "gunicorn.log", "ab"),  # noqa: SIM115
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base), 60, "gunicorn to start")
        yield base
    finally:
        server.terminate()
        server.wait(30)


def _answers(base: str) -> bool:
    try:
        httpx.get(base + "/healthz", timeout=5)
    except httpx.TransportError:
        return False
    return True


def test_a_15_s_database_cut_answers_503_then_200_and_delays_scans_without_failing_them(
    processes, broker, owner, lab, database_proxy, gunicorn
):
    _, token = token_create(user=owner, name="faults")
    ids = start_slow_scans(processes, broker, owner, lab, database_proxy, 2)
    scan_url = f"{gunicorn}/api/v1/scans/{ids[0]}"
    headers = {"Authorization": f"Token {token}"}
    assert httpx.get(scan_url, headers=headers, timeout=10).status_code == 200

    database_proxy.cut(15)
    cut_at = time.monotonic()
    during: list[httpx.Response] = []
    while time.monotonic() - cut_at < 14:
        during.append(httpx.get(scan_url, headers=headers, timeout=10))
        time.sleep(0.5)
    back = wait_for(lambda: _ok(scan_url, headers), 30, "the API to answer 200 again")
    back_after = time.monotonic() - cut_at

    statuses = sorted({response.status_code for response in during})
    print(
        f"\n15 s database cut: API answered {statuses} during it ({len(during)} requests), 200 again "
        f"{back_after:.1f} s after the cut began"
    )
    assert statuses == [503], [(r.status_code, r.text[:200]) for r in during if r.status_code != 503]
    assert all(
        r.json()["error"]["code"] == "database_unavailable" and int(r.headers["Retry-After"]) > 0 for r in during
    )
    assert back.json()["id"] == ids[0]

    wait_for(lambda: finished(ids), 120, "every scan to end")
    print(f"scans after the 15 s cut: {outcome(ids)}, ended {time.monotonic() - cut_at:.1f} s after it began")
    assert {row["status"] for row in outcome(ids)} == {Scan.Status.DONE}, outcome(ids)


def _ok(url: str, headers: dict[str, str]) -> httpx.Response | None:
    response = httpx.get(url, headers=headers, timeout=10)
    return response if response.status_code == 200 else None
