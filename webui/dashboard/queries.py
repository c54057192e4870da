"""Overview queries built on scanner.selectors (which scope everything to one user)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Case, Count, F, IntegerField, OuterRef, QuerySet, Subquery, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.utils import timezone

from scanner import selectors
from scanner.grading.scale import GRADE_ORDER
from scanner.models import Scan, Site

from .report_view import grade_css

# Grades below E: the site is broken or untrusted, which is what "failing" means on the overview.
FAILING_ABOVE = "E"


def _grade_rank():
    """Position in GRADE_ORDER (0 = A+), so sorting by grade follows quality rather than the alphabet."""
    whens = [When(latest_scan__security_grade=grade, then=Value(rank)) for rank, grade in enumerate(GRADE_ORDER)]
    return Case(*whens, default=Value(None), output_field=IntegerField())


SORTS = {
    "site": (F("hostname").asc(), F("https_port").asc()),
    "grade": (F("grade_rank").desc(nulls_last=True), F("hostname").asc()),  # worst first: what needs work
    "expiry": (F("cert_not_after").asc(nulls_last=True), F("hostname").asc()),
    "scanned": (F("last_requested_at").desc(nulls_last=True), F("hostname").asc()),
}


def overview_sites(
    *, user, grade: str = "", failing: bool = False, expiring_within: int | None = None, sort: str = ""
) -> QuerySet[Site]:
    sites = selectors.site_list(user=user, grade=grade or None, below=FAILING_ABOVE if failing else None)
    last = Scan.objects.filter(site=OuterRef("pk")).order_by("-requested_at", "-id")
    sites = sites.annotate(
        # The most recent attempt, which may still be running or have failed, unlike latest_scan
        # (the last one that produced a result).
        last_status=Subquery(last.values("status")[:1]),
        last_requested_at=Subquery(last.values("requested_at")[:1]),
        last_error=Subquery(last.values("error")[:1]),
        # Spelled out as transforms: KT("a__b__c") does not follow the latest_scan relation into its JSON.
        # Cast to text: filtering on the bare transform makes Django decode the value as JSON again.
        cert_not_after=Cast(
            KeyTextTransform("not_after", KeyTransform("certificate", "latest_scan__result")), TextField()
        ),
        grade_rank=_grade_rank(),
    ).defer("latest_scan__result")  # a page of rows needs one field of the stored report, not all of it
    if expiring_within is not None:
        # The engine writes not_after as ISO 8601 in UTC, which orders correctly as text.
        limit = (timezone.now() + timedelta(days=expiring_within)).isoformat()
        sites = sites.filter(cert_not_after__isnull=False, cert_not_after__lte=limit)
    return sites.order_by(*SORTS.get(sort, SORTS["site"]))


def grade_distribution(*, user) -> list[dict]:
    """How many of the user's sites hold each grade now, in GRADE_ORDER, plus the never-graded ones."""
    counts = dict(
        selectors.site_list(user=user)
        .values_list("latest_scan__security_grade")
        .annotate(count=Count("pk"))
        .values_list("latest_scan__security_grade", "count")
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
