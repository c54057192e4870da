"""API tokens: hashed at rest, shown once, named, listed by prefix and last use, revocable, expiring, revoked on
password change; managed in the API and the dashboard; never shown by the admin."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from webui.api.models import ApiToken
from webui.api.tokens import token_create

pytestmark = pytest.mark.django_db


def with_token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def login_for_token(client: APIClient, username: str, password: str, **extra):
    body = {"username": username, "password": password, **extra}
    return client.post("/api/v1/token", data=json.dumps(body), content_type="application/json")


def test_password_login_returns_a_new_working_token_each_time(alice):
    first = login_for_token(APIClient(), "alice", "alice-pass-123")
    second = login_for_token(APIClient(), "alice", "alice-pass-123")
    assert first.status_code == second.status_code == 200
    assert first.json()["token"] != second.json()["token"]
    for response in (first, second):
        assert with_token(response.json()["token"]).get("/api/v1/sites").status_code == 200


def test_password_login_still_takes_a_form_post(alice):
    response = APIClient().post("/api/v1/token", {"username": "alice", "password": "alice-pass-123"})
    assert response.status_code == 200
    assert with_token(response.json()["token"]).get("/api/v1/sites").status_code == 200


def test_password_login_with_a_wrong_password_is_a_400_in_the_error_shape(alice):
    response = login_for_token(APIClient(), "alice", "wrong")
    assert response.status_code == 400
    assert response.json()["error"]["message"]
    assert not ApiToken.objects.exists()


def test_a_token_is_stored_only_as_a_digest(alice):
    token, secret = token_create(user=alice, name="ci")
    row = ApiToken.objects.values().get(pk=token.pk)
    assert all(secret not in str(value) for value in row.values())
    assert secret.startswith(row["token_key"]) and len(row["token_key"]) < len(secret) // 2


def test_listing_shows_name_prefix_and_last_use_but_never_the_token(alice):
    _, secret = token_create(user=alice, name="nightly report")
    client = with_token(secret)
    client.get("/api/v1/sites")
    listing = client.get("/api/v1/tokens").json()["results"]
    assert [(item["name"], item["current"]) for item in listing] == [("nightly report", True)]
    assert secret.startswith(listing[0]["prefix"])
    assert listing[0]["last_used"] is not None
    assert secret not in json.dumps(listing)


def test_a_token_created_in_the_api_is_named_and_can_expire(alice):
    _, secret = token_create(user=alice, name="admin")
    response = with_token(secret).post(
        "/api/v1/tokens", data=json.dumps({"name": "deploy", "expires_in_days": 30}), content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "deploy" and body["token"]
    expiry = ApiToken.objects.get(uid=body["id"]).expiry
    assert timedelta(days=29) < expiry - timezone.now() <= timedelta(days=30)


def test_a_revoked_token_stops_working(alice):
    _, keeper = token_create(user=alice, name="keeper")
    doomed, secret = token_create(user=alice, name="doomed")
    assert with_token(keeper).delete(f"/api/v1/tokens/{doomed.uid}").status_code == 204
    assert with_token(secret).get("/api/v1/sites").status_code == 401
    assert with_token(keeper).get("/api/v1/sites").status_code == 200


def test_revoking_the_current_token_logs_the_script_out(alice):
    _, secret = token_create(user=alice, name="script")
    assert with_token(secret).delete("/api/v1/tokens/current").status_code == 204
    assert with_token(secret).get("/api/v1/sites").status_code == 401


def test_another_users_token_cannot_be_revoked(alice, bob):
    theirs, their_secret = token_create(user=bob, name="bob's")
    _, mine = token_create(user=alice, name="alice's")
    assert with_token(mine).delete(f"/api/v1/tokens/{theirs.uid}").status_code == 404
    assert with_token(their_secret).get("/api/v1/sites").status_code == 200


def test_an_expired_token_is_refused(alice):
    token, secret = token_create(user=alice, name="short", expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert with_token(secret).get("/api/v1/sites").status_code == 401


def test_changing_the_password_revokes_every_token(alice):
    _, secret = token_create(user=alice, name="laptop")
    alice.set_password("a-new-pass-phrase-77")
    alice.save()
    assert with_token(secret).get("/api/v1/sites").status_code == 401
    assert not ApiToken.objects.filter(user=alice).exists()


def test_changing_the_password_in_the_dashboard_revokes_every_token(client, alice):
    _, secret = token_create(user=alice, name="laptop")
    client.force_login(alice)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "alice-pass-123",
            "new_password1": "another-pass-phrase-9",
            "new_password2": "another-pass-phrase-9",
        },
    )
    assert response.status_code == 302
    assert with_token(secret).get("/api/v1/sites").status_code == 401


def test_saving_a_user_without_a_new_password_keeps_the_tokens(alice):
    _, secret = token_create(user=alice, name="laptop")
    alice.first_name = "Alice"
    alice.save()
    assert with_token(secret).get("/api/v1/sites").status_code == 200


def test_the_dashboard_shows_a_new_token_once(client, alice):
    client.force_login(alice)
    created = client.post(reverse("dashboard:tokens"), {"name": "ci", "expires_in_days": "90"})
    assert created.status_code == 200
    secret = created.context["secret"]
    assert secret in created.content.decode()
    assert with_token(secret).get("/api/v1/sites").status_code == 200
    again = client.get(reverse("dashboard:tokens")).content.decode()
    assert "ci" in again and secret not in again and secret[:15] in again


def test_the_dashboard_refuses_a_token_without_a_name(client, alice):
    client.force_login(alice)
    response = client.post(reverse("dashboard:tokens"), {"name": "", "expires_in_days": ""})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_the_dashboard_revokes_a_token(client, alice):
    token, secret = token_create(user=alice, name="old")
    client.force_login(alice)
    assert client.post(reverse("dashboard:token_revoke", args=[token.uid])).status_code == 302
    assert with_token(secret).get("/api/v1/sites").status_code == 401


def test_the_dashboard_does_not_revoke_another_users_token(client, alice, bob):
    theirs, _ = token_create(user=bob, name="bob's")
    client.force_login(alice)
    assert client.post(reverse("dashboard:token_revoke", args=[theirs.uid])).status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()


def test_the_admin_never_shows_a_token(client, alice, django_user_model):
    token, secret = token_create(user=alice, name="ci")
    admin = django_user_model.objects.create_superuser("root", password="root-pass-12345")
    client.force_login(admin)
    listing = client.get(reverse("admin:api_apitoken_changelist"))
    assert listing.status_code == 200
    assert "ci" in listing.content.decode()
    detail = client.get(reverse("admin:api_apitoken_change", args=[token.pk])).content.decode()
    for page in (listing.content.decode(), detail):
        assert secret not in page
    assert client.get(reverse("admin:api_apitoken_add")).status_code == 403
    # The admin addresses rows by their digest (knox's primary key); a digest is not a token.
    assert with_token(token.digest).get("/api/v1/sites").status_code == 401


def test_old_plain_text_tokens_are_carried_over_hashed_and_their_table_dropped(alice):
    import importlib

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    migration = importlib.import_module("webui.api.migrations.0002_hash_drf_authtokens")
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint, created timestamptz)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, now())", [old_key, alice.pk])
    historical = MigrationExecutor(connection).loader.project_state(("api", "0001_initial")).apps
    with connection.schema_editor() as editor:
        migration.hash_old_tokens(historical, editor)

    assert "authtoken_token" not in connection.introspection.table_names()
    assert all(old_key not in str(value) for row in ApiToken.objects.values() for value in row.values())
    assert with_token(old_key).get("/api/v1/sites").status_code == 200
