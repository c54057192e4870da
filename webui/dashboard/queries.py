"""Overview queries built on scanner.selectors (which scope everything to one user)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, F, QuerySet
from django.utils import timezone

from scanner import selectors
from scanner.grading.scale import GRADE_ORDER
from scanner.models import Site

from .report_view import grade_css

# Grades below E: the site is broken or untrusted, which is what "failing" means on the overview.
FAILING_ABOVE = "E"


SORTS = {
    "site": (F("hostname").asc(), F("https_port").asc()),
    "grade": (F("grade_rank").desc(nulls_last=True), F("hostname").asc()),  # worst first: what needs work
    "expiry": (F("cert_not_after").asc(nulls_last=True), F("hostname").asc()),
    "scanned": (F("last_scan_at").desc(nulls_last=True), F("hostname").asc()),
}


def overview_sites(
    *, user, grade: str = "", failing: bool = False, expiring_within: int | None = None, sort: str = ""
) -> QuerySet[Site]:
    """One user's sites for the overview. Every filter and sort reads columns of the site itself (kept current
    by scanner.services, indexed per owner), so a page costs the same at 10 sites or 10,000: a count and one
    query for the page's rows with their latest result and latest attempt joined in."""
    sites = (
        selectors.site_list(user=user, grade=grade or None, below=FAILING_ABOVE if failing else None)
        .select_related("last_scan")
        # A page of rows needs a few columns of each scan, not the stored report documents.
        .defer("latest_scan__result", "latest_scan__changes", "last_scan__result", "last_scan__changes")
    )
    if expiring_within is not None:
        sites = sites.filter(cert_not_after__lte=timezone.now() + timedelta(days=expiring_within))
    return sites.order_by(*SORTS.get(sort, SORTS["site"]))


def grade_distribution(*, user) -> list[dict]:
    """How many of the user's sites hold each grade now, in GRADE_ORDER, plus the never-graded ones."""
    counts = dict(
        selectors.site_list(user=user).order_by().values_list("grade").annotate(count=Count("pk")).values_list("grade", "count")
    )
    rows = [{"grade": grade, "count": counts.get(grade, 0)} for grade in GRADE_ORDER if counts.get(grade)]
    ungraded = sum(count for grade, count in counts.items() if grade not in GRADE_ORDER)
    if ungraded:
        rows.append({"grade": "", "count": ungraded})
    largest = max((row["count"] for row in rows), default=0)
    for row in rows:
        row["css"] = grade_css(row["grade"])
        row["percent"] = round(100 * row["count"] / largest) if largest else 0
        row["width_class"] = f"w-{5 * round(row['percent'] / 5)}"  # app.css has a class per 5 %: no inline style
    return rows
