"""The API's request rates (per user and per token) are counted together: one cache read and one cache write
per request, whatever the number of limits, and still every limit is enforced."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from webui.api.tokens import token_create

pytestmark = pytest.mark.django_db


class CountingCache:
    """The real cache (Redis), with its calls counted by method."""

    def __init__(self, real) -> None:
        self.real = real
        self.calls: list[str] = []

    def __getattr__(self, name: str):
        attribute = getattr(self.real, name)
        if callable(attribute):

            def counted(*args, **kwargs):
                self.calls.append(name)
                return attribute(*args, **kwargs)

            return counted
        return attribute


@pytest.fixture
def client(settings, alice) -> APIClient:
    settings.SCANNER_API_REQUESTS_PER_USER = "100/min"
    settings.SCANNER_API_REQUESTS_PER_TOKEN = "2/min"
    _, secret = token_create(user=alice, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_both_request_rates_cost_one_cache_read_and_one_write(client, monkeypatch):
    assert client.get("/api/v1/sites").status_code == 200  # the token is checked and remembered
    counting = CountingCache(cache)
    monkeypatch.setattr("webui.api.throttling.cache", counting)
    assert client.get("/api/v1/sites").status_code == 200
    assert counting.calls == ["get_many", "set_many"]


def test_the_tighter_limit_still_refuses_with_its_own_message(client):
    assert [client.get("/api/v1/sites").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/v1/sites")
    assert refused.status_code == 429
    assert refused.json()["error"]["message"].startswith("Too many API requests with this token.")
    assert int(refused["Retry-After"]) > 0
