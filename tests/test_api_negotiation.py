"""The API's content negotiation remembers each choice per process (webui.api.negotiation); what it chooses must
stay exactly DRF's, for every Accept header, and a refusal must never be remembered."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from tests.test_api import client_for
from webui.api import negotiation
from webui.api.negotiation import RememberedContentNegotiation

ACCEPT_HEADERS = [None, "*/*", "application/json", "application/json; indent=4", "text/html", "text/html, */*;q=0.8"]


def request_with(accept: str | None, query: str = "") -> Request:
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    return Request(APIRequestFactory().get(f"/api/v1/sites{query}", **headers))


def chosen(negotiator, accept: str | None, query: str = "") -> tuple[type, str]:
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]
    renderer, media_type = negotiator.select_renderer(request_with(accept, query), renderers)
    assert any(renderer is candidate for candidate in renderers)  # this request's own renderer, not a kept one
    return type(renderer), media_type


def outcome(negotiator, accept: str | None, query: str) -> tuple[type, str] | str:
    try:
        return chosen(negotiator, accept, query)
    except NotAcceptable:
        return "406"


@pytest.mark.parametrize("accept", ACCEPT_HEADERS)
@pytest.mark.parametrize("query", ["", "?format=api", "?format=json"])
def test_the_remembered_choice_is_drfs_choice(accept, query):
    remembered = RememberedContentNegotiation()
    first, again = outcome(remembered, accept, query), outcome(remembered, accept, query)
    assert first == again == outcome(DefaultContentNegotiation(), accept, query)


def test_an_unacceptable_accept_header_is_refused_each_time():
    for _ in range(2):
        with pytest.raises(NotAcceptable):
            chosen(RememberedContentNegotiation(), "image/png")


def test_the_memory_starts_over_past_its_limit(monkeypatch):
    monkeypatch.setattr(negotiation, "_choices", {})
    for number in range(negotiation.MAX_REMEMBERED + 10):
        chosen(RememberedContentNegotiation(), f"application/json; n={number}")
    assert len(negotiation._choices) <= negotiation.MAX_REMEMBERED


@pytest.mark.django_db
def test_the_api_answers_each_client_in_the_type_it_asked_for(alice):
    api = client_for(alice)
    for _ in range(2):
        assert api.get("/api/v1/sites", HTTP_ACCEPT="text/html")["Content-Type"].startswith("text/html")
        assert api.get("/api/v1/sites", HTTP_ACCEPT="application/json")["Content-Type"] == "application/json"
