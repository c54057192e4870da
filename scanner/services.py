"""Every write to sites, portfolios and scans. No HTTP here: the API, the dashboard and tasks call these.

Domain errors are raised as ScanRequestError with a message meant for the person who typed the input.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from scanner import config
from scanner.alerts import evaluate_alerts
from scanner.changes import compare_reports
from scanner.grading.scale import GRADE_ORDER
from scanner.models import Alert, Channel, Finding, Portfolio, Scan, Site, SiteTag
from scanner.netpolicy import TargetRefused
from scanner.targets import InvalidTarget, Target, parse_target

logger = logging.getLogger(__name__)

# A scan redelivered this many times after its worker died is given up on rather than retried forever.
MAX_ATTEMPTS = 3


class ScanRequestError(ValueError):
    """Input the service will not act on. `field` names the input it is about, for form/API errors."""

    def __init__(self, message: str, *, field: str = "host", code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class ScanNotQueued(ScanRequestError):
    """The scan row was stored but its message could not be sent (broker down); the scan is failed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="host", code="queue_unavailable")


class ScanRequestTooSoon(ScanRequestError):
    """A request refused for now, not for good (HTTP 429): `retry_after` says in how many seconds to retry."""

    status = 429

    def __init__(self, message: str, *, retry_after: int, field: str = "host", code: str = "too_soon") -> None:
        super().__init__(message, field=field, code=code)
        self.retry_after = retry_after


# --- Sites -----------------------------------------------------------------


def parsed_target(text: str, *, port: int | None = None, http_port: int | None = None) -> Target:
    try:
        return parse_target(text, https_port=port, http_port=http_port)
    except InvalidTarget as exc:
        raise ScanRequestError(str(exc), code="invalid_target") from None


def checked_target(text: str, *, port: int | None = None, http_port: int | None = None) -> tuple[Target, str]:
    """Parse what the user typed and resolve it once under the network policy; return target and address."""
    target = parsed_target(text, port=port, http_port=http_port)
    try:
        address = config.network_policy().resolve(target.host)
    except TargetRefused as exc:
        raise ScanRequestError(str(exc), code="target_refused") from None
    return target, address


def site_for_target(owner, target: Target, *, http_port_given: bool = False) -> Site:
    site, created = Site.objects.get_or_create(
        owner=owner,
        hostname=target.host,
        https_port=target.https_port,
        defaults={"http_port": target.http_port},
    )
    if not created and http_port_given and site.http_port != target.http_port:
        # An explicit plain-HTTP port is the latest word on where the site listens.
        site.http_port = target.http_port
        site.save(update_fields=["http_port"])
    return site


# --- Portfolios ------------------------------------------------------------


def portfolio_create(*, owner, name: str) -> Portfolio:
    try:
        with transaction.atomic():
            return Portfolio.objects.create(owner=owner, name=name)
    except IntegrityError:
        raise ScanRequestError(
            f"You already have a portfolio named '{name}'.", field="name", code="duplicate"
        ) from None


_UNSET = object()


def portfolio_update(portfolio: Portfolio, *, name: str | None = None, alert_expiry_days=_UNSET) -> Portfolio:
    """Change the given fields only (PATCH semantics); `alert_expiry_days=None` restores the default window."""
    if name is not None and name != portfolio.name:
        if Portfolio.objects.filter(owner=portfolio.owner, name=name).exclude(pk=portfolio.pk).exists():
            raise ScanRequestError(f"You already have a portfolio named '{name}'.", field="name", code="duplicate")
        portfolio.name = name
    if alert_expiry_days is not _UNSET:
        portfolio.alert_expiry_days = alert_expiry_days
    portfolio.save(update_fields=["name", "alert_expiry_days"])
    return portfolio



def portfolio_add_site(
    portfolio: Portfolio,
    *,
    host: str | None = None,
    port: int | None = None,
    http_port: int | None = None,
    site: Site | None = None,
) -> Site:
    """Add an existing site, or a hostname (checked like a scan request, so unscannable hosts never get in)."""
    if site is None:
        target, _ = checked_target(host or "", port=port, http_port=http_port)
        site = site_for_target(portfolio.owner, target, http_port_given=http_port is not None)
    portfolio.sites.add(site)
    return site


