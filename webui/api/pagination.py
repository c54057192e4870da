"""Pages of the API's lists (DRF's page-number pagination) and the schema of one page."""

from __future__ import annotations

import functools

from django.core.paginator import Page, Paginator
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class ListPage(Page):
    """Django's Page, iterated as the list it reads its rows into. DRF copies a page with list(page), and a Page
    iterates as a Sequence: one __getitem__, with its checks, per row (about 5 % of a site-list request's CPU)."""

    def __iter__(self):
        if not isinstance(self.object_list, list):
            self.object_list = list(self.object_list)  # what Page.__getitem__ does on first use
        return iter(self.object_list)


class ListPaginator(Paginator):
    def _get_page(self, *args, **kwargs) -> ListPage:
        return ListPage(*args, **kwargs)


class ApiPagination(PageNumberPagination):
    """DRF's PageNumberPagination (same parameters, links and answers) over ListPage."""

    django_paginator_class = ListPaginator

    def get_next_link(self) -> str | None:
        """DRF's link; for a request without a query string (the usual first page) without parsing and rebuilding
        the URL only to add the page number (about 3 % of a site-list request's CPU)."""
        if self.page.has_next() and not self.request.META.get("QUERY_STRING"):
            return f"{self.request.build_absolute_uri()}?{self.page_query_param}={self.page.next_page_number()}"
        return super().get_next_link()


@functools.cache
def page_of(item_serializer: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The schema of one page of a list as ApiView.paginated answers it (DRF's PageNumberPagination): the
    total count, links to the next and previous pages, and the items."""
    return type(
        f"Paginated{item_serializer.__name__}List",
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item_serializer(many=True),
        },
    )
