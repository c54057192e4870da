"""A public SVG badge with a site's latest grade, served only for sites whose owner made it public."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.html import escape
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from scanner.grading.scale import GRADE_ORDER
from scanner.models import Site

# (background, text) per grade, the dashboard's colours (app.css): each grade its own colour, and the text
# at WCAG AA contrast against it (dark text on the light B..E backgrounds).
GRADE_COLOURS = dict(
    zip(
        GRADE_ORDER,
        (
            ("#0b5d2a", "#fff"),
            ("#1a7f37", "#fff"),
            ("#52700a", "#fff"),
            ("#d7e98a", "#1d2330"),
            ("#ffd966", "#1d2330"),
            ("#ffb27a", "#1d2330"),
            ("#f59a8f", "#1d2330"),
        ),
        strict=False,
    )
)
WORST_COLOUR = ("#b42318", "#fff")  # F, T, M
NO_GRADE_COLOUR = ("#5b6474", "#fff")

BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="96" height="20" role="img" aria-label="TLS: {grade}">
<title>TLS: {grade}</title>
<rect width="56" height="20" fill="#3d4452"/><rect x="56" width="40" height="20" fill="{colour}"/>
<g text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">
<text x="28" y="14" fill="#fff">TLS</text><text x="76" y="14" fill="{text}">{grade}</text>
</g>
</svg>
"""


def badge_svg(grade: str | None) -> str:
    colour, text = GRADE_COLOURS.get(grade, WORST_COLOUR) if grade else NO_GRADE_COLOUR
    return BADGE_SVG.format(grade=escape(grade or "?"), colour=colour, text=text)


@require_GET
@cache_control(public=True, max_age=300)
def grade_badge(request, site_id: int) -> HttpResponse:
    site = get_object_or_404(Site.objects.select_related("latest_scan"), pk=site_id)
    if not site.badge_public:
        raise Http404("No public badge for this site.")
    grade = site.latest_scan.security_grade if site.latest_scan else None
    return HttpResponse(badge_svg(grade), content_type="image/svg+xml")