def portfolio_remove_site(portfolio: Portfolio, *, site: Site) -> None:
    portfolio.sites.remove(site)


# --- Scans -----------------------------------------------------------------


def submit_scan(
    owner,
    text: str,
    *,
    port: int | None = None,
    http_port: int | None = None,
    portfolio: Portfolio | None = None,
    max_age: int | None = None,
) -> tuple[Scan, bool]:
    """Ask for a scan of what the user typed. Returns (scan, created); created is False when an existing
    scan (recent enough, or already queued/running) answers the request instead.

    Nothing is stored when the input is invalid or the target is refused.
    """
    target, address = checked_target(text, port=port, http_port=http_port)
    with transaction.atomic():
        site = site_for_target(owner, target, http_port_given=http_port is not None)
        if portfolio is not None:
            portfolio.sites.add(site)
        scan, created = _request_scan(site, address=address, portfolio=portfolio, max_age=max_age)
    # The message is sent on commit (just now, unless an outer transaction is still open): a scan whose
    # message could not be sent has been failed with the reason, and the caller must hear it, not "queued".
    if created and connection.get_autocommit():
        scan.refresh_from_db(fields=["status", "error"])
        if scan.status == Scan.Status.FAILED:
            raise ScanNotQueued(scan.error)
    return scan, created


def submit_portfolio_scans(
    portfolio: Portfolio, *, batch_size: int | None = None, batch_interval: int = 0
) -> list[tuple[Site, Scan | None, str | None]]:
    """Scan every site of a portfolio. One refused site does not stop the others: it gets an error instead.

    With batch_size, the n-th site's scan is released to the workers (n // batch_size) * batch_interval
    seconds later, so a large portfolio reaches them in waves. Held-back scans are stored queued with a
    release time and sent by release_due_scans (beat) when due; no message waits in the broker with a
    countdown, which Redis would hand out a second time once it outlived the visibility timeout.
    """
    outcomes: list[tuple[Site, Scan | None, str | None]] = []
    now = timezone.now()
    for index, site in enumerate(portfolio.sites.order_by("hostname", "https_port")):
        delay = index // batch_size * batch_interval if batch_size else 0
        # No DNS here: the worker resolves each site under the network policy when it runs the scan (the
        # engine pins what it resolved), so a 10,000-site request does not wait for 10,000 lookups, and a
        # refused site ends as a failed scan with the policy's reason.
        try:
            with transaction.atomic():
                scan, _ = _request_scan(
                    site,
                    address=None,
                    portfolio=portfolio,
                    max_age=None,
                    release_at=now + timedelta(seconds=delay) if delay else None,
                )
        except ScanRequestTooSoon as exc:  # the target is being scanned for another account right now
            outcomes.append((site, None, exc.message))
            continue
        outcomes.append((site, scan, None))
    return outcomes


def _request_scan(
    site: Site,
    *,
    address: str | None,
    portfolio: Portfolio | None,
    max_age: int | None,
    release_at=None,
) -> tuple[Scan, bool]:
    # Locking the site row serialises concurrent requests for it (PostgreSQL); the partial unique
    # constraint on Scan is the backstop where row locks do not exist (SQLite serialises writers anyway).
    Site.objects.select_for_update().filter(pk=site.pk).first()

    reuse_window = max_age if max_age is not None else settings.SCANNER_RESCAN_MIN_INTERVAL
    if reuse_window:
        recent = (
            site.scans.filter(
                status=Scan.Status.DONE, finished_at__gte=timezone.now() - timedelta(seconds=reuse_window)
            )
            .order_by("-finished_at")
            .first()
        )
        if recent is not None:
            return recent, False

    active = site.scans.select_for_update().filter(status__in=Scan.ACTIVE_STATUSES).order_by("-requested_at").first()
    if active is not None:
        stale = stale_reason(active)
        if stale is None:
            if release_at is None and active.enqueued_at is None:
                _release(active)  # asked for now: a rescan held back for a later batch goes now instead
            return active, False
        # A dead scan must never answer for the site (it would block it for good): fail it, start afresh.
        _finish_failed(active, stale)

    recent = _recent_scan_of_target(site)
    if recent is not None:
        return recent, False

    scan = Scan.objects.create(
        site=site,
        portfolio=portfolio,
        status=Scan.Status.QUEUED,
        ip=address,
        celery_task_id=str(uuid.uuid4()),
        release_at=release_at,
    )
    _site_attempted(scan)
    if release_at is None:
        _release(scan)
    return scan, True


