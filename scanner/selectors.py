"""Every read of sites, portfolios and scans, always scoped to one user: other users' rows do not exist here."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import CharField, Count, Exists, F, Func, OuterRef, Q, QuerySet, Subquery

from scanner.changes_made_here import changes_made_here
from scanner.compiled_queries import CompiledOnce
from scanner.grading.scale import grades_below
from scanner.models import (
    Alert,
    BulkOperation,
    Channel,
    ComplianceEvidence,
    Portfolio,
    Scan,
    Site,
    SitesVersion,
    SiteTag,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def site_list(
    *,
    user: User,
    grade: str | None = None,
    below: str | None = None,
    finding: str | None = None,
    tag: str | None = None,
    portfolio: int | None = None,
    q: str | None = None,
    fails: str | None = None,
) -> QuerySet[Site]:
    """The user's sites, filtered on their latest finished scan (the current state of each site)."""
    sites = Site.objects.filter(owner=user).select_related("latest_scan")
    # Site.grade is latest_scan's grade, kept on the site by scanner.services: no join to filter on it.
    if grade:
        sites = sites.filter(grade=grade)
    if below:
        sites = sites.filter(grade__in=grades_below(below))
    if finding:
        sites = sites.filter(latest_scan__findings__finding_id=finding).distinct()
    if tag:
        sites = sites.filter(tags__name=tag)
    if fails:
        sites = sites.filter(fails_profile(fails))
    if portfolio is not None:
        sites = sites.filter(portfolios__id=portfolio)  # another user's portfolio id matches none of user's sites
    if q:
        sites = sites.filter(Q(hostname__icontains=q.strip().lower()) | Q(tags__name__icontains=q.strip())).distinct()
    return sites


def fails_profile(profile: str) -> Q:
    """Sites whose latest scan fails this compliance profile. Scan.compliance_failing is " id1 id2 "
    (scanner.services.compliance), so " id " matches whole ids only."""
    return Q(latest_scan__compliance_failing__contains=f" {profile} ")


class _UtcText(Func):
    """A timestamp as ISO 8601 text in UTC written as DRF writes it (2026-05-04T03:02:01.120000Z, no fraction
    when it is zero: ".000000" can only be the fraction), formatted by PostgreSQL; NULL stays NULL."""

    template = (
        "replace(to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || 'Z'"
    )
    output_field = CharField()


def utc_text_key(field: str) -> str:
    """Where site_rows puts a datetime field it read as text."""
    return field.replace("__", "_") + "_utc"


def site_rows(sites: QuerySet[Site], fields: tuple[str, ...], *, as_text: tuple[str, ...] = ()) -> QuerySet[Site]:
    """A list of sites as plain rows of `fields` (the site's own and its latest and last scans' columns): no
    model instances, and no column read that is not shown.

    On PostgreSQL each row also carries its tags, sorted (`tag_names`, an array read in the same query; elsewhere
    tags_by_site reads them), and the datetime fields named in `as_text` come as ISO 8601 text in UTC
    (under utc_text_key(field)), as DRF would write them: formatted once by the database, never parsed."""
    if connection.vendor != "postgresql":
        return sites.values(*fields)
    from django.contrib.postgres.expressions import ArraySubquery

    names = SiteTag.objects.filter(site_id=OuterRef("pk")).order_by("name").values("name")
    texts = {utc_text_key(field): _UtcText(field) for field in as_text}
    return sites.values(*(field for field in fields if field not in as_text), **texts, tag_names=ArraySubquery(names))


def all_site_rows(*, user: User, fields: tuple[str, ...], as_text: tuple[str, ...] = ()) -> AllSiteRows:
    """site_rows of all the user's sites (the unfiltered list), read by queries compiled once per layout."""
    queries = _ALL_SITE_ROWS.get((fields, as_text))
    if queries is None:
        queries = _ALL_SITE_ROWS[fields, as_text] = _AllSiteRowsQueries(fields, as_text)
    return AllSiteRows(user.pk, queries)


class _AllSiteRowsQueries:
    """The list's rows and its count for one layout, each compiled once (scanner/compiled_queries.py): only the
    owner and the page change between requests, and building and compiling both took about half the CPU of a
    page of 50."""

    def __init__(self, fields: tuple[str, ...], as_text: tuple[str, ...]) -> None:
        self.rows = CompiledOnce(lambda owner_id: site_rows(_sites_of(owner_id), fields, as_text=as_text))
        # The count reads the sites alone, not the rows' joins and tag arrays.
        self.count = CompiledOnce(lambda owner_id: _sites_of(owner_id).order_by().values("pk"))


