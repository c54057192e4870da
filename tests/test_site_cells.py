"""The cells a site list repeats on every row are template tags (webui/dashboard/templatetags/site_cells.py) for
speed; each must render exactly what the included template it replaced rendered, kept here as the reference."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from webui.dashboard.matrix import Cell
from webui.dashboard.report_view import OverviewRow
from webui.dashboard.templatetags import site_cells

GRADE_CELL = (
    '{% if row.grade %}<span class="badge {{ row.grade_css }}">{{ row.grade }}</span>{% if row.unreachable %} '
    '<span class="bad">unreachable</span>{% endif %}{% elif row.unreachable %}<span class="bad">unreachable</span>'
    '{% else %}<span class="muted">none yet</span>{% endif %}\n'
)
EXPIRY_CELL = (
    '{% if days is None %}<span class="muted">–</span>\n'
    '{% elif days < 0 %}<span class="bad">expired {{ since }} day{{ since|pluralize }} ago</span>\n'
    '{% elif days < 30 %}<span class="warn">in {{ days }} day{{ days|pluralize }}</span>\n'
    "{% else %}in {{ days }} days{% endif %}\n"
)
LAST_SCAN_CELL = (
    '<span class="status status-{{ status|default:\'none\' }}" data-site-status="{{ site_id }}">'
    '{{ status|default:"never scanned" }}</span>\n'
    '{% if requested_at %}<time datetime="{{ requested_at|date:\'c\' }}" class="muted">{{ requested_at|timesince }} '
    "ago</time>{% endif %}\n"
    '{% if status == "failed" and error %}<span class="error-detail">{{ error }}</span>{% endif %}\n'
)
MATRIX_CELL = (
    '<td class="cell cell-{{ cell.state }}" title="{{ cell.explanation }}">{% if cell.titles %}<details '
    'class="cell-why"><summary><span class="cell-word">{{ cell.word }}</span><span class="visually-hidden">: '
    '{{ cell.check }} of {{ site }}, why</span></summary><ul class="cell-reasons">{% for reason in cell.titles %}'
    '<li>{{ reason }}</li>{% endfor %}</ul></details>{% else %}<span class="cell-word">{{ cell.word }}</span>'
    "{% endif %}</td>"
)


def as_template(markup: str, **context) -> str:
    return Template(markup).render(Context(context))


def row(grade: str = "", status: str | None = None) -> OverviewRow:
    return OverviewRow(
        site=None,
        grade=grade,
        grade_css="grade-b" if grade else "grade-f",
        seo_score=None,
        web_security_grade=None,
        days_to_expiry=None,
        last_status=status,
        last_requested_at=None,
        last_error="",
        tags=[],
    )


@pytest.mark.parametrize("grade", ["", "B", "<T>"])
@pytest.mark.parametrize("status", [None, "done", "failed"])
def test_the_grade_cell_reads_as_its_template(grade, status):
    assert site_cells.grade_cell(row(grade, status)) == as_template(GRADE_CELL, row=row(grade, status))


@pytest.mark.parametrize(
    ("days", "since"), [(None, None), (-1, 1), (-12, 12), (0, None), (1, None), (29, None), (30, None)]
)
def test_the_expiry_cell_reads_as_its_template(days, since):
    assert site_cells.expiry_cell(days, since) == as_template(EXPIRY_CELL, days=days, since=since)


@pytest.mark.parametrize("status", [None, "queued", "done", "failed"])
@pytest.mark.parametrize(
    "ago", [None, timedelta(0), timedelta(minutes=1), timedelta(days=3, hours=5), timedelta(days=400)]
)
def test_the_last_scan_cell_reads_as_its_template(status, ago):
    requested_at = timezone.now() - ago if ago is not None else None
    error = "connection refused <b>"
    expected = as_template(LAST_SCAN_CELL, status=status, site_id=7, requested_at=requested_at, error=error)
    assert site_cells.last_scan_cell(status, 7, requested_at, error) == expected


@pytest.mark.parametrize(
    "cell",
    [Cell("pass", check="HSTS"), Cell("na"), Cell("fail", ["No HSTS header", "<script> & co"], check="HSTS")],
)
def test_a_matrix_cell_reads_as_its_template(cell):
    assert site_cells.matrix_cell(cell, "shop.example:8443") == as_template(
        MATRIX_CELL, cell=cell, site="shop.example:8443"
    )


def test_time_since_reads_as_the_timesince_filter():
    now = timezone.now()
    for minutes in [0, 1, 59, 60, 61, 1439, 1440, 10081, 44000, 60 * 24 * 366, 60 * 24 * 800 + 7]:
        value = now - timedelta(minutes=minutes)
        assert site_cells.time_since(value) == as_template("{{ value|timesince }}", value=value)
