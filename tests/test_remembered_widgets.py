"""The site lists' filter form renders each distinct widget once (webui/dashboard/remembered_widgets.py): what it
draws must be what Django's own renderer draws, for every filter value, in any order."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from scanner.models import Portfolio, Site
from webui.dashboard.forms import OverviewFilterForm
from webui.dashboard.remembered_widgets import RememberedWidgets

pytestmark = pytest.mark.django_db

QUERIES = [
    {},
    {"grade": "B"},
    {"grade": "none", "sort": "site"},
    {"failing": "unreachable", "expiring": "30"},
    {"q": "shop <b>&", "tag": "prod"},
    {"expiring": "not a number", "grade": "nonsense"},
    {"grade": "B"},
]


def drawn(data: dict, user, renderer) -> list[str]:
    form = OverviewFilterForm(data, user=user, renderer=renderer)
    form.is_valid()
    return [str(field) for field in form]


def test_the_remembered_widgets_read_as_djangos_own_for_every_filter_in_any_order(alice):
    Portfolio.objects.create(owner=alice, name="Client <A>")
    Site.objects.create(owner=alice, hostname="shop.example").tags.create(name="prod")
    remembering = RememberedWidgets()
    for data in QUERIES + QUERIES[::-1]:
        assert drawn(data, alice, remembering) == drawn(data, alice, DjangoTemplates()), data


def test_the_filter_form_draws_its_widgets_with_the_remembering_renderer(alice):
    assert isinstance(OverviewFilterForm({}, user=alice).renderer, RememberedWidgets)


def test_a_safe_label_is_drawn_apart_from_the_same_text_as_plain_text():
    remembering = RememberedWidgets()

    def drawn(label) -> str:
        return forms.RadioSelect(choices=[("x", label)]).render("choice", "x", renderer=remembering)

    # Both contexts repr alike; the first drawn must not stand in for the second.
    assert "&lt;b&gt;bold" in drawn("<b>bold</b>")
    assert "<b>bold</b>" in drawn(mark_safe("<b>bold</b>"))


def test_the_portfolio_pages_forms_draw_their_widgets_with_the_remembering_renderer(alice):
    from webui.dashboard.compliance_views import ComplianceProfilesForm
    from webui.dashboard.forms import ImportForm, PortfolioChannelsForm, ScheduleForm

    drawn = [ScheduleForm(), ImportForm(), ComplianceProfilesForm(), PortfolioChannelsForm(user=alice)]
    assert all(isinstance(form.renderer, RememberedWidgets) for form in drawn)


def test_a_widget_of_pasted_text_longer_than_the_key_limit_is_not_kept():
    from webui.dashboard.forms import ImportForm
    from webui.dashboard.remembered_widgets import MAX_KEY_CHARS

    remembering = RememberedWidgets()
    form = ImportForm({"text": "shop.example\n" * MAX_KEY_CHARS}, renderer=remembering)
    assert "shop.example" in str(form["text"]) and remembering._rendered == {}
