"""The fault suite's machinery: a private Redis, real Celery worker and beat processes, the lab, PostgreSQL.

Everything runs as it does in production, with the time limits scaled down (FAULT_ENV) so the whole suite
stays within a few minutes. The shared Redis on 6379 is never touched: each session starts its own
redis-server (AOF on) on a free port in a temporary directory, and restarts only that one.
"""

from __future__ import annotations

import ctypes
import os
import signal
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone

from scanner.models import Scan, Site
from tests.conftest import LAB_DNS_SERVER, free_port, subprocess_database_url
from tests.lab.pki import LeafSpec
from tests.lab.servers import HostileHttpServer
from webui.celery import app as celery_app

REPO = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))

# Production limits scaled down about tenfold (docs/reliability.md lists the production values).
FAULT_ENV = {
    "SCANNER_TASK_SOFT_TIME_LIMIT": "20",
    "SCANNER_TASK_TIME_LIMIT": "25",
    "SCANNER_VISIBILITY_TIMEOUT": "30",
    "SCANNER_TLS_DEADLINE": "12",
    "SCANNER_HTTP_DEADLINE": "3",
    "SCANNER_HEARTBEAT_INTERVAL": "1",
    "SCANNER_HEARTBEAT_TIMEOUT": "4",
    "SCANNER_QUEUED_RESEND_AFTER": "8",
    "SCANNER_QUEUED_LIMIT": "300",
    "SCANNER_REAPER_INTERVAL": "1",
    "SCANNER_CONNECT_TIMEOUT": "2",
    "SCANNER_NETWORK_TIMEOUT": "2",
    "SCANNER_NETWORK_RETRIES": "1",
    "SCANNER_HTTP_TIMEOUT": "3",
    # Scans on a queue of their own, beside the default queue beat's reaper uses, as deployed
    # (deploy/Procfile: --queues=scans,...,celery); a backlog of scans must not delay the reaper.
    "SCANNER_SCAN_QUEUE": "faults-scans",
    "SCANNER_RESCAN_QUEUE": "faults-rescans",
    "SCANNER_ALERT_QUEUE": "faults-alerts",
    "SCANNER_RESCAN_MIN_INTERVAL": "0",
    "CELERY_WORKER_MAX_TASKS_PER_CHILD": "100000",  # the leak test counts on one pool child for all its scans
    "LOG_LEVEL": "WARNING",
}


# Quick, well-behaved lab sites: each scan takes about a second, so a kill lands mid-scan.
QUICK_SITES = (
    "good",
    "expired",
    "notyetvalid",
    "wronghost",
    "selfsigned",
    "nointermediate",
    "nohsts",
    "shorthsts",
    "redirect302",
    "chain3",
    "longchain",
    "loop",
    "offhost",
    "nohttp",
    "downgrade",
    "expiring",
    "mixedactive",
    "mixedpassive",
    "canonicalhttp",
    "hstsoverhttp",
)
FAULT_QUEUES = ("SCANNER_SCAN_QUEUE", "SCANNER_RESCAN_QUEUE", "SCANNER_ALERT_QUEUE")


