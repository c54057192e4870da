"""Scale-out, as two machines would run it: two Celery worker nodes (separate processes, distinct node names)
on one Redis and one PostgreSQL share a 200-site portfolio scan against the lab; one node is killed mid-run
and every site still ends with exactly one scan, done, with its findings stored once.

Scaled for 2 cores: two pool processes per node, short probe timeouts and heartbeats (settings, as an
operator would set them); the test process plays beat's part by calling the reaper every second or two.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db.models import Count

from scanner import services
from scanner.models import Finding, Portfolio, Scan, Site
from scanner.nodes import worker_heartbeats
from tests.conftest import LAB_DNS_SERVER, subprocess_database_url

ROOT = Path(__file__).resolve().parent.parent
SITES = 200
KILL_AFTER_DONE = SITES // 2  # node A dies half way through (once both nodes have finished some scans)
DEADLINE_S = 400

pytestmark = pytest.mark.django_db(transaction=True)


def start_node(name: str, queue: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "webui",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            f"--queues={queue}",
            f"--hostname={name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: killing the node kills any child it started too
    )


def parent_pid(pid: str) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def stop(node: subprocess.Popen, sig: int) -> None:
    if node.poll() is None:
        os.killpg(node.pid, sig)
    node.wait(timeout=60)


@pytest.fixture
def lab_portfolio(lab, lab_settings, django_user_model):
    good = lab.case("good")
    good_ip = next(pin.rpartition(":")[2] for pin in lab.resolve_map() if pin.startswith(good.hostname + ":"))
    pins = [f"n{i:03d}.twonode.test:{good_ip}" for i in range(SITES)]
    lab_settings.SCANNER_RESOLVE = [*lab.resolve_map(), *pins]
    owner = django_user_model.objects.create_user("twonode")
    portfolio = Portfolio.objects.create(owner=owner, name="Two nodes")
    sites = Site.objects.bulk_create(
        Site(owner=owner, hostname=pin.partition(":")[0], https_port=good.https_port, http_port=good.http_port)
        for pin in pins
    )
    portfolio.sites.add(*sites)
    return portfolio


@pytest.mark.skipif(
    not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="worker nodes in other processes need PostgreSQL (DATABASE_URL=postgres://..., as .ci/run sets)",
)
def test_two_worker_nodes_share_a_portfolio_and_survive_losing_one(lab_portfolio, lab_settings, lab):
    queue = f"scanner-twonode-{uuid.uuid4().hex[:12]}"
    lab_settings.SCANNER_SCAN_QUEUE = lab_settings.SCANNER_RESCAN_QUEUE = queue
    lab_settings.SCANNER_HEARTBEAT_TIMEOUT = 6  # the reaper (this test) notices a dead node within seconds
    # Messages node A had taken but not started die with it, unacked until Redis' visibility timeout (330 s).
    # The reaper resends those whose receipt node A had recorded as soon as its heartbeat stops (it beats
    # every second here); one it was killed with before recording it waits for the queued-resend delay, which
    # this test shortens (one such message took the whole 300 s production delay in a CI run).
    lab_settings.SCANNER_WORKER_HEARTBEAT_MAX_AGE = 4
    lab_settings.SCANNER_QUEUED_RESEND_AFTER = 20
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "SCANNER_SCAN_QUEUE": queue,
        "SCANNER_RESCAN_QUEUE": queue,
        "SCANNER_ALLOWED_NETWORKS": lab.allowed_network,
        "SCANNER_RESOLVE": ",".join(lab_settings.SCANNER_RESOLVE),
        "SCANNER_CA_FILE": lab.ca_file,
        "SCANNER_DNS_SERVERS": LAB_DNS_SERVER,  # CAA lookups stay on the lab's loopback DNS server
        "SCANNER_CONNECT_TIMEOUT": "2",
        "SCANNER_NETWORK_TIMEOUT": "2",
        "SCANNER_NETWORK_RETRIES": "1",
        "SCANNER_HTTP_TIMEOUT": "3",
        "SCANNER_HEARTBEAT_INTERVAL": "1",
        "SCANNER_HEARTBEAT_TIMEOUT": "6",
        "SCANNER_WORKER_HEARTBEAT_INTERVAL": "1",
        "CELERY_WORKER_MAX_TASKS_PER_CHILD": "10000",
        # Fewer handshakes per scan (same verdicts): the test is about distribution, not enumeration.
        "SCANNER_CIPHER_ENUMERATION": "adaptive",
    }
    nodes = {"node-a": start_node("node-a", queue, env), "node-b": start_node("node-b", queue, env)}
    node_pids = {process.pid: name for name, process in nodes.items()}
    pids: dict[str, str] = {}  # pool process pid -> node, learnt while the pool processes are alive

    def learn_pool_pids() -> None:
        for worker in Scan.objects.exclude(worker="").values_list("worker", flat=True).distinct():
            pid = worker.rpartition(":")[2]
            if pid not in pids and parent_pid(pid) in node_pids:
                pids[pid] = node_pids[parent_pid(pid)]

    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    killed_at_done = None
    resent = 0  # by the reaper: scans whose message died in node A's prefetch
    started = time.monotonic()
    try:
        outcomes = services.submit_portfolio_scans(lab_portfolio)
        assert len(outcomes) == SITES
        last_reap = 0.0
        while time.monotonic() - started < DEADLINE_S:
            learn_pool_pids()
            done_by = Counter(
                pids.get(worker.rpartition(":")[2], "?")
                for worker in Scan.objects.filter(status=Scan.Status.DONE).values_list("worker", flat=True)
            )
            finished = Scan.objects.exclude(status__in=Scan.ACTIVE_STATUSES).count()
            both_worked = done_by["node-a"] > 0 and done_by["node-b"] > 0
            if killed_at_done is None and sum(done_by.values()) >= KILL_AFTER_DONE and both_worked:
                stop(nodes["node-a"], signal.SIGKILL)  # as a machine losing power: no warm shutdown, no ack
                killed_at_done = dict(done_by)
            if finished >= SITES:
                break
            if time.monotonic() - last_reap > 1.5:
                resent += services.reap_stale_scans()["resent"]  # what beat runs every SCANNER_REAPER_INTERVAL
                last_reap = time.monotonic()
            time.sleep(0.3)
        elapsed = time.monotonic() - started
        # Each node announced itself in the broker (what /healthz and the metrics read).
        beating = {node.partition("@")[0] for node in worker_heartbeats(broker)}
        assert {"node-a", "node-b"} <= beating
    finally:
        for process in nodes.values():
            stop(process, signal.SIGTERM)
        broker.delete(queue, f"_kombu.binding.{queue}")
        broker.close()

    scans = list(Scan.objects.filter(site__portfolios=lab_portfolio).values("site_id", "status", "error", "pk"))
    per_site = Counter(scan["site_id"] for scan in scans)
    assert killed_at_done is not None, "node A was never killed: the nodes did not both work"
    assert len(per_site) == SITES and set(per_site.values()) == {1}, "a site has no scan or more than one"
    assert {scan["status"] for scan in scans} == {"done"}, [s["error"] for s in scans if s["status"] != "done"][:3]
    done_by = Counter(
        pids.get(worker.rpartition(":")[2], "?")
        for worker in Scan.objects.filter(site__portfolios=lab_portfolio).values_list("worker", flat=True)
    )
    assert killed_at_done["node-a"] > 0 and killed_at_done["node-b"] > 0  # both nodes took work before the kill
    assert done_by["node-b"] > killed_at_done["node-b"]  # the survivor finished the rest
    # Each scan's findings were stored once, even for the scan node A was running when it died.
    duplicates = (
        Finding.objects.filter(scan__site__portfolios=lab_portfolio)
        .values("scan_id", "finding_id")
        .order_by()
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()
    print(
        f"two nodes: {SITES} sites in {elapsed:.1f} s; done before the kill {killed_at_done}, in all {dict(done_by)}; "
        f"{resent} resent from node A's prefetch"
    )
