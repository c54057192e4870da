"""A public SVG badge with a site's latest grade, served only for sites whose owner made it public."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.html import escape
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from scanner.grading.scale import GRADE_ORDER
from scanner.models import Site

# A+ to D on the project's one scale, green to orange.
GRADE_COLOURS = dict(zip(GRADE_ORDER, ("#2e7d32", "#43a047", "#7cb342", "#c0ca33", "#fdd835", "#fb8c00"), strict=False))
WORST_COLOUR = "#e53935"  # E, F, T, M
NO_GRADE_COLOUR = "#9e9e9e"

BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="96" height="20" role="img" aria-label="TLS: {grade}">
<title>TLS: {grade}</title>
<rect width="56" height="20" fill="#555"/><rect x="56" width="40" height="20" fill="{colour}"/>
<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">
<text x="28" y="14">TLS</text><text x="76" y="14">{grade}</text>
</g>
</svg>
"""


def badge_svg(grade: str | None) -> str:
    colour = GRADE_COLOURS.get(grade, WORST_COLOUR) if grade else NO_GRADE_COLOUR
    return BADGE_SVG.format(grade=escape(grade or "?"), colour=colour)


@require_GET
@cache_control(public=True, max_age=300)
def grade_badge(request, site_id: int) -> HttpResponse:
    site = get_object_or_404(Site.objects.select_related("latest_scan"), pk=site_id)
    if not site.badge_public:
        raise Http404("No public badge for this site.")
    grade = site.latest_scan.security_grade if site.latest_scan else None
    return HttpResponse(badge_svg(grade), content_type="image/svg+xml")