def _recent_scan_of_target(site: Site) -> Scan | None:
    """The per-target limit: one host and port is scanned at most once per SCANNER_TARGET_MIN_INTERVAL seconds,
    whoever asks, so the service cannot be used to hammer a third party. Inside the window the recent result
    answers (copied onto the asker's own site: users never see each other's rows); a scan of the target still
    running for another account is refused for now with the time to retry."""
    window = getattr(settings, "SCANNER_TARGET_MIN_INTERVAL", 0)
    if not window:
        return None
    if connection.vendor == "postgresql":
        # Requests for one target from different accounts lock different site rows; this transaction-scoped
        # lock on the target itself makes them take turns, so two cannot both start a scan.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"scan-target:{site.hostname}:{site.https_port}"])
    since = timezone.now() - timedelta(seconds=window)
    same_target = Scan.objects.filter(site__hostname=site.hostname, site__https_port=site.https_port)
    done = same_target.filter(status=Scan.Status.DONE, finished_at__gte=since).order_by("-finished_at").first()
    if done is not None:
        return done if done.site_id == site.pk else _copy_scan(done, site)
    running = [
        scan for scan in same_target.filter(status__in=Scan.ACTIVE_STATUSES).exclude(site=site)
        if stale_reason(scan) is None  # a stuck scan of someone else's must not block the target for good
    ]
    if running:
        raise ScanRequestTooSoon(
            f"{site} is being scanned right now for another account; its result will answer your request "
            "once it is done. Try again in a minute.",
            retry_after=60,
        )
    return None


def _copy_scan(source: Scan, site: Site) -> Scan:
    """A finished scan of the same target, recorded for another user's site as if it had been run for it."""
    copy_fields = (
        "started_at", "finished_at", "security_grade", "security_ignoring_trust", "score", "seo_score",
        "seo_grade", "error", "result", "ip",
    )
    scan = Scan.objects.create(
        site=site, status=Scan.Status.DONE, attempts=0, **{name: getattr(source, name) for name in copy_fields}
    )
    scan.changes = changes_since_previous(scan)
    scan.save(update_fields=["changes"])
    Finding.objects.bulk_create(
        Finding(scan=scan, site=site, finding_id=f.finding_id, area=f.area, severity=f.severity, title=f.title)
        for f in source.findings.all()
    )
    _site_attempted(scan)
    site_took_result(scan)
    evaluate_alerts(scan)
    return scan


def _release(scan: Scan) -> None:
    """Mark the scan sent and send its message once the surrounding transaction commits."""
    scan.enqueued_at = timezone.now()
    scan.release_at = None
    scan.reserved_by = ""
    Scan.objects.filter(pk=scan.pk).update(enqueued_at=scan.enqueued_at, release_at=None, reserved_by="")
    # After commit, so a worker never picks up a scan id whose row it cannot see yet.
    queue = scan_queue(scan)
    transaction.on_commit(lambda: _enqueue(scan.pk, scan.celery_task_id, queue=queue))


def scan_queue(scan: Scan) -> str:
    """Portfolio-wide scans (bulk requests, scheduled rescans) wait in their own queue, so a 10,000-site
    rescan never stands between a person and the one scan they just asked for."""
    return settings.SCANNER_RESCAN_QUEUE if scan.portfolio_id is not None else settings.SCANNER_SCAN_QUEUE


