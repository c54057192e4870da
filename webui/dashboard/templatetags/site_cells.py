"""The cells every row of a site list repeats (grade, certificate expiry, last scan, the matrix's checks), built
in Python: as included templates and loops they were most of a 50- or 100-row page's rendering time (dozens of
template nodes and a context push per cell), and these lists are the pages that must stay fast at 10,000 sites."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import pluralize, timesince_filter
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

register = template.Library()

UNREACHABLE = '<span class="bad">unreachable</span>'


@register.simple_tag
def grade_cell(row) -> SafeString:
    """The grade badge, flagged when the last attempt failed; "none yet" before any grade."""
    if row.grade:
        badge = format_html('<span class="badge {}">{}</span>', row.grade_css, row.grade)
        return mark_safe(f"{badge} {UNREACHABLE}\n" if row.unreachable else f"{badge}\n")
    return mark_safe(f"{UNREACHABLE}\n" if row.unreachable else '<span class="muted">none yet</span>\n')


@register.simple_tag
def expiry_cell(days: int | None, since: int | None) -> SafeString:
    """Whole days until the certificate expires: expired ones in red, under 30 days in amber."""
    if days is None:
        return mark_safe('<span class="muted">–</span>\n\n')
    if days < 0:
        return format_html('<span class="bad">expired {} day{} ago</span>\n\n', since, pluralize(since))
    if days < 30:
        return format_html('<span class="warn">in {} day{}</span>\n\n', days, pluralize(days))
    return format_html("in {} days\n", days)


@register.simple_tag
def last_scan_cell(status: str | None, site_id: int, requested_at, error: str) -> SafeString:
    """The last attempt's state (progress.js finds it by data-site-status), when it was asked for, and why it
    failed if it did."""
    parts = [
        format_html(
            '<span class="status status-{}" data-site-status="{}">{}</span>\n',
            status or "none",
            site_id,
            status or "never scanned",
        )
    ]
    if requested_at:
        parts.append(
            format_html(
                '<time datetime="{}" class="muted">{} ago</time>',
                date_filter(template_localtime(requested_at), "c"),
                timesince_filter(requested_at),
            )
        )
    parts.append("\n")
    if status == "failed" and error:
        parts.append(format_html('<span class="error-detail">{}</span>', error))
    parts.append("\n")
    return mark_safe("".join(parts))  # every part is a constant or escaped by format_html


@register.simple_tag
def matrix_cell(cell, site) -> SafeString:
    """One check of the portfolio matrix: its word, and when findings decided it, the reasons behind a
    disclosure named for the check and the site (a screen reader reaches it out of the table's context)."""
    if not cell.titles:
        return format_html(
            '<td class="cell cell-{}" title="{}"><span class="cell-word">{}</span></td>',
            cell.state,
            cell.explanation,
            cell.word,
        )
    reasons = format_html_join("", "<li>{}</li>", ((reason,) for reason in cell.titles))
    return format_html(
        '<td class="cell cell-{}" title="{}"><details class="cell-why"><summary><span class="cell-word">{}</span>'
        '<span class="visually-hidden">: {} of {}, why</span></summary><ul class="cell-reasons">{}</ul>'
        "</details></td>",
        cell.state,
        cell.explanation,
        cell.word,
        cell.check,
        site,
        reasons,
    )
