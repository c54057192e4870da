"""Running a scan in a worker: claim it, keep its heartbeat while the engine works, store the outcome."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from scanner import config
from scanner.dboutage import CONNECTION_ERRORS, DatabaseUnavailable, drop_broken_connection, with_reconnect
from scanner.models import Scan
from scanner.netpolicy import TargetRefused
from scanner.services.scan_dispatch import MAX_ATTEMPTS, heartbeat_lost
from scanner.services.scan_results import fail_scan, finish_failed, site_attempted, store_outcome
from scanner.services.sites import site_for_target
from scanner.targets import Target

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scanner.engine.results import ScanResult
    from scanner.grading import Grades

logger = logging.getLogger(__name__)


def _worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _worker_is_gone(identity: str) -> bool:
    """True when `identity` names a process on this host that no longer exists (a killed pool child)."""
    host, _, pid = identity.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: only the heartbeat can tell
    try:
        # A killed pool child stays a zombie until its parent reaps it: gone all the same.
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    except OSError:  # no /proc: ask the kernel whether the pid exists
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return state in {"Z", "X"}


@contextmanager
def _heartbeat(scan_id: int, identity: str) -> Iterator[None]:
    """Refresh the running scan's heartbeat from a thread until the block ends."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(config.heartbeat_interval()):
                try:
                    Scan.objects.filter(pk=scan_id, status=Scan.Status.RUNNING, worker=identity).update(
                        heartbeat_at=timezone.now()
                    )
                except CONNECTION_ERRORS:
                    # A database blip: beat again on a new connection next time. A thread that stopped here
                    # for good made the reaper take a live scan for a dead one.
                    logger.warning("heartbeat of scan %s missed: database connection error", scan_id)
                    drop_broken_connection()
        except Exception:  # a missed heartbeat only risks a harmless second run
            logger.exception("heartbeat of scan %s stopped", scan_id)
        finally:
            connection.close()  # this thread's own database connection

    thread = threading.Thread(target=beat, name=f"scan-{scan_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


class ResultNotStored(DatabaseUnavailable):
    """The database stayed down past the outage budget: the scan goes back to its task (a Celery retry), which
    runs it again as `resume_as` = this attempt's worker identity. Never a failed scan."""

    def __init__(self, message: str, *, worker: str) -> None:
        super().__init__(message)
        self.worker = worker


def execute_scan(scan_id: int, *, resume_as: str = "") -> Scan | None:
    """Run a queued scan and store its outcome. Leaves the scan done or failed, never running, unless the
    database stays unreachable past the outage budget: then ResultNotStored, and the task tries again.

    A scan found 'running' is a redelivery after a worker died mid-scan: it is run again, up to MAX_ATTEMPTS.
    `resume_as` names an attempt that ran but could not store its outcome (its retry takes the scan over
    without counting an attempt: the worker did not die).
    """
    # Imported here: the worker running this has Celery loaded, and a process that only stores a command-line
    # scan (which imports the services) does not need Celery's utilities, yaml and kombu with them.
    from celery.exceptions import SoftTimeLimitExceeded

    started = time.monotonic()
    claimed = with_reconnect(lambda: _claim(scan_id, resume_as), budget=_budget(started), what=f"start scan {scan_id}")
    if not isinstance(claimed, tuple):
        return claimed  # nothing to run (gone, finished, running elsewhere, or given up)
    scan, identity = claimed
    try:
        with _heartbeat(scan.pk, identity):
            outcome = _run(scan)
    except SoftTimeLimitExceeded:
        outcome = f"The scan exceeded {config.task_soft_time_limit()} s and was stopped."
    except Exception as exc:
        logger.exception("scan %s crashed", scan_id)
        outcome = f"The scan stopped on an internal error: {type(exc).__name__}: {exc}"
    try:
        return with_reconnect(
            lambda: _store_if_still_ours(scan, identity, outcome),
            budget=_budget(started),
            what=f"store the outcome of scan {scan_id}",
        )
    except DatabaseUnavailable as exc:
        raise ResultNotStored(str(exc), worker=identity) from exc


def _budget(started: float) -> float:
    """The outage budget, cut short so the retries end before the task's soft time limit interrupts them."""
    left = config.task_soft_time_limit() - (time.monotonic() - started) - 5
    return max(0.0, min(config.database_outage_budget(), left))


def _claim(scan_id: int, resume_as: str) -> Scan | tuple[Scan, str] | None:
    """Mark the scan running in this worker. Returns (scan, identity) to run it, else what to return."""
    with transaction.atomic():
        scan = Scan.objects.select_for_update().select_related("site").filter(pk=scan_id).first()
        if scan is None:
            logger.warning("scan %s no longer exists; nothing to run", scan_id)
            return None
        if not scan.is_active:
            return scan  # a duplicate delivery of finished work
        now = timezone.now()
        resuming = bool(resume_as) and scan.status == Scan.Status.RUNNING and scan.worker == resume_as
        if (
            scan.status == Scan.Status.RUNNING
            and not resuming
            and not heartbeat_lost(scan, now)
            and not _worker_is_gone(scan.worker)
        ):
            return scan  # a duplicate delivery while another worker is running it: one run at a time
        if scan.attempts >= MAX_ATTEMPTS and not resuming:
            return finish_failed(
                scan, f"Gave up after {scan.attempts} attempts: the worker running it stopped each time."
            )
        identity = _worker_identity()
        scan.status = Scan.Status.RUNNING
        scan.started_at = now
        scan.heartbeat_at = now
        scan.worker = identity
        if not resuming:
            scan.attempts += 1
        scan.save(update_fields=["status", "started_at", "heartbeat_at", "worker", "attempts"])
    return scan, identity


def _run(scan: Scan) -> tuple[ScanResult, Grades, dict] | str:
    """The engine's run, graded and reported: (result, grades, document), or a failure reason. No database."""
    # Imported here: the engine pulls in sslyze, which the web process never needs at import time.
    from scanner.engine import scan as run_engine
    from scanner.grading import grade
    from scanner.report import build_report

    site = scan.site
    target = Target(host=site.hostname, https_port=site.https_port, http_port=site.http_port)
    try:
        result = run_engine(
            target, policy=config.network_policy(), settings=config.scan_settings(), ca_file=config.ca_file()
        )
    except TargetRefused as exc:  # the address changed since submission and is no longer allowed
        return str(exc)
    grades = grade(result)
    return result, grades, build_report(result, grades)


def _store_if_still_ours(scan: Scan, identity: str, outcome: tuple[ScanResult, Grades, dict] | str) -> Scan | None:
    """Store the outcome unless the scan moved on meanwhile (another worker took it over and is running or
    finished it). A scan the reaper queued again during an outage is still ours to finish: its second message
    will find it done."""
    with transaction.atomic():
        current = Scan.objects.select_for_update().filter(pk=scan.pk).values("status", "worker").first()
        if current is None:
            return None
        ours = (current["status"] == Scan.Status.RUNNING and current["worker"] == identity) or (
            current["status"] == Scan.Status.QUEUED
        )
        if not ours:
            logger.warning(
                "scan %s moved on (%s by %s) while its outcome waited; not stored again",
                scan.pk,
                current["status"],
                current["worker"] or "-",
            )
            return Scan.objects.filter(pk=scan.pk).first()
        if isinstance(outcome, str):
            return fail_scan(scan.pk, outcome)
        return store_outcome(scan, *outcome)


def record_cli_scan(owner_username: str, target: Target, result: ScanResult, grades: Grades, document: dict) -> Scan:
    """Store a scan run synchronously by `manage.py scan` under `owner_username` (created if needed).

    One transaction: the scan is stored whole or not at all (never left "running" by a failure halfway), and
    the command waits for one commit instead of three."""
    from django.contrib.auth import get_user_model

    with transaction.atomic():
        owner, _ = get_user_model().objects.get_or_create(username=owner_username)
        site = site_for_target(owner, target, http_port_given=True)
        scan = Scan.objects.create(
            site=site, status=Scan.Status.RUNNING, started_at=result.started_at, attempts=1, ip=result.ip
        )
        site_attempted(scan)
        return store_outcome(scan, result, grades, document)
