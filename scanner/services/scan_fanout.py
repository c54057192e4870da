"""Beat's rescans planned in bulk: a scheduled rescan asks for a scan of every site of a portfolio by the rules a
person's request follows one site at a time (scan_requests._request_scan), answered for a batch of sites by one
query each instead of ten queries per site. At a million sites a day the per-site path was the first ceiling
(docs/capacity.md): the rules are the same, only the number of round trips changes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from scanner import config
from scanner.models import LimitEvent, Portfolio, Scan, Site
from scanner.services.limits import limit_record_each
from scanner.services.scan_dispatch import stale_reason
from scanner.services.scan_results import finish_failed, sites_attempted
from scanner.services.scan_targets import copy_scan, lock_targets, target_busy

# Sites planned in one transaction: their rows stay locked until it commits, so a person's request for one of them
# waits at most one batch.
FANOUT_BATCH = 500

Outcome = tuple[Site, Scan | None, str | None]
Target = tuple[str, int]


def plan_scheduled_rescans(
    portfolio: Portfolio, *, batch_size: int | None = None, batch_interval: int = 0
) -> list[Outcome]:
    """submit_portfolio_scans(scheduled=True), set-wise: every site's outcome (the scan that answers it, or the
    reason it has none), in the order of the site list; every new scan held for the release, the n-th site's
    released (n // batch_size) * batch_interval seconds from now."""
    now = timezone.now()
    site_ids = list(portfolio.sites.order_by("hostname", "https_port").values_list("pk", flat=True))
    outcomes: list[Outcome] = []
    for start in range(0, len(site_ids), FANOUT_BATCH):
        release_at = {
            site_id: now + timedelta(seconds=(start + n) // batch_size * batch_interval if batch_size else 0)
            for n, site_id in enumerate(site_ids[start : start + FANOUT_BATCH])
        }
        with transaction.atomic():
            outcomes += _plan_batch(portfolio, release_at)
    return outcomes


def _plan_batch(portfolio: Portfolio, release_at: dict[int, datetime]) -> list[Outcome]:
    # Locked in id order, as one statement: two planners sharing sites cannot deadlock, and a person's request for
    # one of them takes its turn as it does behind another request.
    locked = {site.pk: site for site in Site.objects.select_for_update().filter(pk__in=release_at).order_by("pk")}
    sites = [locked[site_id] for site_id in release_at if site_id in locked]  # a site deleted meanwhile: skipped
    answers: dict[int, Scan] = _recent_results(sites)
    answers.update(_healthy_active_scans([site for site in sites if site.pk not in answers]))
    outcomes: dict[int, Outcome] = {}
    unanswered = [site for site in sites if site.pk not in answers]
    for site, answer in _per_target_answers(unanswered).items():
        if isinstance(answer, str):
            outcomes[site.pk] = (site, None, answer)
        else:
            answers[site.pk] = answer
    new_scans = [
        Scan(
            site=site,
            portfolio=portfolio,
            status=Scan.Status.QUEUED,
            celery_task_id=str(uuid.uuid4()),
            release_at=release_at[site.pk],
        )
        for site in unanswered
        if site.pk not in answers and site.pk not in outcomes
    ]
    if new_scans:
        Scan.objects.bulk_create(new_scans)
        # The quota's ledger counts scheduled rescans too (they use up the quota), one row per scan as a request
        # writes it, though they are never refused by it.
        limit_record_each(LimitEvent.Kind.SCANS, [scan.site.owner_id for scan in new_scans])
        sites_attempted(new_scans)
        answers.update((scan.site_id, scan) for scan in new_scans)
    return [outcomes.get(site.pk) or (site, answers[site.pk], None) for site in sites]


def _recent_results(sites: list[Site]) -> dict[int, Scan]:
    """Per site, its own result recent enough to answer a rescan (SCANNER_RESCAN_MIN_INTERVAL)."""
    window = config.rescan_min_interval()
    if not window or not sites:
        return {}
    recent: dict[int, Scan] = {}
    for scan in (
        Scan.objects.filter(
            site__in=sites, status=Scan.Status.DONE, finished_at__gte=timezone.now() - timedelta(seconds=window)
        )
        .defer("result", "changes")
        .order_by("-finished_at")
    ):
        recent.setdefault(scan.site_id, scan)
    return recent


def _healthy_active_scans(sites: list[Site]) -> dict[int, Scan]:
    """Per site, its queued or running scan when that one will still finish on its own; a dead one is failed
    here (with the reason) so it never answers for the site, which then gets a new scan."""
    if not sites:
        return {}
    active_ids = (
        Site.objects.filter(pk__in=[site.pk for site in sites])
        .annotate(active=_active_scan_id())
        .values_list("active", flat=True)
    )
    healthy: dict[int, Scan] = {}
    for scan in (
        Scan.objects.select_for_update().filter(pk__in=[pk for pk in active_ids if pk]).defer("result", "changes")
    ):
        stale = stale_reason(scan)
        if stale is None:
            healthy[scan.site_id] = scan
        else:
            finish_failed(scan, stale)
    return healthy


def _active_scan_id() -> Subquery:
    """A site's latest queued or running scan, looked up per site. Asked for many sites at once as `site_id IN`,
    PostgreSQL may read every active scan through the status index instead (at the 03:00 peak its statistics
    count far fewer active rows than there are); one site at a time it always takes the site's own index."""
    return Subquery(
        Scan.objects.filter(site_id=OuterRef("pk"), status__in=Scan.ACTIVE_STATUSES)
        .order_by("-requested_at")
        .values("pk")[:1]
    )


def _per_target_answers(sites: list[Site]) -> dict[Site, Scan | str]:
    """The per-target limit (scan_targets.recent_scan_of_target) for a batch: a site whose target was attempted
    within SCANNER_TARGET_MIN_INTERVAL is answered by that attempt (copied when another account's); a site whose
    target is being scanned for another account gets the refusal's message. Sites left out get a new scan."""
    window = config.target_min_interval()
    if not window or not sites:
        return {}
    targets = sorted({(site.hostname, site.https_port) for site in sites})
    lock_targets(targets)  # the lock a single request takes on its target, for all of them in one statement
    since = timezone.now() - timedelta(seconds=window)
    # Every attempt counts, failed ones included; a scan that never started never reached the target.
    attempts = Scan.objects.filter(
        site_id=OuterRef("pk"),
        status__in=(Scan.Status.DONE, Scan.Status.FAILED),
        started_at__isnull=False,
        finished_at__gte=since,
    ).order_by("-finished_at")
    target_sites = (
        Site.objects.filter(hostname__in={host for host, _ in targets})
        .annotate(
            attempt=Subquery(attempts.values("pk")[:1]),
            attempt_at=Subquery(attempts.values("finished_at")[:1]),
            active=_active_scan_id(),
        )
        .values_list("pk", "hostname", "https_port", "attempt", "attempt_at", "active")
    )
    attempted: dict[Target, tuple[datetime, int, int]] = {}
    active_site: dict[int, int] = {}
    for site_id, host, port, attempt, attempt_at, active in target_sites:
        if attempt is not None and ((host, port) not in attempted or attempt_at > attempted[(host, port)][0]):
            attempted[(host, port)] = (attempt_at, attempt, site_id)
        if active is not None:
            active_site[active] = site_id
    busy: dict[Target, set[int]] = {}
    for scan in Scan.objects.filter(pk__in=active_site).select_related("site").defer("result", "changes"):
        if stale_reason(scan) is None:  # a stuck scan of someone else's must not block the target for good
            busy.setdefault((scan.site.hostname, scan.site.https_port), set()).add(scan.site_id)
    sources = Scan.objects.in_bulk([scan_id for _, scan_id, _ in attempted.values()])
    answers: dict[Site, Scan | str] = {}
    for site in sites:
        target = (site.hostname, site.https_port)
        if target in attempted:
            _, scan_id, owner_site = attempted[target]
            answers[site] = sources[scan_id] if owner_site == site.pk else copy_scan(sources[scan_id], site)
        elif busy.get(target, set()) - {site.pk}:
            answers[site] = target_busy(site).message
        else:
            busy.setdefault(target, set()).add(site.pk)  # its new scan now runs for the target
    return answers