def _sites_of(owner_id: int) -> QuerySet[Site]:
    from django.contrib.auth import get_user_model

    return site_list(user=get_user_model()(pk=owner_id))


_ALL_SITE_ROWS: dict[tuple, _AllSiteRowsQueries] = {}


class AllSiteRows:
    """All of one user's sites as site_rows gives them, for Django's Paginator (count() and a slice per page)."""

    def __init__(self, owner_id: int, queries: _AllSiteRowsQueries) -> None:
        self._owner, self._queries = owner_id, queries

    def count(self) -> int:
        return self._queries.count.count(self._owner)

    def __getitem__(self, page: slice) -> list[dict]:
        offset, stop = page.start or 0, page.stop
        return self._queries.rows.rows(self._owner, limit=stop - offset, offset=offset)


def site_get(*, user: User, site_id: int) -> Site | None:
    return site_list(user=user).filter(pk=site_id).first()


def scan_list(*, user: User, site: Site | None = None, status: str | None = None) -> QuerySet[Scan]:
    scans = Scan.objects.filter(site__owner=user).select_related("site")
    if site is not None:
        scans = scans.filter(site=site)
    if status:
        scans = scans.filter(status=status)
    return scans


def scan_get(*, user: User, scan_id: int) -> Scan | None:
    return scan_list(user=user).prefetch_related("findings").filter(pk=scan_id).first()


@dataclass(frozen=True)
class StoredScanDocument:
    """What serving a scan's stored document needs: the scan's status and portfolio now, and the stored
    document (None when there is none) with the version and portfolio it was rendered with."""

    status: str
    portfolio_id: int | None
    version: str | None
    rendered_portfolio_id: int | None
    body: bytes | None


def scan_document_get(*, user: User, scan_id: int) -> StoredScanDocument | None:
    """One of the user's scans with its stored API document, in one query; None when the user has no such scan."""
    row = (
        Scan.objects.filter(pk=scan_id, site__owner=user)
        .values_list("status", "portfolio_id", "document__version", "document__scan_portfolio_id", "document__body")
        .first()
    )
    if row is None:
        return None
    status, portfolio_id, version, rendered_portfolio_id, body = row
    return StoredScanDocument(
        status, portfolio_id, version, rendered_portfolio_id, bytes(body) if body is not None else None
    )


def portfolio_list(*, user: User) -> QuerySet[Portfolio]:
    return Portfolio.objects.filter(owner=user).prefetch_related("sites")


def portfolio_summaries(*, user: User) -> QuerySet[Portfolio]:
    """The user's portfolios with their size, without loading their sites (a portfolio may hold 10,000)."""
    return (
        Portfolio.objects.filter(owner=user).annotate(site_count=Count("sites", distinct=True)).order_by("name", "pk")
    )


def portfolio_get(*, user: User, portfolio_id: int) -> Portfolio | None:
    """One portfolio, without loading its sites: every page of a portfolio would otherwise build all 10,000."""
    return Portfolio.objects.filter(owner=user, pk=portfolio_id).first()


def site_for_host(*, user: User, hostname: str, https_port: int) -> Site | None:
    return Site.objects.filter(owner=user, hostname=hostname, https_port=https_port).first()


def alert_list(
    *, user: User, status: str | None = None, open_only: bool = False, site: Site | None = None
) -> QuerySet[Alert]:
    alerts = Alert.objects.filter(site__owner=user).select_related("site").prefetch_related("deliveries")
    if status:
        alerts = alerts.filter(status=status)
    if open_only:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    if site is not None:
        alerts = alerts.filter(site=site)
    return alerts


def alert_get(*, user: User, alert_id: int) -> Alert | None:
    return alert_list(user=user).filter(pk=alert_id).first()


def channel_list(*, user: User) -> QuerySet[Channel]:
    return Channel.objects.filter(owner=user)


def channel_get(*, user: User, channel_id: int) -> Channel | None:
    return channel_list(user=user).filter(pk=channel_id).first()


def account_email_channel(*, user: User) -> Channel | None:
    return channel_list(user=user).filter(is_account_email=True).first()


def tag_names(*, user: User) -> list[str]:
    return list(SiteTag.objects.filter(site__owner=user).order_by("name").values_list("name", flat=True).distinct())


_SHARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,128}")  # secrets.token_urlsafe's alphabet


def site_for_share_token(*, token: str) -> Site | None:
    """The site an owner shared with this token (anyone may read it); None for empty, wrong or revoked tokens."""
    if not token or not _SHARE_TOKEN.fullmatch(token):  # e.g. a NUL byte, which PostgreSQL refuses to compare
        return None
    return Site.objects.select_related("latest_scan").filter(share_token=token).first()


