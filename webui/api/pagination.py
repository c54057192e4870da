"""The schema of a page of a list, as ApiView.paginated answers it."""

from __future__ import annotations

import functools

from rest_framework import serializers


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
