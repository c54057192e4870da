"""The cells a site list repeats on every row are template tags (webui/dashboard/templatetags/site_cells.py) for
speed; each must render exactly what the included template it replaced rendered, kept here as the reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.timesince import timesince

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

# A whole row: what overview.html and portfolio.html repeated per site before the row tags.
ROW_HEAD = (
    '<tr data-site-row="{{ row.id }}">\n'
    '          <th scope="row"><a class="host" href="{{ row.url }}">{{ row.site }}</a>\n'
    '            {% if row.tags %}<span class="tags">{% for tag in row.tags %}<a class="tag" href="?tag={{ tag|urlencode }}">'
    "{{ tag }}</a>{% endfor %}</span>{% endif %}</th>\n"
    '          <td data-site-grade="{{ row.id }}">{% grade_cell row %}</td>\n'
)
ROW_TAIL = (
    "          <td>{% expiry_cell row.days_to_expiry row.days_since_expiry %}</td>\n"
    "          <td>{% last_scan_cell row.last_status row.site.pk row.last_requested_at row.last_error %}</td>\n"
    "        </tr>"
)
OVERVIEW_ROW = (
    "{% load site_cells %}"
    + ROW_HEAD
    + '          <td class="top-issue">{% if row.top_issue %}{{ row.top_issue.title }}'
    '{% if row.top_issue.cap %} <span class="muted">(caps at {{ row.top_issue.cap }})</span>{% endif %}{% else %}'
    '<span class="muted">–</span>{% endif %}</td>\n'
    '          <td>{% if row.seo_score is not None %}{{ row.seo_score }}{% else %}<span class="muted">–</span>'
    "{% endif %}</td>\n"
    '          <td data-web-grade="{{ row.id }}">{% if row.web_security_grade %}{{ row.web_security_grade }}{% else %}'
    '<span class="muted">–</span>{% endif %}</td>\n' + ROW_TAIL
)
MATRIX_ROW = (
    "{% load site_cells %}"
    + ROW_HEAD
    + "          {% for cell in cells %}{% matrix_cell cell row.site %}{% endfor %}\n"
    + ROW_TAIL
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


class ListedSite:
    """What a row reads of its site: its id and its name."""

    def __init__(self, pk: int, name: str) -> None:
        self.pk, self.name = pk, name

    def __str__(self) -> str:
        return self.name


def full_row(**values) -> OverviewRow:
    listed = row(grade=values.pop("grade", "B"), status=values.pop("status", "done"))
    listed.site = ListedSite(1234567, values.pop("name", "shop.example:8443"))
    listed.id, listed.url = "1234567", "/sites/1234567/"
    listed.last_requested_at = timezone.now() - timedelta(hours=3)
    for name, value in values.items():
        setattr(listed, name, value)
    return listed


ROWS = [
    full_row(),
    full_row(
        name="<b>&co.example",
        tags=["prod", "a&b c/d", "ü<x>"],
        top_issue={"finding_id": "cert.x", "title": "Expired <cert>", "cap": "T"},
        seo_score=87,
        web_security_grade="A",
        days_to_expiry=-3,
        status="failed",
        last_error="refused <now>",
    ),
    full_row(top_issue={"finding_id": "hsts.none", "title": "No HSTS", "cap": None}, seo_score=0, days_to_expiry=12),
    full_row(grade="", status=None, last_requested_at=None, web_security_grade="", days_to_expiry=400),
]


@pytest.mark.parametrize("listed", ROWS)
def test_an_overview_row_reads_as_its_template(listed):
    assert site_cells.overview_row(listed, site_cells.PageClock.read()) == as_template(OVERVIEW_ROW, row=listed)


@pytest.mark.parametrize("listed", ROWS)
def test_a_matrix_row_reads_as_its_template(listed):
    cells = [Cell("pass", check="HSTS"), Cell("na"), Cell("fail", ["No <HSTS> header"], check="HSTS"), Cell("none")]
    clock = site_cells.PageClock.read()
    assert site_cells.matrix_row(listed, cells, clock) == as_template(MATRIX_ROW, row=listed, cells=cells)


def test_the_overviews_rows_are_its_row_one_after_another():
    expected = "\n        ".join(as_template(OVERVIEW_ROW, row=listed) for listed in ROWS)
    assert as_template("{% load site_cells %}{% overview_table_rows rows %}", rows=ROWS) == expected


def test_the_matrixs_rows_are_its_row_one_after_another():
    cells = [Cell("pass", check="HSTS"), Cell("fail", ["No <HSTS> header"], check="HSTS")]
    rows = [(listed, cells) for listed in ROWS]
    expected = "\n        ".join(as_template(MATRIX_ROW, row=listed, cells=cells) for listed in ROWS)
    assert as_template("{% load site_cells %}{% matrix_table_rows rows %}", rows=rows) == expected


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


def test_cells_with_the_same_reasons_on_two_sites_each_name_their_own_site():
    reasons = ["No HSTS header", "<script> & co"]
    for site in ["shop.example", "<b>other</b>.example"]:
        cell = Cell("warn", list(reasons), check="HSTS")
        assert site_cells.matrix_cell(cell, site) == as_template(MATRIX_CELL, cell=cell, site=site)


def test_a_row_of_matrix_cells_reads_as_its_cells_one_after_another():
    cells = [Cell("pass", check="HSTS"), Cell("na"), Cell("fail", ["No HSTS header"], check="HSTS"), Cell("pass")]
    assert site_cells.matrix_cells(cells, "shop.example") == as_template(
        "{% for cell in cells %}" + MATRIX_CELL + "{% endfor %}", cells=cells, site="shop.example"
    )


def test_time_since_reads_as_the_timesince_filter():
    now = timezone.now()
    for minutes in [0, 1, 59, 60, 61, 1439, 1440, 10081, 44000, 60 * 24 * 366, 60 * 24 * 800 + 7]:
        value = now - timedelta(minutes=minutes)
        assert site_cells.time_since(value) == as_template("{{ value|timesince }}", value=value)


def test_time_since_reads_as_timesince_for_every_minute_up_to_months_and_from_any_second():
    now = datetime(2026, 3, 1, 0, 0, 30, 250_000, tzinfo=UTC)  # months of 28 and 31 days either side
    for minutes in range(0, 60 * 24 * 35, 7):
        for offset in (timedelta(0), timedelta(seconds=29, microseconds=900_000), timedelta(seconds=59)):
            value = now - timedelta(minutes=minutes) - offset
            assert site_cells.time_since(value, now) == timesince(value, now)


def test_time_since_of_a_future_time_reads_as_timesince():
    now = timezone.now()
    assert site_cells.time_since(now + timedelta(minutes=5), now) == timesince(now + timedelta(minutes=5), now)


def test_time_since_speaks_the_active_language():
    now = timezone.now()
    value = now - timedelta(days=3, hours=5)
    english = site_cells.time_since(value, now)
    with translation.override("de"):
        german = site_cells.time_since(value, now)
        assert german == as_template("{{ value|timesince }}", value=value)
    assert german != english
