"""Overview and portfolio queries built on scanner.selectors (which scope everything to one user).

A site's *state* for triage: its grade (from the last scan that produced a result) and its last attempt
(which may have failed since). A site whose last attempt failed is "unreachable" and counts as failing,
so dead sites are never hidden by a "failing only" filter nor sorted below working ones.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone
from django.utils.functional import cached_property

from scanner import selectors
from scanner.compiled_queries import CompiledOnce
from scanner.grading.scale import UNREACHABLE_RANK, grades_below, triage_rank
from scanner.models import Finding, Site

# Grades below E: the site is broken or untrusted, which is what "failing" means on the overview.
FAILING_ABOVE = "E"
FAILING_GRADES = grades_below(FAILING_ABOVE)
NOT_GRADED = "none"  # the grade filter's value for sites without a grade yet
EXPIRY_WINDOWS = (30, 14, 7)
EXPIRED = -1  # triage_counts' expiry window of a certificate already expired
# The filters read Site.triage_rank (kept by scanner.services), not the last scan's row, so each is a range of
# the index the worst-first sort walks. Failing grades are the last of GRADE_ORDER, so the worst ranks.
FAILING_RANK = triage_rank(FAILING_GRADES[0], unreachable=False)
# A site whose last attempt failed is failing whatever grade it last had.
UNREACHABLE = Q(triage_rank__gte=UNREACHABLE_RANK)
FAILING = Q(triage_rank__gte=FAILING_RANK)
# Reachable, but graded F/T/M: a problem of configuration, not of reachability (FAILING = this | UNREACHABLE).
GRADED_FAILING = Q(triage_rank__gte=FAILING_RANK, triage_rank__lt=UNREACHABLE_RANK)
# The `failing` filter's values: "on" (or True) is either kind of trouble, as before the split.
FAILING_FILTERS = {"on": FAILING, "graded": GRADED_FAILING, "unreachable": UNREACHABLE}


def failing_kind(failing: bool | str) -> str:
    """The `failing` filter's value as one of FAILING_FILTERS' keys: "" when off, "on" for True or a value it
    does not know."""
    if not failing:
        return ""
    kind = "on" if failing is True else str(failing)
    return kind if kind in FAILING_FILTERS else "on"


# Each ORDER BY is the column order of one of Site's indexes (scanner.models), so a page is read off an index.
SORTS = {
    "site": (F("hostname").asc(), F("https_port").asc()),
    # Worst first: unreachable sites (worst last grade first), then the grades from M up to A+, then sites never
    # graded; triage_rank holds that whole order.
    "grade": (F("triage_rank").desc(), F("hostname").asc()),
    "expiry": (F("cert_not_after").asc(nulls_last=True), F("hostname").asc()),
    "scanned": (F("last_scan_at").desc(nulls_last=True), F("hostname").asc()),
}
# Triage starts from the worst site, so that is the order of a list nobody sorted.
DEFAULT_SORT = "grade"


# What a row of the overview or the portfolio matrix shows (report_view.overview_row, matrix, compliance cells);
# a field left out here would be read by one more query per row.
ROW_FIELDS = (
    "hostname",
    "https_port",
    "grade",
    "triage_rank",
    "cert_not_after",
    "last_scan_at",
    "latest_scan__security_grade",
    "latest_scan__seo_score",
    "latest_scan__compliance_failing",
    "last_scan__status",
    "last_scan__error",
)


# The portfolio matrix's page as plain rows (matrix_page_rows): ROW_FIELDS, the ids and what with_checks and
# overview_sites annotate.
MATRIX_ROW_FIELDS = (
    "id",
    *ROW_FIELDS,
    "latest_scan_id",
    "last_scan_id",
    "mixed_checked",
    "web_checked",
    "web_security_grade",
)


def expiry_cutoff(days: int):
    """The latest expiry that reads "in `days` days" or less: days are whole days truncated, so a certificate
    with 9 days 23 hours left reads 9 and belongs to "within 9 days"."""
    return timezone.now() + timedelta(days=days + 1)


def annotated_sites(*, user, portfolio=None) -> QuerySet[Site]:
    """The user's sites with their latest result and latest attempt joined in (Site's current-state columns,
    kept by scanner.services), and the two flags the dashboard derives from them."""
    sites = selectors.site_list(user=user).select_related("last_scan")
    if portfolio is not None:
        sites = sites.filter(portfolios=portfolio)
    return with_checks(sites.annotate(dead=ExpressionWrapper(UNREACHABLE, output_field=BooleanField())))


def with_checks(sites: QuerySet[Site]) -> QuerySet[Site]:
    """Whether each site's latest scan checked its page for mixed content and its headers and cookies (the
    portfolio matrix's cells), from the scan's list facts (scanner.list_facts), not its report."""
    return sites.annotate(
        mixed_checked=ExpressionWrapper(Q(latest_scan__list_facts__mixed_checked=True), output_field=BooleanField()),
        web_checked=ExpressionWrapper(Q(latest_scan__list_facts__web_checked=True), output_field=BooleanField()),
    )


def matching_sites(
    *,
    user,
    grade: str = "",
    failing: bool | str = False,
    expiring_within: int | None = None,
    portfolio=None,
    tag: str = "",
    search: str = "",
    fails: str = "",
) -> QuerySet[Site]:
    """The user's sites that pass the overview's filters, on Site's own columns (and the joins a filter needs):
    what the number of matching sites counts, without the page's joins and annotations."""
    sites = selectors.site_list(user=user)
    if portfolio is not None:
        sites = sites.filter(portfolios=portfolio)
    if fails:
        sites = sites.filter(selectors.fails_profile(fails))
    if grade == NOT_GRADED:
        sites = sites.filter(grade="")
    elif grade:
        sites = sites.filter(grade=grade)
    if failing:
        sites = sites.filter(FAILING_FILTERS[failing_kind(failing)])
    if tag:
        sites = sites.filter(tags__name=tag)
    if search:
        sites = sites.filter(Q(hostname__icontains=search.strip().lower()) | Q(tags__name__icontains=search.strip()))
    if expiring_within is not None:
        sites = sites.filter(cert_not_after__lt=expiry_cutoff(expiring_within))
    # A search or tag filter can match one site twice (two tags); distinct keeps one row per site.
    if tag or search:
        sites = sites.distinct()
    return sites


