"""The numbers above a site list: how many sites are failing, unreachable, expiring, never scanned, and the grade
mix, counted in one grouped pass over the user's or the portfolio's sites (triage_counts), which a web process
keeps while nothing it counts has changed (kept_counts); and the page's count of matching sites summed from the
same groups where the filters allow (count_from_triage)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from scanner import selectors
from scanner.compiled_queries import CompiledOnce
from scanner.grading.scale import GRADE_ORDER, UNREACHABLE_RANK

from . import charts
from .kept_counts import MAX_AGE, KeptCounts
from .queries import EXPIRED, EXPIRY_WINDOWS, FAILING_RANK, NOT_GRADED, expiry_cutoff, failing_kind
from .report_view import grade_css

# The same filters as triage-rank ranges [low, high) (high None: no upper bound), for count_from_triage.
_RANK_RANGES = {
    "on": (FAILING_RANK, None),
    "graded": (FAILING_RANK, UNREACHABLE_RANK),
    "unreachable": (UNREACHABLE_RANK, None),
}


def count_from_triage(
    counts: dict,
    *,
    grade: str = "",
    failing: bool | str = False,
    expiring_within: int | None = None,
    tag: str = "",
    search: str = "",
    fails: str = "",
    **scope,
) -> int | None:
    """How many of the sites triage_counts grouped (the caller's `scope`: same user, same portfolio) pass the
    grade, failing and expiry filters, summed from its groups; None when a filter it did not group by applies
    (tag, search, profile) or the expiry window is not one of its own."""
    if tag or search or fails or (expiring_within is not None and expiring_within not in EXPIRY_WINDOWS):
        return None
    low, high = _RANK_RANGES[failing_kind(failing)] if failing else (0, None)
    total = 0
    for rank, site_grade, window, _, _, number in counts["groups"]:
        if grade and site_grade != ("" if grade == NOT_GRADED else grade):
            continue
        if failing and not (rank >= low and (high is None or rank < high)):
            continue
        if expiring_within is not None and (window is None or window > expiring_within):
            continue
        total += number
    return total


def _triage_groups(owner_id: int, portfolio_id: int | None, now, cutoffs, *, by_failing: bool = False) -> QuerySet:
    """triage_counts' groups: sites counted per triage rank, grade, never scanned, ever evaluated and expiry
    window (EXPIRED, or the first of EXPIRY_WINDOWS whose cutoff, in `cutoffs`, is after the expiry); and
    `by_failing`, per failing compliance profiles too (a portfolio's counts per chosen profile and its standing
    come from them: standing)."""
    # Only Site's own columns: the annotations' joins would make the database read every site's scans too.
    sites = selectors.site_list(user=owner_id)
    if portfolio_id is not None:
        sites = sites.filter(portfolios=portfolio_id)
    window = Case(
        When(cert_not_after__lt=now, then=Value(EXPIRED)),
        *(When(cert_not_after__lt=cutoff, then=Value(days)) for days, cutoff in zip(sorted(EXPIRY_WINDOWS), cutoffs)),
        default=None,
        output_field=IntegerField(),
    )
    # Split only where compliance counts are shown: the split multiplies the groups several times.
    failing = F("compliance_failing") if by_failing else Value("")
    return (
        sites.order_by()
        .values("triage_rank", "grade")
        .annotate(
            never=ExpressionWrapper(Q(last_scan__isnull=True), output_field=BooleanField()),
            evaluated=ExpressionWrapper(Q(latest_scan__isnull=False), output_field=BooleanField()),
            window=window,
            failing=ExpressionWrapper(failing, output_field=CharField()),
        )
        .values("triage_rank", "grade", "never", "evaluated", "window", "failing")
        # first_expiry: when the group's first site moves into the next window (windows_change).
        .annotate(sites=Count("pk"), first_expiry=Min("cert_not_after"))
    )


def windows_change(groups: list[dict], now) -> datetime:
    """The first moment after `now` at which a site of triage_counts' `groups` (counted at `now`) is in another
    expiry window than it was counted in: the next of EXPIRY_WINDOWS down, or EXPIRED after the last."""
    change = datetime.max.replace(tzinfo=UTC)
    for group in groups:
        window, first_expiry = group["window"], group["first_expiry"]
        if window == EXPIRED or first_expiry is None:
            continue
        narrower = [days for days in EXPIRY_WINDOWS if window is None or days < window]
        # A certificate is in the window of `days` once now + days + 1 is after its expiry (expiry_cutoff).
        change = min(change, first_expiry - timedelta(days=max(narrower) + 1) if narrower else first_expiry)
    return max(change, now)


# Compiled once (scanner.compiled_queries): building and compiling the grouped pass cost about 1 ms of CPU a
# page, more than the database takes for the portfolio page's 100 sites.
_USER_TRIAGE = CompiledOnce(lambda owner_id, now, *cutoffs: _triage_groups(owner_id, None, now, cutoffs))
_PORTFOLIO_TRIAGE = CompiledOnce(
    lambda owner_id, portfolio_id, now, *cutoffs: _triage_groups(owner_id, portfolio_id, now, cutoffs)
)
_PORTFOLIO_TRIAGE_BY_FAILING = CompiledOnce(
    lambda owner_id, portfolio_id, now, *cutoffs: _triage_groups(owner_id, portfolio_id, now, cutoffs, by_failing=True)
)


# Each user's and portfolio's groups, kept while nothing they count has changed (kept_counts); and the days a
# portfolio's history replays (kept_for_sites).
KEPT_COUNTS = KeptCounts()


# Each owner's version as a page first read it, inside one_version_per_page; None outside.
_PAGE_VERSIONS: ContextVar[dict[int, object] | None] = ContextVar("page_versions", default=None)


def one_version_per_page(view: Callable) -> Callable:
    """Has a page that only reads (the portfolio page: its triage counts, the days its history replays) read
    the version of the owner's sites once, not once per kept count. Reading it once, before the first count,
    is still reading it before counting: what the page counts after a change that commits meanwhile is kept
    under the older version, and counted again next time. Not for a view that changes sites after its first
    count: its later counts would not see the change."""

    @functools.wraps(view)
    def reading_once(*args, **kwargs):
        token = _PAGE_VERSIONS.set({})
        try:
            return view(*args, **kwargs)
        finally:
            _PAGE_VERSIONS.reset(token)

    return reading_once


def _sites_version(owner_id: int) -> object:
    page = _PAGE_VERSIONS.get()
    if page is None:
        return selectors.sites_version(owner_id=owner_id)
    if owner_id not in page:
        page[owner_id] = selectors.sites_version(owner_id=owner_id)
    return page[owner_id]


def kept_for_sites(owner_id: int, scope: tuple, count: Callable[[], object]):
    """`count()`, numbers over the owner's sites in `scope` that depend on their state alone (not on the time),
    kept like the triage counts while the owner's sites keep their version."""
    now = timezone.now()
    version = _sites_version(owner_id)  # before counting: see kept_counts
    return KEPT_COUNTS.get((owner_id, *scope), version=version, now=now, count=lambda: (count(), now + MAX_AGE))


def triage_counts(*, user, portfolio=None, recount: bool = False) -> dict:
    """The numbers an agency starts its day with: failing, expiring within 30/14/7 days, unreachable, and the
    grade mix (grade_distribution(counts=...)).

    One pass over the sites grouped by what the numbers depend on (triage rank, grade, never scanned, ever
    evaluated, which expiry window; in a portfolio with compliance profiles chosen, which profiles failed),
    summed here: a few dozen groups instead of twenty filtered counts over every site. The groups are kept
    (`groups`: rank, grade, window, evaluated, failing profiles, sites) so that the page's count of matching sites
    (count_from_triage) and a portfolio's standing today and counts per compliance profile (standing) need no
    pass of their own. A web process keeps the groups while the user's sites are unchanged and no certificate
    has moved into another expiry window (kept_counts); `recount` counts them again all the same."""
    now = timezone.now()
    version = _sites_version(user.pk)  # before counting: see kept_counts
    by_failing = portfolio is not None and bool(portfolio.compliance_profiles)

    def counted() -> tuple[list[dict], datetime]:
        cutoffs = [expiry_cutoff(days) for days in sorted(EXPIRY_WINDOWS)]
        if portfolio is None:
            groups = _USER_TRIAGE.rows(user.pk, now, *cutoffs)
        else:
            grouped = _PORTFOLIO_TRIAGE_BY_FAILING if by_failing else _PORTFOLIO_TRIAGE
            groups = grouped.rows(user.pk, portfolio.pk, now, *cutoffs)
        return groups, windows_change(groups, now)

    scope = (user.pk, None if portfolio is None else portfolio.pk, by_failing)
    groups = KEPT_COUNTS.get(scope, version=version, now=now, count=counted, recount=recount)
    counts = dict.fromkeys(("total", "failing", "graded_failing", "unreachable", "never_scanned", "expired"), 0)
    counts |= {f"expiring_{days}": 0 for days in EXPIRY_WINDOWS}
    grades = dict.fromkeys(GRADE_ORDER, 0)
    counts["groups"] = []
    counts["by_failing"] = by_failing
    for group in groups:
        rank, grade, window_days, number = group["triage_rank"], group["grade"], group["window"], group["sites"]
        counts["total"] += number
        counts["failing"] += number if rank >= FAILING_RANK else 0
        counts["graded_failing"] += number if FAILING_RANK <= rank < UNREACHABLE_RANK else 0
        counts["unreachable"] += number if rank >= UNREACHABLE_RANK else 0
        counts["never_scanned"] += number if group["never"] else 0
        counts["expired"] += number if window_days == EXPIRED else 0
        for days in EXPIRY_WINDOWS:
            counts[f"expiring_{days}"] += number if window_days is not None and 0 < window_days <= days else 0
        if grade in grades:
            grades[grade] += number
        counts["groups"].append((rank, grade, window_days, group["evaluated"], group["failing"], number))
    counts["expiring"] = [(days, counts[f"expiring_{days}"]) for days in EXPIRY_WINDOWS]
    counts["grades"] = grades
    return counts


def standing(counts: dict, profiles: list[str]) -> list[dict]:
    """Where a portfolio's sites with a done scan (Site.latest_scan) stand now, from its triage_counts' groups:
    per grade, how many sites hold it and how many of them fail each of `profiles` ({"grade", "sites",
    profile: failing, ...}), as history_selectors.portfolio_standing_now counts them over the scans. The
    profiles' counts need groups split by the profiles failed: a portfolio's with profiles chosen."""
    if profiles and not counts["by_failing"]:
        raise ValueError("these triage counts were not split by the compliance profiles failed")
    by_grade: dict[str, dict] = {}
    for _, grade, _, evaluated, failing, number in counts["groups"]:
        if not evaluated:
            continue
        row = by_grade.setdefault(grade, {"grade": grade, "sites": 0} | dict.fromkeys(profiles, 0))
        row["sites"] += number
        for profile in profiles:
            if f" {profile} " in failing:  # stored as " id1 id2 ": whole ids only
                row[profile] += number
    return list(by_grade.values())


def grade_distribution(*, user, portfolio=None, counts: dict | None = None) -> list[dict]:
    """How many sites hold each grade now, in GRADE_ORDER, plus the never-graded ones (filter value "none").
    Read from triage_counts' `counts` when given, else counted here."""
    if counts is not None:
        graded = counts["grades"]
        ungraded = counts["total"] - sum(graded.values())
    else:
        sites = selectors.site_list(user=user)
        if portfolio is not None:
            sites = sites.filter(portfolios=portfolio)
        by_grade = sites.order_by().values_list("grade").annotate(count=Count("pk")).values_list("grade", "count")
        graded = dict(by_grade)
        ungraded = sum(count for grade, count in graded.items() if grade not in GRADE_ORDER)
    rows = [{"grade": grade, "count": graded.get(grade, 0)} for grade in GRADE_ORDER if graded.get(grade)]
    if ungraded:
        rows.append({"grade": "", "count": ungraded})
    largest = max((row["count"] for row in rows), default=0)
    total = sum(row["count"] for row in rows)
    for row in rows:
        row["css"] = grade_css(row["grade"])
        row["filter"] = row["grade"] or NOT_GRADED
        row["percent"] = round(100 * row["count"] / largest) if largest else 0
        row["share"] = round(100 * row["count"] / total, 1) if total else 0
        row["bar"] = charts.bar(row["percent"], row["css"], f"{row['grade'] or 'Not graded'}: {row['count']}")
    return rows
