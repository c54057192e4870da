"""Charts as inline SVG, drawn on the server: no script, no CDN, and allowed by a strict CSP (SVG attributes
are not inline styles). Colours come from CSS classes in app.css, so they match the badges.

Each chart carries a <title> and the page shows the same numbers as text, so no reader depends on the drawing.
"""

from __future__ import annotations

import html
from datetime import date, datetime
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from scanner.grading.scale import GRADE_ORDER

# Where a grade stacks in a day's column (GRADE_ORDER's order; anything else on top).
_STACK_ORDER = {grade: index for index, grade in enumerate(GRADE_ORDER)}


@lru_cache(maxsize=256)
def _word(value: str) -> str:
    """escape() of one of the few words a chart repeats on every bar (a grade, a CSS class), without escape()'s
    lazy-text wrapper: a 30-day grade mix escapes a few hundred of them per page."""
    return html.escape(value)


def _svg(width: int, height: int, label: str, body: str, css: str = "chart", stretch: bool = False) -> SafeString:
    # Bars stretch to their box; charts with text keep their proportions.
    aspect = ' preserveAspectRatio="none"' if stretch else ""
    return mark_safe(
        f'<svg class="{css}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}"{aspect}><title>{escape(label)}</title>{body}</svg>'
    )


def bar(percent: float, css: str, label: str) -> SafeString:
    """One horizontal bar, `percent` of the full width."""
    width = max(0.0, min(100.0, percent))
    body = f'<rect class="{escape(css)}" x="0" y="0" width="{width:.2f}" height="10" rx="1.5"></rect>'
    return _svg(100, 10, label, body, css="bar-svg", stretch=True)


def stacked_mix(rows: list[dict], label: str) -> SafeString:
    """A 100 % bar split by grade (rows from triage.grade_distribution)."""
    total = sum(row["count"] for row in rows) or 1
    x = 0.0
    parts = []
    for row in rows:
        width = 100 * row["count"] / total
        grade = row["grade"] or "not graded"
        parts.append(
            f'<rect class="{escape(row["css"])}" x="{x:.3f}" y="0" width="{width:.3f}" height="10">'
            f"<title>{escape(grade)}: {row['count']}</title></rect>"
        )
        x += width
    return _svg(100, 10, label, "".join(parts), css="mix-svg", stretch=True)


# --- History ---------------------------------------------------------------------------------------------------

CHART_W, CHART_H = 640, 220
PAD_L, PAD_R, PAD_T, PAD_B = 44, 16, 14, 34


def _x_positions(count: int) -> list[float]:
    inner = CHART_W - PAD_L - PAD_R
    if count == 1:
        return [PAD_L + inner / 2]
    return [PAD_L + inner * index / (count - 1) for index in range(count)]


def _y_score(value: float) -> float:
    inner = CHART_H - PAD_T - PAD_B
    return PAD_T + inner * (1 - value / 100)