def overview_sites(*, sort: str = "", checks: bool = False, issues: bool = False, **filters) -> QuerySet[Site]:
    """A page's sites (matching_sites' filters) in the chosen order, each with its latest result and latest
    attempt joined in; `checks` adds what the portfolio matrix shows of the latest report, `issues` its
    top issue (scanner.list_facts), in the page's query rather than one more."""
    sites = matching_sites(**filters).select_related("last_scan")
    if checks:
        sites = with_checks(sites)
    if issues:
        sites = sites.annotate(listed_top_issue=KeyTransform("top_issue", "latest_scan__list_facts"))
    # A page of rows needs a few columns of each site and scan, never the stored report documents (a TOASTed
    # 10-15 KB each): what it shows of them comes from the scan's list facts.
    sites = sites.only(*ROW_FIELDS)
    sites = sites.annotate(web_security_grade=KeyTextTransform("web_grade", "latest_scan__list_facts"))
    return sites.order_by(*SORTS.get(sort or DEFAULT_SORT, SORTS[DEFAULT_SORT]))


def matrix_page_rows(sites: QuerySet[Site]) -> QuerySet:
    """overview_sites(checks=True) as plain rows of MATRIX_ROW_FIELDS (selectors.site_rows: with each site's
    tags on PostgreSQL, and its latest scan's findings as `latest_findings`): a page of 100 model instances with
    their two scans joined in cost twice as much CPU as the same rows as dicts, and the tags and findings come
    in the page's query instead of two more."""
    if connection.vendor != "postgresql":
        return selectors.site_rows(sites, MATRIX_ROW_FIELDS)
    from django.contrib.postgres.expressions import ArraySubquery
    from django.contrib.postgres.fields import ArrayField

    # The findings of each site's latest scan (matrix.matrix_cells' checks) in the page's query too, each as
    # [finding id, severity, title]: text arrays the driver decodes itself (JSON objects cost a parse each).
    triple = Func(
        "finding_id", "severity", "title", template="ARRAY[%(expressions)s]", output_field=ArrayField(CharField())
    )
    findings = Finding.objects.filter(scan=OuterRef("latest_scan_id")).order_by("id").values(finding=triple)
    return selectors.site_rows(
        sites.annotate(latest_findings=ArraySubquery(findings)), (*MATRIX_ROW_FIELDS, "latest_findings")
    )


