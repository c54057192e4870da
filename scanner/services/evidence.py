"""Writes for a portfolio's compliance report built by a worker: asking for it, its progress, its file.

A portfolio above SCANNER_EVIDENCE_INLINE_LIMIT sites gets its PDF from a worker (scanner.tasks
.build_compliance_evidence) instead of inside a web request: evaluating every site's stored report and
laying out thousands of lines takes longer than a request should hold a web worker.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from scanner import config
from scanner.models import ComplianceEvidence, Portfolio, Site
from scanner.queueing import BUILD_COMPLIANCE_EVIDENCE, send_task

logger = logging.getLogger(__name__)

# Progress stops short of 100 while the evaluated sites are laid out as PDF; 100 means the file is stored.
EVALUATED_PERCENT = 90


def evidence_is_built_by_worker(portfolio: Portfolio, *, site_count: int | None = None) -> bool:
    if site_count is None:
        site_count = Site.objects.filter(owner=portfolio.owner, portfolios=portfolio).count()
    return site_count > config.evidence_inline_limit()


def evidence_abandoned(evidence: ComplianceEvidence, now: datetime | None = None) -> bool:
    """An active report older than a worker may take on it: its message or worker was lost."""
    now = now or timezone.now()
    return evidence.is_active and now - evidence.created_at > timedelta(seconds=config.rescan_task_time_limit() + 60)


def evidence_request(portfolio: Portfolio) -> ComplianceEvidence:
    """The portfolio's report being built, or a new one queued: asking twice never builds twice at once."""
    now = timezone.now()
    with transaction.atomic():
        # Locking the portfolio row serialises concurrent requests, so two clicks queue one report.
        Portfolio.objects.select_for_update().filter(pk=portfolio.pk).first()
        active = ComplianceEvidence.objects.filter(
            portfolio=portfolio, status__in=ComplianceEvidence.ACTIVE_STATUSES
        ).first()
        if active is not None and not evidence_abandoned(active, now):
            return active
        if active is not None:
            evidence_failed(active.pk, "The report was not finished in time (its worker stopped); it was asked again.")
        evidence = ComplianceEvidence.objects.create(
            portfolio=portfolio,
            sites_total=Site.objects.filter(owner=portfolio.owner, portfolios=portfolio).count(),
        )
        # After commit, so the worker never looks for a row it cannot see yet.
        transaction.on_commit(lambda: _send(evidence.pk))
    return evidence


def _send(evidence_id: int) -> None:
    try:
        send_task(BUILD_COMPLIANCE_EVIDENCE, args=[evidence_id], queue=config.rescan_queue_name())
    except Exception as exc:  # broker down: say so on the row instead of leaving it queued forever
        logger.exception("could not queue compliance evidence %s", evidence_id)
        evidence_failed(evidence_id, f"The report could not be queued (is the Redis broker running?): {exc}")


def evidence_progress(evidence_id: int, *, sites_done: int, sites_total: int) -> None:
    percent = EVALUATED_PERCENT * sites_done // sites_total if sites_total else EVALUATED_PERCENT
    ComplianceEvidence.objects.filter(pk=evidence_id).update(
        sites_done=sites_done, sites_total=max(sites_total, sites_done), progress=min(percent, EVALUATED_PERCENT)
    )


def evidence_failed(evidence_id: int, reason: str) -> None:
    ComplianceEvidence.objects.filter(pk=evidence_id).update(
        status=ComplianceEvidence.Status.FAILED, error=reason, finished_at=timezone.now()
    )


def evidence_build(evidence_id: int) -> ComplianceEvidence | None:
    """Build and store the PDF (the worker's job). A portfolio keeps only its newest finished report."""
    claimed = ComplianceEvidence.objects.filter(pk=evidence_id, status__in=ComplianceEvidence.ACTIVE_STATUSES).update(
        status=ComplianceEvidence.Status.RUNNING, progress=0, sites_done=0
    )
    if not claimed:
        return None  # deleted, or already finished by an earlier delivery of the same message
    evidence = ComplianceEvidence.objects.select_related("portfolio").get(pk=evidence_id)
    portfolio = evidence.portfolio
    total = Site.objects.filter(owner=portfolio.owner, portfolios=portfolio).count()
    evidence_progress(evidence_id, sites_done=0, sites_total=total)
    try:
        from scanner.compliance_pdf import portfolio_pdf  # fpdf: a tenth of a second, for PDF builds only

        content = portfolio_pdf(
            portfolio, progress=lambda done: evidence_progress(evidence_id, sites_done=done, sites_total=total)
        )
    except Exception as exc:
        evidence_failed(evidence_id, f"The report could not be built: {exc}")
        raise
    with transaction.atomic():
        ComplianceEvidence.objects.filter(pk=evidence_id).update(
            status=ComplianceEvidence.Status.DONE,
            progress=100,
            sites_done=total,
            content=content,
            finished_at=timezone.now(),
        )
        ComplianceEvidence.objects.filter(portfolio=portfolio).exclude(pk=evidence_id).exclude(
            status__in=ComplianceEvidence.ACTIVE_STATUSES
        ).filter(created_at__lt=evidence.created_at).delete()
    return ComplianceEvidence.objects.get(pk=evidence_id)