def history_chart(points: list[dict], label: str) -> SafeString | str:
    """Score and SEO score over time, oldest left; each done scan's grade letter above its score point.

    points: [{"when": datetime, "grade": str, "score": int|None, "seo": int|None, "css": str}], oldest first.
    """
    if not points:
        return ""
    xs = _x_positions(len(points))
    parts = []
    for value in (0, 25, 50, 75, 100):  # the grid and its scale
        y = _y_score(value)
        parts.append(f'<line class="grid" x1="{PAD_L}" x2="{CHART_W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}"></line>')
        parts.append(f'<text class="axis" x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    for key, css in (("score", "line-score"), ("seo", "line-seo")):
        coords = [(x, _y_score(point[key])) for x, point in zip(xs, points) if point[key] is not None]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline class="{css}" points="{path}"></polyline>')
        for x, y in coords:
            parts.append(f'<circle class="{css}-dot" cx="{x:.1f}" cy="{y:.1f}" r="3.5"></circle>')
    for x, point in zip(xs, points):
        if point["grade"] and point["score"] is not None:
            y = _y_score(point["score"]) - 9
            parts.append(
                f'<text class="grade-letter" x="{x:.1f}" y="{max(y, 10):.1f}" text-anchor="middle">{escape(point["grade"])}</text>'
            )
    for index in sorted({0, len(points) - 1}):
        anchor = "start" if index == 0 and len(points) > 1 else ("end" if index else "middle")
        when: datetime = points[index]["when"]
        parts.append(
            f'<text class="axis" x="{xs[index]:.1f}" y="{CHART_H - 10}" text-anchor="{anchor}">{when:%Y-%m-%d}</text>'
        )
    return _svg(CHART_W, CHART_H, label, "".join(parts), css="history-svg")


def grade_mix_chart(snapshots: list[dict], label: str) -> SafeString | str:
    """One stacked column per day: the share of each grade among the portfolio's sites graded by then.

    snapshots: [{"day": date, "rows": [{"grade", "count", "css"}]}], oldest first.
    """
    if not snapshots:
        return ""
    inner_w = CHART_W - PAD_L - PAD_R
    inner_h = CHART_H - PAD_T - PAD_B
    step = inner_w / len(snapshots)
    width = max(2.0, step * 0.7)
    parts = []
    for value in (0, 50, 100):
        y = PAD_T + inner_h * (1 - value / 100)
        parts.append(f'<text class="axis" x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{value}%</text>')
    for index, snapshot in enumerate(snapshots):
        total = sum(row["count"] for row in snapshot["rows"]) or 1
        x = PAD_L + step * index + (step - width) / 2
        y = PAD_T + inner_h
        day = f"{snapshot['day']:%Y-%m-%d}"
        for row in sorted(snapshot["rows"], key=lambda r: _STACK_ORDER.get(r["grade"], 99)):
            height = inner_h * row["count"] / total
            y -= height
            parts.append(
                f'<rect class="{_word(row["css"])}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}">'
                f"<title>{day} {_word(row['grade'] or 'not graded')}: {row['count']}</title></rect>"
            )
    for index in sorted({0, len(snapshots) - 1}):
        x = PAD_L + step * index + step / 2
        anchor = "start" if index == 0 and len(snapshots) > 1 else ("end" if index else "middle")
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{CHART_H - 10}" text-anchor="{anchor}">{snapshots[index]["day"]:%Y-%m-%d}</text>'
        )
    return _svg(CHART_W, CHART_H, label, "".join(parts), css="history-svg")


RATE_STYLES = 4  # line-rate-0 .. line-rate-3 in app.css, reused in turn beyond four profiles


def pass_rate_chart(days: list[date], series: list[dict], label: str) -> SafeString | str:
    """Each profile's pass rate (share of the evaluated sites meeting it) per day, oldest left, 0-100 %.

    days: the x axis; series: [{"short": str, "rates": [float | None, one per day]}] (None: nothing evaluated).
    """
    if not days or not series:
        return ""
    xs = _x_positions(len(days))
    parts = []
    for value in (0, 50, 100):
        y = _y_score(value)
        parts.append(f'<line class="grid" x1="{PAD_L}" x2="{CHART_W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}"></line>')
        parts.append(f'<text class="axis" x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{value}%</text>')
    for index, line in enumerate(series):
        css = f"line-rate-{index % RATE_STYLES}"
        coords = [(x, _y_score(rate)) for x, rate in zip(xs, line["rates"]) if rate is not None]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline class="{css}" points="{path}"><title>{escape(line["short"])}</title></polyline>')
        for (x, y), (day, rate) in zip(coords, [(d, r) for d, r in zip(days, line["rates"]) if r is not None]):
            parts.append(
                f'<circle class="{css}-dot" cx="{x:.1f}" cy="{y:.1f}" r="2.5">'
                f"<title>{escape(line['short'])} {day:%Y-%m-%d}: {rate:.0f}%</title></circle>"
            )
    for index in sorted({0, len(days) - 1}):
        anchor = "start" if index == 0 and len(days) > 1 else ("end" if index else "middle")
        parts.append(
            f'<text class="axis" x="{xs[index]:.1f}" y="{CHART_H - 10}" text-anchor="{anchor}">{days[index]:%Y-%m-%d}</text>'
        )
    return _svg(CHART_W, CHART_H, label, "".join(parts), css="history-svg")