def _matrix(
    owner_id: int, portfolio_id: int, *words_and_times, sort: str, failing: str, by_grade: bool, by_expiry: bool
) -> QuerySet:
    sites = overview_sites(user=owner_id, portfolio=portfolio_id, sort=sort, checks=True, failing=failing or False)
    values = iter(words_and_times)
    if by_grade:
        sites = sites.filter(grade=next(values))
    if by_expiry:
        sites = sites.filter(cert_not_after__lt=next(values))
    return matrix_page_rows(sites)


# The portfolio page's rows in each sort and choice of the filters the triage counts (grade, failing, expiry):
# one query compiled once per shape, when first asked for.
_MATRIX_PAGES: dict[tuple[str, str, bool, bool], CompiledOnce] = {}


class MatrixPage:
    """A portfolio's sites in one of SORTS, filtered by grade, failing and expiry or not at all, as
    matrix_page_rows gives them, for SitePaginator (which slices it; its count comes from the triage pass): by
    SQL compiled once per sort and choice of filters, since building and compiling the page's query (its
    joins, checks, tags and findings) cost 2-4 ms of CPU a page. Tag, search and profile filters build theirs
    per request (overview_sites)."""

    def __init__(
        self, *, user, portfolio, sort: str = "", grade: str = "", failing: bool | str = False, expiring_within=None
    ) -> None:
        shape = (
            sort if sort in SORTS else DEFAULT_SORT,
            failing_kind(failing),
            bool(grade),
            expiring_within is not None,
        )
        if shape not in _MATRIX_PAGES:
            _MATRIX_PAGES[shape] = CompiledOnce(
                partial(_matrix, sort=shape[0], failing=shape[1], by_grade=shape[2], by_expiry=shape[3])
            )
        self._rows = _MATRIX_PAGES[shape]
        self._arguments = (
            user.pk,
            portfolio.pk,
            *(["" if grade == NOT_GRADED else grade] if grade else []),
            *([expiry_cutoff(expiring_within)] if expiring_within is not None else []),
        )

    def __getitem__(self, page: slice) -> list[dict]:
        start = page.start or 0
        if page.stop <= start:  # an empty page (nothing matches): no query, as a QuerySet's [0:0]
            return []
        return self._rows.rows(*self._arguments, limit=page.stop - start, offset=start)


class SitePaginator(Paginator):
    """Pages of overview_sites counted on matching_sites: the count needs none of the page's joins (each site's
    latest scan and attempt), which would make the database read 10,000 scan rows to count 10,000 sites. A
    count the caller already knows (`counted`, from triage_counts' groups) spares that pass too."""

    def __init__(self, sites: QuerySet[Site], per_page: int, *, matching: QuerySet[Site], counted=None) -> None:
        super().__init__(sites, per_page)
        self.matching = matching
        self.counted = counted

    @cached_property
    def count(self) -> int:
        return self.counted if self.counted is not None else self.matching.count()
