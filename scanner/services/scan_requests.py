"""Asking for scans: a person's request, a portfolio's, beat's rescans. Every limit on how much may be scanned
lives here (the account's scan quota, the per-target interval), so no entry point can skip one."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from scanner import config
from scanner.models import AccountSignup, Channel, LimitEvent, Portfolio, Scan, Site
from scanner.services.errors import ScanNotQueued, ScanRequestForbidden, ScanRequestTooSoon
from scanner.services.limits import limit_record, limit_used, limit_wait, minutes
from scanner.services.portfolio_days import portfolio_days_forget
from scanner.services.scan_dispatch import release, stale_reason
from scanner.services.scan_fanout import plan_scheduled_rescans
from scanner.services.scan_results import finish_failed, site_attempted
from scanner.services.scan_targets import recent_scan_of_target
from scanner.services.site_versions import sites_changed
from scanner.services.sites import checked_target, site_for_target

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def submit_scan(
    owner: User,
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
    scan_permission_check(owner)
    target, address = checked_target(text, port=port, http_port=http_port)
    with transaction.atomic():
        site = site_for_target(owner, target, http_port_given=http_port is not None)
        if portfolio is not None and not portfolio.sites.filter(pk=site.pk).exists():
            portfolio.sites.add(site)
            portfolio_days_forget(portfolio_ids=[portfolio.pk])
            sites_changed(owner_ids=[portfolio.owner_id])
        scan, created = _request_scan(site, address=address, portfolio=portfolio, max_age=max_age, quota_of=owner)
    # The message is sent on commit (just now, unless an outer transaction is still open): a scan whose
    # message could not be sent has been failed with the reason, and the caller must hear it, not "queued".
    if created and connection.get_autocommit():
        scan.refresh_from_db(fields=["status", "error"])
        if scan.status == Scan.Status.FAILED:
            raise ScanNotQueued(scan.error)
    return scan, created


def submit_portfolio_scans(
    portfolio: Portfolio,
    *,
    batch_size: int | None = None,
    batch_interval: int = 0,
    scheduled: bool = False,
    site_by_site: bool = False,
) -> list[tuple[Site, Scan | None, str | None]]:
    """Scan every site of a portfolio. One refused site does not stop the others: it gets an error instead.

    With batch_size, the n-th site's scan is released to the workers (n // batch_size) * batch_interval
    seconds later, so a large portfolio reaches them in waves. Held-back scans are stored queued with a
    release time and sent by release_due_scans (beat) when due; no message waits in the broker with a
    countdown, which Redis would hand out a second time once it outlived the visibility timeout.

    Who waits for the release: every scheduled rescan (`scheduled=True`), its first batch included, so
    SCANNER_RELEASE_LIMIT bounds the whole inflow of beat's rescans however many portfolios fall due at once.
    A person's request (this without `scheduled`, a single site, a bulk operation) is sent at once: nobody waits
    for beat's next tick, or behind the day's scheduled backlog, for a scan they asked for; the account's scan
    quota bounds that inflow instead.

    A person's request costs one scan per site against the owner's quota, checked for the whole portfolio
    first (all or nothing: raises ScanRequestTooSoon). Scheduled rescans (`scheduled=True`, from beat) are
    bounded by the schedule's minimum interval instead (schedules.check_schedule_interval).

    Scheduled rescans are planned in bulk (scan_fanout: a few queries per batch of sites, not ten per site) unless
    `site_by_site`, the per-site path a person's request takes, which the bulk planner must agree with.
    """
    if scheduled and not site_by_site:
        return plan_scheduled_rescans(portfolio, batch_size=batch_size, batch_interval=batch_interval)
    if not scheduled:
        scan_permission_check(portfolio.owner)
        scan_quota_check(portfolio.owner, cost=max(1, portfolio.sites.count()))
    outcomes: list[tuple[Site, Scan | None, str | None]] = []
    now = timezone.now()
    for index, site in enumerate(portfolio.sites.order_by("hostname", "https_port")):
        delay = index // batch_size * batch_interval if batch_size else 0
        release_at = now + timedelta(seconds=delay) if delay or scheduled else None
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
                    release_at=release_at,
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
    release_at: datetime | None = None,
    quota_of: User | None = None,
) -> tuple[Scan, bool]:
    # Locking the site row serialises concurrent requests for it (PostgreSQL); the partial unique
    # constraint on Scan is the backstop where row locks do not exist (SQLite serialises writers anyway).
    Site.objects.select_for_update().filter(pk=site.pk).first()

    reuse_window = max_age if max_age is not None else config.rescan_min_interval()
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
                release(active)  # asked for now: a rescan held back for a later batch goes now instead
            return active, False
        # A dead scan must never answer for the site (it would block it for good): fail it, start afresh.
        finish_failed(active, stale)

    recent = recent_scan_of_target(site)
    if recent is not None:
        return recent, False

    if quota_of is not None:
        scan_quota_lock(quota_of)
        scan_quota_check(quota_of)  # only a scan about to be created costs anything
    scan = Scan.objects.create(
        site=site,
        portfolio=portfolio,
        status=Scan.Status.QUEUED,
        ip=address,
        celery_task_id=str(uuid.uuid4()),
        release_at=release_at,
    )
    # The quota's ledger: a scan requested stays counted when its site is deleted. Scheduled rescans are
    # counted too (they use up the quota) though never refused by it.
    limit_record(LimitEvent.Kind.SCANS, site.owner_id)
    site_attempted(scan)
    if release_at is None:
        release(scan)
    return scan, True


def scan_quota_check(user: User, *, cost: int = 1) -> None:
    """Refuse (ScanRequestTooSoon, HTTP 429) when `cost` more scans would take `user` over the hourly or daily
    scan quota; every way of asking for scans passes through here."""
    wait = scan_quota_wait(user, cost=cost)
    if wait is not None:
        raise ScanRequestTooSoon(
            f"Scan quota reached: an account may submit {config.scans_per_hour()} scans an hour and "
            f"{config.scans_per_day()} a day. Try again in {minutes(wait)}.",
            retry_after=wait,
            code="scan_quota",
        )


def scan_quota_lock(user: User) -> None:
    """One account's requests take turns from here to commit (PostgreSQL), so two in parallel cannot both take the
    quota's last scan (the ledger rows are written in the same transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"scan-quota:{user.pk}"])


