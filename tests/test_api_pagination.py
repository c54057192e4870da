"""The API's pages (webui.api.pagination) iterate the list they read their rows into: the same rows, in the same
order, as Django's own Page, read from the database once."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator

from scanner.models import Site
from webui.api.pagination import ListPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites(alice) -> list[Site]:
    return [Site.objects.create(owner=alice, hostname=f"site{number}.example") for number in range(7)]


@pytest.mark.parametrize("number", [1, 2, 3])
def test_a_page_holds_the_rows_of_djangos_page(sites, number):
    queryset = Site.objects.order_by("hostname")
    assert list(ListPaginator(queryset, 3).page(number)) == list(Paginator(queryset, 3).page(number))


def test_a_page_reads_its_rows_once_however_often_it_is_iterated(sites, django_assert_num_queries):
    page = ListPaginator(Site.objects.order_by("pk"), 3).page(2)
    with django_assert_num_queries(1):
        assert list(page) == list(page) == page[:] == sites[3:6]