def portfolio_names(*, user: User) -> list[tuple[int, str]]:
    """(id, name) of the user's portfolios, for choosing one: one query, no sites loaded."""
    return list(Portfolio.objects.filter(owner=user).order_by("name").values_list("pk", "name"))


# By SQL compiled once: the ORM's building and compiling took longer than the database takes to answer.
_SITES_VERSION = CompiledOnce(lambda owner_id: SitesVersion.objects.filter(owner_id=owner_id).values("version"))


def sites_version(*, owner_id: int) -> tuple[uuid.UUID | None, int]:
    """The version of an owner's sites as this process sees it: the committed one (scanner.services.sites_changed;
    None before their first change), and how many changes this process has made to them itself."""
    rows = _SITES_VERSION.rows(owner_id)
    return (rows[0]["version"] if rows else None), changes_made_here(owner_id)


def tags_by_site(*, user: User, site_ids: list[int]) -> dict[int, list[str]]:
    """The tags of a page of sites in one query (always one: a page with no rows costs the same)."""
    tags: dict[int, list[str]] = {}
    rows = SiteTag.objects.filter(site__owner=user, site_id__in=site_ids or [0]).order_by("name")
    for site_id, name in rows.values_list("site_id", "name"):
        tags.setdefault(site_id, []).append(name)
    return tags


def bulk_operation_get(portfolio: Portfolio, operation_id: int) -> BulkOperation | None:
    """One of the portfolio's bulk operations (the portfolio was already looked up for its user), else None."""
    return BulkOperation.objects.filter(portfolio=portfolio, pk=operation_id).defer("text").first()


def _page_state_query(user_id: int, portfolio_id: int) -> QuerySet:
    # The members by this portfolio's id, not joined to the outer query: PostgreSQL then plans for this
    # portfolio's size rather than the average one's, which had it probe the active-scan index once per site
    # of a big portfolio (10 ms at 10,000 sites, tests/test_dashboard_query_plans.py).
    members = Portfolio.sites.through.objects.filter(portfolio_id=portfolio_id).values("site_id")
    active = (
        Scan.objects.filter(site__owner=user_id, site_id__in=members, status__in=Scan.ACTIVE_STATUSES)
        .order_by()
        .annotate(number=Func(F("pk"), function="COUNT"))
        .values("number")
    )
    operations = BulkOperation.objects.filter(portfolio=OuterRef("pk"), state__in=BulkOperation.ACTIVE_STATES)
    reports = ComplianceEvidence.objects.filter(portfolio=OuterRef("pk"))
    return Portfolio.objects.filter(
        pk=portfolio_id
    ).values(
        active_scans=Subquery(active),
        has_channels=Exists(channel_list(user=user_id)),
        operation_id=Subquery(operations.values("pk")[:1]),  # in their Meta order: newest first
        evidence_id=Subquery(reports.values("pk")[:1]),
    )


# Building and compiling its four subqueries cost about 1.3 ms of CPU a page, running it 0.1.
_PAGE_STATE = CompiledOnce(_page_state_query)


@dataclass(frozen=True)
class PortfolioPageState:
    """What the portfolio page shows besides its sites, from other tables (portfolio_page_state)."""

    active_scans: int  # the portfolio's scans queued or running
    has_channels: bool  # whether the user has any alert channel
    chosen_channel_ids: list[int]  # the channels the portfolio's alerts go to when not to all
    bulk_operation: BulkOperation | None  # the newest one still queued or running
    evidence: ComplianceEvidence | None  # the newest worker-built compliance report, without its bytes


def portfolio_page_state(*, user: User, portfolio: Portfolio) -> PortfolioPageState:
    """The portfolio page's active scans, channels, bulk operation and compliance report in one query (four
    before, each a round trip), and one more for each of the last three the page has: its chosen channels, its
    running bulk operation, its newest report."""
    (state,) = _PAGE_STATE.rows(user.pk, portfolio.pk)
    operation = None
    if state["operation_id"] is not None:  # still active when read: it may have ended since
        operation = (
            BulkOperation.objects.filter(
                pk=state["operation_id"], portfolio=portfolio, state__in=BulkOperation.ACTIVE_STATES
            )
            .defer("text", "errors")
            .first()
        )
    evidence = None
    if state["evidence_id"] is not None:
        evidence = (
            ComplianceEvidence.objects.filter(pk=state["evidence_id"], portfolio=portfolio).defer("content").first()
        )
    return PortfolioPageState(
        active_scans=state["active_scans"],
        has_channels=state["has_channels"],
        chosen_channel_ids=list(portfolio.channels.values_list("pk", flat=True)) if state["has_channels"] else [],
        bulk_operation=operation,
        evidence=evidence,
    )