def _enqueue(scan_id: int, task_id: str, *, queue: str | None = None) -> bool:
    from scanner.tasks import run_scan

    options = {"queue": queue or settings.SCANNER_SCAN_QUEUE}
    try:
        run_scan.apply_async(args=[scan_id], task_id=task_id, **options)
    except Exception as exc:  # broker down: say so on the scan instead of leaving it queued forever
        logger.exception("could not enqueue scan %s", scan_id)
        fail_scan(scan_id, f"The scan could not be queued (is the Redis broker running?): {exc}")
        return False
    return True


# --- Keeping scans moving: release, heartbeat, reaper ------------------------


def stale_reason(scan: Scan, *, now=None) -> str | None:
    """Why an active scan can no longer be trusted to finish on its own, or None while it is healthy."""
    now = now or timezone.now()
    if scan.status == Scan.Status.QUEUED:
        waiting_since = scan.release_at or scan.requested_at
        if now - waiting_since > timedelta(seconds=settings.SCANNER_QUEUED_LIMIT):
            return f"The scan was never started: it waited in the queue for more than {settings.SCANNER_QUEUED_LIMIT:g} s."
        return None
    if scan.status != Scan.Status.RUNNING:
        return None
    started = scan.started_at or scan.requested_at
    if now - started > timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + settings.SCANNER_HEARTBEAT_TIMEOUT):
        return f"The scan exceeded the {settings.CELERY_TASK_TIME_LIMIT} s time limit and was stopped."
    if not _heartbeat_lost(scan, now):
        return None
    last_beat = scan.heartbeat_at or started
    if last_beat - started >= timedelta(seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT):
        # Alive past its soft limit, then silent: the hard limit killed it. Running it again would only
        # end the same way.
        return f"The scan exceeded the {settings.CELERY_TASK_TIME_LIMIT} s time limit and was stopped."
    if scan.attempts >= MAX_ATTEMPTS:
        return f"Gave up after {scan.attempts} attempts: the worker running it stopped each time."
    return None


def _heartbeat_lost(scan: Scan, now) -> bool:
    last_sign_of_life = scan.heartbeat_at or scan.started_at or scan.requested_at
    return now - last_sign_of_life > timedelta(seconds=settings.SCANNER_HEARTBEAT_TIMEOUT)


