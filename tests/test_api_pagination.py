"""The API's pages (webui.api.pagination) iterate the list they read their rows into: the same rows, in the same
order, as Django's own Page, read from the database once."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from scanner.models import Site
from webui.api.pagination import ApiPagination, ListPaginator


@pytest.fixture
def sites(alice) -> list[Site]:
    return [Site.objects.create(owner=alice, hostname=f"site{number}.example") for number in range(7)]


@pytest.mark.django_db
@pytest.mark.parametrize("number", [1, 2, 3])
def test_a_page_holds_the_rows_of_djangos_page(sites, number):
    queryset = Site.objects.order_by("hostname")
    assert list(ListPaginator(queryset, 3).page(number)) == list(Paginator(queryset, 3).page(number))


@pytest.mark.django_db
def test_a_page_reads_its_rows_once_however_often_it_is_iterated(sites, django_assert_num_queries):
    page = ListPaginator(Site.objects.order_by("pk"), 3).page(2)
    with django_assert_num_queries(1):
        assert list(page) == list(page) == page[:] == sites[3:6]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sites",
        "/api/v1/sites?page=2",
        "/api/v1/sites?page=4",  # the last page: no next link
        "/api/v1/sites?state=graded&page=1",
        "/api/v1/sites?",
        "/api/v1/caf%C3%A9/a%20b;c",
        "//api/v1/sites",
    ],
)
def test_the_next_link_is_the_one_drf_writes(path):
    links = []
    for pagination in (ApiPagination(), PageNumberPagination()):
        pagination.page_size = 5
        pagination.paginate_queryset(list(range(20)), Request(APIRequestFactory().get(path)))
        links.append(pagination.get_next_link())
    assert links[0] == links[1]
