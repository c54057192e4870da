"""Absolute links to API objects. A page of 50 rows needs 100 of them: each route is reversed once per process
(for each script prefix and URLconf), made absolute once per request, and every row only puts its id in between."""

from __future__ import annotations

import functools

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

# Stands for the id while a route is reversed; any int the `<int:pk>` converter takes and no route contains.
_PK_MARK = 987654321


class Links:
    def __init__(self, request: HttpRequest | None) -> None:
        self._request = request
        self._parts: dict[str, tuple[str, str]] = {}

    def to(self, name: str, pk: int) -> str:
        """The link to route `name` for object `pk`: absolute with a request, a path without one."""
        head, tail = self.parts(name)
        return f"{head}{pk}{tail}"

    def parts(self, name: str) -> tuple[str, str]:
        """What goes before and after the id in a link to route `name` (for rows that put in many ids)."""
        parts = self._parts.get(name)
        if parts is None:
            head, _, tail = _route_path(name, with_pk=True).rpartition(str(_PK_MARK))
            parts = self._parts[name] = (self._absolute(head), tail)
        return parts

    def plain(self, name: str) -> str:
        """The link to a route without an id (a list)."""
        parts = self._parts.get(name)
        if parts is None:
            parts = self._parts[name] = (self._absolute(_route_path(name, with_pk=False)), "")
        return parts[0]

    def _absolute(self, path: str) -> str:
        return self._request.build_absolute_uri(path) if self._request is not None else path


def _route_path(name: str, *, with_pk: bool) -> str:
    # reverse() reads the script prefix and the URLconf from the current thread: both are part of the cache key,
    # so a process served under two prefixes, or a test overriding ROOT_URLCONF, never gets another's path.
    return _reversed(name, with_pk, get_script_prefix(), get_urlconf(settings.ROOT_URLCONF))


@functools.lru_cache(maxsize=128)
def _reversed(name: str, with_pk: bool, script_prefix: str, urlconf: str) -> str:
    return reverse(name, kwargs={"pk": _PK_MARK}, urlconf=urlconf) if with_pk else reverse(name, urlconf=urlconf)


def links_for(context: dict) -> Links:
    """The request's Links, kept in a serializer's context (one dict shared by every row of a list)."""
    links = context.get("links")
    if links is None:
        links = context["links"] = Links(context.get("request"))
    return links