def release_due_scans(*, limit: int = 500) -> int:
    """Send the held-back rescans whose release time has come (beat calls this every few seconds)."""
    due = list(
        # release_at null and never sent: rows queued before this bookkeeping existed.
        Scan.objects.filter(status=Scan.Status.QUEUED, enqueued_at__isnull=True)
        .filter(Q(release_at__lte=timezone.now()) | Q(release_at__isnull=True))
        .order_by("release_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for scan_id in due:
        with transaction.atomic():
            scan = (
                Scan.objects.select_for_update(skip_locked=True)
                .filter(pk=scan_id, status=Scan.Status.QUEUED, enqueued_at__isnull=True)
                .first()
            )
            if scan is None:
                continue  # another beat or a user request released it meanwhile
            _release(scan)
        sent += 1
    return sent


def scan_reserved(scan_id: int, node: str) -> None:
    """A worker node took the queued scan's message from the broker (Celery's task_received, in that node's
    main process): remembered, so the reaper can tell when the message died with the node."""
    Scan.objects.filter(pk=scan_id, status=Scan.Status.QUEUED).update(reserved_by=node[:255])


def reap_stale_scans() -> dict[str, int]:
    """Unstick scans whose message or worker was lost. Returns how many were resent, requeued and failed.

    - queued, never sent: left to release_due_scans; queued and sent long ago: sent again (a Redis restart
      without persistence loses messages); queued and taken by a node whose heartbeat stopped: sent again
      at once (the message waited in that node's prefetch and would only come back after the broker's
      visibility timeout); queued past SCANNER_QUEUED_LIMIT: failed with the reason.
    - running without a heartbeat for SCANNER_HEARTBEAT_TIMEOUT: its worker died, so it is queued again
      (failed after MAX_ATTEMPTS); running past the hard time limit: failed.
    A second message for a scan is harmless: execute_scan runs a scan only once at a time.
    """
    now = timezone.now()
    counts = {"resent": 0, "requeued": 0, "failed": 0}
    gone = _gone_reserving_nodes()
    candidates = Scan.objects.filter(status__in=Scan.ACTIVE_STATUSES).filter(
        Q(status=Scan.Status.RUNNING, heartbeat_at__lt=now - timedelta(seconds=settings.SCANNER_HEARTBEAT_TIMEOUT))
        | Q(status=Scan.Status.RUNNING, heartbeat_at__isnull=True)
        | Q(status=Scan.Status.QUEUED, enqueued_at__lt=now - timedelta(seconds=settings.SCANNER_QUEUED_RESEND_AFTER))
        | Q(status=Scan.Status.QUEUED, requested_at__lt=now - timedelta(seconds=settings.SCANNER_QUEUED_LIMIT))
        | Q(status=Scan.Status.QUEUED, reserved_by__in=gone)
    )
    for scan_id in candidates.values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            scan = Scan.objects.select_for_update(skip_locked=True).filter(pk=scan_id).first()
            if scan is None or not scan.is_active:
                continue
            reason = stale_reason(scan, now=now)
            if reason is not None:
                _finish_failed(scan, reason)
                counts["failed"] += 1
            elif scan.status == Scan.Status.RUNNING and _heartbeat_lost(scan, now):
                logger.warning("scan %s lost its worker %s; queueing it again", scan.pk, scan.worker or "?")
                scan.status = Scan.Status.QUEUED
                scan.worker = ""
                scan.save(update_fields=["status", "worker"])
                _release(scan)
                counts["requeued"] += 1
            elif scan.status == Scan.Status.QUEUED and scan.enqueued_at is not None and (
                now - scan.enqueued_at > timedelta(seconds=settings.SCANNER_QUEUED_RESEND_AFTER)
                or scan.reserved_by in gone
            ):
                if scan.reserved_by in gone:
                    logger.warning("scan %s waited in the prefetch of %s, which stopped; sending it again",
                                   scan.pk, scan.reserved_by)
                _release(scan)
                counts["resent"] += 1
    return counts


def _gone_reserving_nodes() -> set[str]:
    """The nodes holding queued scans' messages whose heartbeat stopped."""
    from scanner.nodes import gone_nodes

    holders = set(
        Scan.objects.filter(status=Scan.Status.QUEUED).exclude(reserved_by="").values_list("reserved_by", flat=True)
        .distinct()[:1000]
    )
    return gone_nodes(holders)


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
def _heartbeat(scan_id: int, identity: str):
    """Refresh the running scan's heartbeat from a thread until the block ends."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.SCANNER_HEARTBEAT_INTERVAL):
                Scan.objects.filter(pk=scan_id, status=Scan.Status.RUNNING, worker=identity).update(
                    heartbeat_at=timezone.now()
                )
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


def execute_scan(scan_id: int) -> Scan | None:
    """Run a queued scan and store its outcome. Always leaves the scan done or failed, never running.

    A scan found 'running' is a redelivery after a worker died mid-scan: it is run again, up to MAX_ATTEMPTS.
    """
    with transaction.atomic():
        scan = Scan.objects.select_for_update().select_related("site").filter(pk=scan_id).first()
        if scan is None:
            logger.warning("scan %s no longer exists; nothing to run", scan_id)
            return None
        if not scan.is_active:
            return scan  # a duplicate delivery of finished work
        now = timezone.now()
        if (
            scan.status == Scan.Status.RUNNING
            and not _heartbeat_lost(scan, now)
            and not _worker_is_gone(scan.worker)
        ):
            return scan  # a duplicate delivery while another worker is running it: one run at a time
        if scan.attempts >= MAX_ATTEMPTS:
            return _finish_failed(
                scan, f"Gave up after {scan.attempts} attempts: the worker running it stopped each time."
            )
        identity = _worker_identity()
        scan.status = Scan.Status.RUNNING
        scan.started_at = now
        scan.heartbeat_at = now
        scan.worker = identity
        scan.attempts += 1
        scan.save(update_fields=["status", "started_at", "heartbeat_at", "worker", "attempts"])

    try:
        with _heartbeat(scan.pk, identity):
            return _run_and_store(scan)
    except SoftTimeLimitExceeded:
        return fail_scan(scan.pk, f"The scan exceeded {settings.CELERY_TASK_SOFT_TIME_LIMIT} s and was stopped.")
    except Exception as exc:
        logger.exception("scan %s crashed", scan_id)
        return fail_scan(scan.pk, f"The scan stopped on an internal error: {type(exc).__name__}: {exc}")


def _run_and_store(scan: Scan) -> Scan:
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
        return fail_scan(scan.pk, str(exc))
    grades = grade(result)
    return store_outcome(scan, result, grades, build_report(result, grades))


def _site_attempted(scan: Scan) -> None:
    """The site's most recent attempt is this new scan (denormalised for the overview's "last scanned")."""
    Site.objects.filter(pk=scan.site_id).update(last_scan=scan, last_scan_at=scan.requested_at)


def site_took_result(scan: Scan) -> None:
    """A done scan is the site's current state: its grade and certificate expiry, copied onto the site so the
    overview filters and sorts on indexed columns."""
    not_after = ((scan.result or {}).get("certificate") or {}).get("not_after")
    try:
        expiry = datetime.fromisoformat(str(not_after)) if not_after else None
    except ValueError:
        expiry = None
    if expiry is not None and expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=UTC)
    grade = scan.security_grade or ""
    Site.objects.filter(pk=scan.site_id).update(
        latest_scan=scan,
        grade=grade,
        grade_rank=GRADE_ORDER.index(grade) if grade in GRADE_ORDER else None,
        cert_not_after=expiry,
    )


def store_outcome(scan: Scan, result, grades, document: dict) -> Scan:
    """Persist a finished engine run (done or failed) with its grades, findings and report document."""
    site = scan.site
    with transaction.atomic():
        scan.status = Scan.Status.FAILED if result.error else Scan.Status.DONE
        scan.error = result.error or ""
        scan.finished_at = timezone.now()
        scan.ip = result.ip or scan.ip
        scan.security_grade = grades.security or ""
        scan.security_ignoring_trust = grades.security_ignoring_trust or ""
        scan.score = grades.score
        scan.seo_score = grades.seo_score
        scan.seo_grade = grades.seo_grade or ""
        scan.result = document
        scan.changes = None if result.error else changes_since_previous(scan)
        scan.save()
        scan.findings.all().delete()  # a redelivered scan may have stored some before its worker died
        Finding.objects.bulk_create(
            Finding(
                scan=scan,
                site=site,
                finding_id=finding.id[:64],
                area=(finding.area or "")[:32],
                severity=str(finding.severity or "")[:16],
                title=(finding.title or "")[:255],
            )
            for finding in grades.findings
        )
        if scan.status == Scan.Status.DONE:
            site_took_result(scan)
        evaluate_alerts(scan)
    return scan


def changes_since_previous(scan: Scan) -> dict:
    """compare_reports against the site's previous done scan, plus that scan's id."""
    previous = (
        Scan.objects.filter(site_id=scan.site_id, status=Scan.Status.DONE)
        .exclude(pk=scan.pk)
        .order_by("-finished_at", "-id")
        .first()
    )
    return {
        **compare_reports(previous.result if previous else None, scan.result or {}),
        "previous_scan_id": previous.pk if previous else None,
    }


def fail_scan(scan_id: int, reason: str) -> Scan | None:
    with transaction.atomic():
        scan = Scan.objects.select_for_update().filter(pk=scan_id).first()
        if scan is None:
            return None
        return _finish_failed(scan, reason)


def _finish_failed(scan: Scan, reason: str) -> Scan:
    scan.status = Scan.Status.FAILED
    scan.error = reason
    scan.finished_at = timezone.now()
    scan.save(update_fields=["status", "error", "finished_at"])
    # Crashes, time limits and given-up redeliveries never reach store_outcome, yet count as outages too.
    evaluate_alerts(scan)
    return scan


def record_cli_scan(owner_username: str, target: Target, result, grades, document: dict) -> Scan:
    """Store a scan run synchronously by `manage.py scan` under `owner_username` (created if needed)."""
    from django.contrib.auth import get_user_model

    owner, _ = get_user_model().objects.get_or_create(username=owner_username)
    site = site_for_target(owner, target, http_port_given=True)
    scan = Scan.objects.create(
        site=site, status=Scan.Status.RUNNING, started_at=result.started_at, attempts=1, ip=result.ip
    )
    _site_attempted(scan)
    return store_outcome(scan, result, grades, document)


# --- Sites: tags, deletion, sharing, muting ---------------------------------


def site_set_tags(site: Site, tags: list[str]) -> None:
    """Add `tags` to the site (imports add; they never remove a tag someone set)."""
    SiteTag.objects.bulk_create([SiteTag(site=site, name=tag) for tag in tags], ignore_conflicts=True)


def site_delete(site: Site) -> None:
    """Delete a site with its whole history: scans, findings, alerts and their delivery log go with it."""
    with transaction.atomic():
        Site.objects.filter(pk=site.pk).update(latest_scan=None, last_scan=None)
        site.delete()


def site_share(site: Site, *, enabled: bool) -> Site:
    """Create (or revoke) the unguessable token of the site's public read-only report. A new share is a new
    token, so a link revoked once never works again."""
    site.share_token = secrets.token_urlsafe(32) if enabled else ""
    site.save(update_fields=["share_token"])
    return site


def site_set_badge_public(site: Site, *, public: bool) -> Site:
    site.badge_public = public
    site.save(update_fields=["badge_public"])
    return site


def site_set_muted(site: Site, *, muted: bool) -> Site:
    site.alerts_muted = muted
    site.save(update_fields=["alerts_muted"])
    return site


# --- Alerts and notification channels ---------------------------------------


def alert_acknowledge(alert: Alert) -> Alert:
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["acknowledged_at"])
    return alert


def channel_create(*, owner, kind: str, target: str, name: str = "", secret: str = "") -> Channel:
    """Add a channel. E-mail addresses start unverified and are sent a verification link; URLs are checked
    against the network policy now (and again at each delivery, since a name can be re-pointed)."""
    if kind not in Channel.Kind.values:
        raise ScanRequestError(f"Unknown channel kind '{kind}'.", field="kind")
    target = target.strip()
    if kind == Channel.Kind.EMAIL:
        target = _normalised_email(target, field="target")
    else:
        _check_channel_url(target, kind)
    if kind == Channel.Kind.WEBHOOK and not secret:
        raise ScanRequestError("A webhook needs a signing secret.", field="secret")
    if Channel.objects.filter(owner=owner, kind=kind, target=target).exists():
        raise ScanRequestError("You already have this channel.", field="target", code="duplicate")
    verified = None if kind == Channel.Kind.EMAIL else timezone.now()
    channel = Channel.objects.create(
        owner=owner, kind=kind, target=target, name=name.strip(), secret=secret, verified_at=verified
    )
    if kind == Channel.Kind.EMAIL:
        transaction.on_commit(lambda: send_verification(channel))
    return channel


def channel_delete(channel: Channel) -> None:
    channel.delete()


def _normalised_email(address: str, *, field: str) -> str:
    from django.core.validators import validate_email

    address = address.strip()
    try:
        validate_email(address)
    except Exception:  # noqa: BLE001 - ValidationError; the message below is the one shown
        raise ScanRequestError(f"'{address}' is not an e-mail address.", field=field) from None
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _check_channel_url(url: str, kind: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ScanRequestError("Enter an http:// or https:// URL.", field="target")
    try:
        config.network_policy().resolve(parts.hostname)
    except (TargetRefused, ValueError) as exc:
        raise ScanRequestError(f"This URL cannot receive alerts: {exc}", field="target") from None


def account_set_email(user, address: str) -> Channel | None:
    """Set the account's e-mail address ('' removes it). The account's e-mail channel follows it and is sent a
    new verification link; nothing is sent to the address until the link is followed."""
    address = _normalised_email(address, field="email") if address.strip() else ""
    with transaction.atomic():
        current = Channel.objects.filter(owner=user, is_account_email=True).first()
        if address == user.email and (current is not None or not address):
            return current
        user.email = address
        user.save(update_fields=["email"])
        if not address:
            if current is not None:
                current.delete()
            return None
        if current is None:
            current = Channel(owner=user, kind=Channel.Kind.EMAIL, is_account_email=True)
        current.target = address
        current.verified_at = None
        current.save()
        # The same address may also exist as a separate channel: keep one.
        Channel.objects.filter(owner=user, kind=Channel.Kind.EMAIL, target=address).exclude(pk=current.pk).delete()
    transaction.on_commit(lambda: send_verification(current))
    return current


VERIFY_SALT = "scanner.channel-email-verify"


def verification_token(channel: Channel) -> str:
    from django.core import signing

    return signing.dumps({"c": channel.pk, "a": channel.target}, salt=VERIFY_SALT)


def send_verification(channel: Channel) -> None:
    from django.core.mail import send_mail
    from django.urls import reverse

    link = settings.SCANNER_PUBLIC_URL.rstrip("/") + reverse("dashboard:verify_email", args=[verification_token(channel)])
    try:
        send_mail(
            "[scanner] Confirm your e-mail address",
            f"Follow this link to receive HTTPS scanner alerts at {channel.target}:\n\n{link}\n\n"
            "If you did not ask for this, ignore this message: nothing will be sent to you.",
            None,
            [channel.target],
        )
    except Exception:
        logger.exception("could not send the verification e-mail for channel %s", channel.pk)


def verify_email(token: str) -> Channel:
    """Mark the channel named by a verification link as verified. The link must be recent and for the
    address the channel still has."""
    from django.core import signing

    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=settings.SCANNER_EMAIL_VERIFY_MAX_AGE)
    except signing.SignatureExpired:
        raise ScanRequestError("This link has expired: ask for a new one on the channels page.", field="token")
    except signing.BadSignature:
        raise ScanRequestError("This link is not valid.", field="token") from None
    channel = Channel.objects.filter(pk=data.get("c"), target=data.get("a"), kind=Channel.Kind.EMAIL).first()
    if channel is None:
        raise ScanRequestError("This link is for an address that is no longer in use.", field="token")
    if channel.verified_at is None:
        channel.verified_at = timezone.now()
        channel.save(update_fields=["verified_at"])
    return channel


def portfolio_set_channels(portfolio: Portfolio, *, notify_all: bool, channels: list[Channel]) -> Portfolio:
    if any(channel.owner_id != portfolio.owner_id for channel in channels):
        raise ScanRequestError("You have no such channel.", field="channels")
    with transaction.atomic():
        portfolio.notify_all_channels = notify_all
        portfolio.save(update_fields=["notify_all_channels"])
        portfolio.channels.set([] if notify_all else channels)
    return portfolio


# --- Retention ------------------------------------------------------------------


def prune_old_reports(*, older_than_days: int | None = None, batch_size: int = 500, now=None) -> int:
    """Drop the full report document of finished scans older than the retention window, in batches.

    The scan row (grades, scores, times, error) and its findings stay, so history, trends and "which sites had
    finding X" keep working; only the JSON document (most of the bytes) goes. A site's latest result keeps its
    document whatever its age: the site page shows it. Returns how many documents were dropped.
    """
    days = settings.SCANNER_REPORT_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    current = Site.objects.filter(latest_scan__isnull=False).values("latest_scan_id")
    dropped = 0
    while True:
        with transaction.atomic():
            batch = list(
                Scan.objects.filter(finished_at__lt=cutoff, result__isnull=False)
                .exclude(status__in=Scan.ACTIVE_STATUSES)
                .exclude(pk__in=current)
                .order_by("finished_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                return dropped
            dropped += Scan.objects.filter(pk__in=batch).update(result=None)

