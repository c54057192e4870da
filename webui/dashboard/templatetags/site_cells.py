"""The cells every row of a site list repeats (grade, certificate expiry, last scan, the matrix's checks), built
in Python: as included templates and loops they were most of a 50- or 100-row page's rendering time (dozens of
template nodes and a context push per cell), and these lists are the pages that must stay fast at 10,000 sites."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

from django import template
from django.template.defaultfilters import pluralize, urlencode
from django.utils import timezone
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.translation import get_language

register = template.Library()


def _e(value) -> str:
    """What conditional_escape returns (a template's {{ value }}), without the lazy-text wrapper around its escape:
    called for every value of every row, that wrapper was a good share of a page's rendering."""
    if isinstance(value, Promise):
        value = str(value)
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


UNREACHABLE = '<span class="bad">unreachable</span>'


class _RememberedUnit:
    """One of timesince's units ("%(num)d minute(s)") in one language, translated once per number: the lazy
    plural translation is most of what the `timesince` filter costs, and every row of a list shows one."""

    def __init__(self, name: str, language: str | None) -> None:
        self.name, self.language = name, language

    def __mod__(self, values: dict) -> str:
        return _unit_text(self.name, values["num"], self.language)


@lru_cache(maxsize=1024)
def _unit_text(name: str, number: int, language: str | None) -> str:
    return TIME_STRINGS[name] % {"num": number}


@lru_cache(maxsize=16)
def _units(language: str | None) -> dict[str, _RememberedUnit]:
    return {name: _RememberedUnit(name, language) for name in TIME_STRINGS}


# Within four weeks, timesince counts no months, so its text depends on the whole minutes elapsed alone.
_NO_MONTHS = timedelta(days=28)
_SOME_TIME = datetime(2001, 1, 1, tzinfo=UTC)


def time_since(value, now: datetime | None = None) -> str:
    """What `{{ value|timesince }}` shows ("3 days, 5 hours", no-break spaces), `now` being when the page is
    made (the time now when not given)."""
    language = get_language()
    now = datetime.now(value.tzinfo) if now is None else now.astimezone(value.tzinfo)
    elapsed = now - value  # as timesince subtracts
    if timedelta(0) <= elapsed < _NO_MONTHS:
        return _minutes_since(elapsed.days * 24 * 60 + elapsed.seconds // 60, language)
    return timesince(value, now, time_strings=_units(language))


@lru_cache(maxsize=4096)
def _minutes_since(minutes: int, language: str | None) -> str:
    """timesince's text for a time that many minutes ago (under four weeks), in the active `language`: a list's
    rows show a few distinct ones, and each text cost a translation lookup and two lazy-text wrappers."""
    return timesince(_SOME_TIME - timedelta(minutes=minutes), _SOME_TIME, time_strings=_units(language))


@register.simple_tag
def grade_cell(row) -> SafeString:
    """The grade badge, flagged when the last attempt failed; "none yet" before any grade."""
    if row.grade:
        badge = f'<span class="badge {_e(row.grade_css)}">{_e(row.grade)}</span>'
        return mark_safe(f"{badge} {UNREACHABLE}\n" if row.unreachable else f"{badge}\n")
    return mark_safe(f"{UNREACHABLE}\n" if row.unreachable else '<span class="muted">none yet</span>\n')


@register.simple_tag
def expiry_cell(days: int | None, since: int | None) -> SafeString:
    """Whole days until the certificate expires: expired ones in red, under 30 days in amber."""
    if days is None:
        return mark_safe('<span class="muted">–</span>\n\n')
    if days < 0:
        return mark_safe(f'<span class="bad">expired {_e(since)} day{pluralize(since)} ago</span>\n\n')
    if days < 30:
        return mark_safe(f'<span class="warn">in {_e(days)} day{pluralize(days)}</span>\n\n')
    return mark_safe(f"in {_e(days)} days\n")


@dataclass(frozen=True)
class PageClock:
    """When a page is made and the time zone it shows times in, read once for all its rows."""

    now: datetime
    zone: tzinfo

    @classmethod
    def read(cls) -> PageClock:
        return cls(now=timezone.now(), zone=timezone.get_current_timezone())


@register.simple_tag
def last_scan_cell(
    status: str | None, site_id: int, requested_at, error: str, clock: PageClock | None = None
) -> SafeString:
    """The last attempt's state (progress.js finds it by data-site-status), when it was asked for, and why it
    failed if it did."""
    clock = clock or PageClock.read()
    state = _e(status or "none")
    parts = [
        f'<span class="status status-{state}" data-site-status="{_e(site_id)}">{_e(status or "never scanned")}</span>\n'
    ]
    if requested_at:
        when = requested_at.astimezone(clock.zone).isoformat()  # what the `date:"c"` filter shows
        parts.append(f'<time datetime="{_e(when)}" class="muted">{_e(time_since(requested_at, clock.now))} ago</time>')
    parts.append("\n")
    if status == "failed" and error:
        parts.append(f'<span class="error-detail">{_e(error)}</span>')
    parts.append("\n")
    return mark_safe("".join(parts))  # every part is a constant or escaped


@register.simple_tag
def matrix_cells(cells, site) -> SafeString:
    """A row's checks of the portfolio matrix, one matrix_cell after another: one tag per row rather than per
    cell (a 100-row page has about a thousand cells)."""
    return mark_safe("".join([matrix_cell(cell, site) for cell in cells]))  # each escaped by matrix_cell


@lru_cache(maxsize=64)
def _plain_cell(state: str, word: str) -> SafeString:
    return format_html('<td class="cell cell-{}" title="{}"><span class="cell-word">{}</span></td>', state, word, word)


@register.simple_tag
def matrix_cell(cell, site) -> SafeString:
    """One check of the portfolio matrix: its word, and when findings decided it, the reasons behind a
    disclosure named for the check and the site (a screen reader reaches it out of the table's context)."""
    if not cell.titles:
        # Without reasons a cell is its state alone (its explanation is its word): a few distinct cells per page.
        return _plain_cell(cell.state, cell.word)
    before_site, after_site = _reasoned_cell(cell.state, cell.word, cell.check, tuple(cell.titles))
    return mark_safe(f"{before_site}{_e(site)}{after_site}")


# Sites of a portfolio share their findings (the same weak suite, the same missing header): a page's cells with
# reasons are a few dozen distinct ones, each escaped once here rather than in every row.
@lru_cache(maxsize=1024)
def _reasoned_cell(state: str, word: str, check: str, titles: tuple[str, ...]) -> tuple[str, str]:
    """A cell with reasons as the markup before and after the site's name (escaped)."""
    reasons = "".join([f"<li>{_e(reason)}</li>" for reason in titles])
    before_site = (
        f'<td class="cell cell-{_e(state)}" title="{_e("; ".join(titles))}"><details class="cell-why"><summary>'
        f'<span class="cell-word">{_e(word)}</span><span class="visually-hidden">: {_e(check)} of '
    )
    return before_site, f', why</span></summary><ul class="cell-reasons">{reasons}</ul></details></td>'


MUTED_DASH = '<span class="muted">–</span>'


def _site_head(row) -> str:
    """The row's start: the site, linked to its page, its tags, each linked to the list of that tag, its grade."""
    if row.tags:
        links = "".join(f'<a class="tag" href="?tag={_e(urlencode(tag))}">{_e(tag)}</a>' for tag in row.tags)
        tags = f'<span class="tags">{links}</span>'
    else:
        tags = ""
    return (
        f'<tr data-site-row="{_e(row.id)}">\n'
        f'          <th scope="row"><a class="host" href="{_e(row.url)}">{_e(row.site)}</a>\n'
        f"            {tags}</th>\n"
        f'          <td data-site-grade="{_e(row.id)}">{grade_cell(row)}</td>\n'
    )


def _site_tail(row, clock: PageClock) -> str:
    """The row's certificate expiry and last scan cells, and its end."""
    last_scan = last_scan_cell(row.last_status, row.site.pk, row.last_requested_at, row.last_error, clock)
    return (
        f"          <td>{expiry_cell(row.days_to_expiry, row.days_since_expiry)}</td>\n"
        f"          <td>{last_scan}</td>\n"
        "        </tr>"
    )


# A table's rows in one tag, not a tag per row in a template loop: the loop and the tag's arguments cost about
# as much as building the rows themselves.
ROW_SEPARATOR = "\n        "


@register.simple_tag
def overview_table_rows(rows) -> SafeString:
    """The overview's rows (overview_row), one after another."""
    clock = PageClock.read()
    return mark_safe(ROW_SEPARATOR.join([overview_row(row, clock) for row in rows]))  # each escaped by its row


@register.simple_tag
def matrix_table_rows(rows) -> SafeString:
    """The portfolio matrix's rows (matrix_row), each (row, its cells), one after another."""
    clock = PageClock.read()
    return mark_safe(ROW_SEPARATOR.join([matrix_row(row, cells, clock) for row, cells in rows]))


def overview_row(row, clock: PageClock) -> SafeString:
    """A whole row of the overview: as template markup its dozen variables and conditions were most of what a
    50-row page's rendering cost."""
    issue = row.top_issue
    if issue:
        cap = f' <span class="muted">(caps at {_e(issue["cap"])})</span>' if issue.get("cap") else ""
        top = f"{_e(issue.get('title', ''))}{cap}"
    else:
        top = MUTED_DASH
    seo = _e(localize(row.seo_score)) if row.seo_score is not None else MUTED_DASH
    web = _e(row.web_security_grade) if row.web_security_grade else MUTED_DASH
    return mark_safe(  # every value is escaped above or by the cell tags
        _site_head(row) + f'          <td class="top-issue">{top}</td>\n'
        f"          <td>{seo}</td>\n"
        f'          <td data-web-grade="{_e(row.id)}">{web}</td>\n' + _site_tail(row, clock)
    )


def matrix_row(row, cells, clock: PageClock) -> SafeString:
    """A whole row of the portfolio matrix (the overview's row with the checks in place of its scores)."""
    return mark_safe(_site_head(row) + f"          {matrix_cells(cells, row.site)}\n" + _site_tail(row, clock))
