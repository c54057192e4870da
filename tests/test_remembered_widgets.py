"""The site lists' filter form renders each distinct widget once (webui/dashboard/remembered_widgets.py): what it
draws must be what Django's own renderer draws, for every filter value, in any order."""

from __future__ import annotations

import pytest
from django.forms.renderers import DjangoTemplates

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
