"""A web process reuses a token it checked for a few seconds (no queries), yet a revoked token, or one of a
deactivated account, is refused on the very next request.

Revocation reaches the reuse only through the token generation in the shared cache (webui.api.tokens), never
through this process's memory, so these in-process requests take the same path as another gunicorn worker's."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from webui.api.models import ApiToken
from webui.api.tokens import token_create, token_revoke

pytestmark = pytest.mark.django_db


def with_token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def token_queries(client: APIClient) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/sites").status_code == 200
    return [query["sql"] for query in queries if "api_apitoken" in query["sql"]]


def test_a_token_checked_moments_ago_is_not_read_again(alice):
    _, secret = token_create(user=alice, name="script")
    client = with_token(secret)
    assert token_queries(client)  # the first request checks it in the database
    assert token_queries(client) == []


def test_with_no_reuse_configured_every_request_reads_the_token(settings, alice):
    settings.SCANNER_API_TOKEN_CACHE_SECONDS = 0
    _, secret = token_create(user=alice, name="script")
    client = with_token(secret)
    token_queries(client)
    assert token_queries(client)


def test_a_revoked_token_is_refused_on_the_very_next_request(alice):
    token, secret = token_create(user=alice, name="doomed")
    client = with_token(secret)
    assert client.get("/api/v1/sites").status_code == 200
    assert token_revoke(user=alice, uid=token.uid)
    assert client.get("/api/v1/sites").status_code == 401


def test_a_token_deleted_in_the_admin_is_refused_on_the_very_next_request(alice):
    token, secret = token_create(user=alice, name="doomed")
    client = with_token(secret)
    assert client.get("/api/v1/sites").status_code == 200
    ApiToken.objects.get(pk=token.pk).delete()  # any path that deletes the row, not only the token service
    assert client.get("/api/v1/sites").status_code == 401


def test_a_deactivated_accounts_token_is_refused_on_the_very_next_request(alice):
    _, secret = token_create(user=alice, name="script")
    client = with_token(secret)
    assert client.get("/api/v1/sites").status_code == 200
    alice.is_active = False
    alice.save()
    assert client.get("/api/v1/sites").status_code == 401


def test_a_remembered_token_is_refused_once_it_expires(alice):
    token, secret = token_create(user=alice, name="short", expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() + timedelta(seconds=1))
    client = with_token(secret)
    assert client.get("/api/v1/sites").status_code == 200
    time.sleep(1.2)
    assert client.get("/api/v1/sites").status_code == 401


def test_a_wrong_token_is_refused_every_time(alice):
    _, secret = token_create(user=alice, name="script")
    client = with_token(secret[:-4] + "AAAA")
    assert [client.get("/api/v1/sites").status_code for _ in range(2)] == [401, 401]