class PrivateRedis:
    """A redis-server of our own: AOF on (as bin/run starts it), restartable, removed at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, appendonly: bool = True) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes" if appendonly else "no",
                "--save",
                "",
                "--logfile",
                str(self.directory / "log"),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), as a service manager restarting Redis does."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def restart(self, *, appendonly: bool = True, down_for: float = 1.0) -> None:
        self.stop()
        if not appendonly:  # a Redis without persistence forgets everything on restart
            for path in self.directory.glob("appendonly*"):
                subprocess.run(["rm", "-rf", str(path)], check=True)
        time.sleep(down_for)
        self.start(appendonly=appendonly)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


@pytest.fixture(scope="session")
def private_redis(tmp_path_factory) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def endless_site(lab) -> Iterator[tuple[str, str, int]]:
    """An HTTPS site whose page never ends (a 200 without length, streamed for as long as it is read)."""
    ip = str(list(lab.network.hosts())[-2])  # an address of the lab's range that no case uses
    name = "endless.lab.test"
    credentials = lab.pki.issue("endless", LeafSpec(hostnames=(name,)))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(credentials.chain_file, credentials.key_file)
    with HostileHttpServer("endless", ip, 0, tls=context) as server:
        yield name, ip, server.port


@dataclass
class Processes:
    """Celery worker and beat processes started for one test; all killed and reaped at the end."""

    env: dict[str, str]
    logs: Path
    running: list[subprocess.Popen] = field(default_factory=list)

    def worker(self, *, concurrency: int = 1, name: str = "", **extra_env: str) -> subprocess.Popen:
        """A worker node; a random name unless `name` is given (a restart under the same name, as deployed)."""
        name = name or f"faults-{uuid.uuid4().hex[:8]}@%h"
        log = self.logs / f"worker-{len(self.running)}.log"
        process = subprocess.Popen(
            [
                CELERY,
                "-A",
                "webui",
                "worker",
                "--pool=prefork",
                f"--concurrency={concurrency}",
                "-n",
                name,
                "--queues",
                ",".join(FAULT_ENV[name] for name in FAULT_QUEUES) + ",celery",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
                f"--logfile={log}",
            ],
            cwd=REPO,
            env={**self.env, **extra_env},
            start_new_session=True,
            preexec_fn=_die_with_pytest,  # noqa: PLW1509 - one libc call, no locks taken
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        process.log = log  # type: ignore[attr-defined]
        self.running.append(process)
        wait_for(lambda: pool_children(process.pid) and "ready" in _read(log), 60, f"worker {name} to start")
        return process

    def beat(self) -> subprocess.Popen:
        process = subprocess.Popen(
            [
                CELERY,
                "-A",
                "webui",
                "beat",
                "--loglevel=WARNING",
                "-S",
                "celery.beat:PersistentScheduler",
                "-s",
                str(self.logs / "beat-schedule"),
            ],
            cwd=REPO,
            env=self.env,
            start_new_session=True,
            preexec_fn=_die_with_pytest,  # noqa: PLW1509 - one libc call, no locks taken
            stdout=open(self.logs / "beat.log", "ab"),  # noqa: SIM115 - the child holds it; closed when it exits
            stderr=subprocess.STDOUT,
        )
        self.running.append(process)
        return process

    def kill_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


_LIBC = ctypes.CDLL(None)  # loaded here, not after fork: dlopen in a forked child of a threaded process can hang


def _die_with_pytest() -> None:
    # Runs in the child before exec: if the test process is killed (a CI timeout), the worker and beat
    # it started go too instead of lingering connected to the test database.
    _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def pool_children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def proc_status(pid: int) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def rss_mib(pid: int) -> float:
    return int(proc_status(pid)["VmRSS"].split()[0]) / 1024


def thread_count(pid: int) -> int:
    return int(proc_status(pid)["Threads"])


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@pytest.fixture
def faults_env(lab, private_redis, endless_site) -> dict[str, str]:
    if connection.vendor != "postgresql":
        pytest.skip("the fault suite needs PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)")
    name, ip, _ = endless_site
    env = {
        **os.environ,
        **FAULT_ENV,
        "DATABASE_URL": subprocess_database_url(),
        "CELERY_BROKER_URL": private_redis.url,
        "SCANNER_ALLOWED_NETWORKS": lab.allowed_network,
        "SCANNER_RESOLVE": ",".join([*lab.resolve_map(), f"{name}:{ip}"]),
        "SCANNER_CA_FILE": lab.ca_file,
        "SCANNER_DNS_SERVERS": LAB_DNS_SERVER,  # CAA lookups stay on the lab's loopback DNS server
        "PYTHONPATH": str(REPO),
    }
    return env


@pytest.fixture
def processes(faults_env, tmp_path, private_redis) -> Iterator[Processes]:
    private_redis.client().flushall()
    started = Processes(env=faults_env, logs=tmp_path)
    try:
        yield started
    finally:
        started.kill_all()


@pytest.fixture
def broker(private_redis):
    """Send a task to the private Redis (the test process's own Celery app points at the shared one)."""
    from scanner.tasks import rescan_portfolio, run_scan

    def send(task, *args, task_id: str | None = None, queue: str = "celery") -> None:
        with celery_app.connection_for_write(private_redis.url) as conn:
            task.apply_async(args=list(args), task_id=task_id, connection=conn, retry=False, queue=queue)

    send.run_scan = lambda scan: send(  # type: ignore[attr-defined]
        run_scan, scan.pk, task_id=scan.celery_task_id, queue=FAULT_ENV["SCANNER_SCAN_QUEUE"]
    )
    send.rescan_portfolio = lambda portfolio: send(  # type: ignore[attr-defined]
        rescan_portfolio, portfolio.pk, queue=FAULT_ENV["SCANNER_RESCAN_QUEUE"]
    )
    return send


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("faults-owner")


def make_site(owner, hostname: str, https_port: int, http_port: int) -> Site:
    return Site.objects.get_or_create(
        owner=owner, hostname=hostname, https_port=https_port, defaults={"http_port": http_port}
    )[0]


def queue_scan(broker, site: Site, ip: str) -> Scan:
    """What services.submit_scan stores and sends, with the message going to the private Redis."""
    scan = Scan.objects.create(
        site=site, status=Scan.Status.QUEUED, ip=ip, celery_task_id=str(uuid.uuid4()), enqueued_at=timezone.now()
    )
    broker.run_scan(scan)
    return scan


def finished(scan_ids) -> bool:
    return not Scan.objects.filter(pk__in=list(scan_ids), status__in=Scan.ACTIVE_STATUSES).exists()