def scan_quota_left(user: User) -> int | None:
    """How many more scans `user` may request now; None when no quota applies."""
    left = [
        limit - limit_used(LimitEvent.Kind.SCANS, user.pk, window=window)
        for limit, window in ((config.scans_per_hour(), 3600), (config.scans_per_day(), 86400))
        if limit
    ]
    return max(0, min(left)) if left else None


def scan_quota_wait(user: User, *, cost: int = 1) -> int | None:
    """Seconds until `user` may submit `cost` more scans, or None when they may now. Counts the scans the
    account requested (the ledger, services.limits), not the scans it still has: deleting sites gives nothing back."""
    for limit, window in ((config.scans_per_hour(), 3600), (config.scans_per_day(), 86400)):
        wait = limit_wait(LimitEvent.Kind.SCANS, user.pk, limit=limit, window=window, cost=cost)
        if wait is not None:
            return wait
    return None


def scan_permission_check(user: User) -> None:
    """An account created through the public sign-up scans only once its e-mail address is confirmed (when
    SCANNER_SCANS_NEED_CONFIRMED_EMAIL is on, the default while sign-up is open): a throwaway account costs an
    inbox, not just a form. Accounts the operator creates (createsuperuser, the admin) are not asked."""
    if not config.scans_need_confirmed_email():
        return
    if not AccountSignup.objects.filter(user_id=user.pk).exists():
        return
    if Channel.objects.filter(owner_id=user.pk, is_account_email=True, verified_at__isnull=False).exists():
        return
    raise ScanRequestForbidden(
        "Confirm your e-mail address before scanning: follow the link we sent you, or set an address in Settings.",
        code="email_unconfirmed",
    )
