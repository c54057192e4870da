"""The bad-input corpus (tests/bad_inputs.py) against every way a target gets in: the API, the dashboard's
submit form and portfolio import (API and dashboard). Each entry must get a 400 with a message and leave
nothing stored; none may even be resolved, so name resolution is made to fail the test if it is attempted."""

from __future__ import annotations

import json
import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from scanner.imports import MAX_IMPORT_BYTES
from scanner.models import Portfolio, Scan, Site
from tests.bad_inputs import API_BODIES, DASHBOARD_CORPUS, HOST_CORPUS, IMPORT_CORPUS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_name_resolution(monkeypatch, settings):
    """Bad input is refused before any DNS lookup; a lookup here is itself the bug."""
    settings.SCANNER_ALLOWED_NETWORKS = []
    settings.SCANNER_RESOLVE = []

    def refuse(*args, **kwargs):
        raise AssertionError(f"name resolution attempted for {args[:1]!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def alice(django_user_model):
    # No password: hashing one per test would cost more than the thousand requests of this module.
    return django_user_model.objects.create_user("alice")


@pytest.fixture
def api(alice) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def portfolio(alice) -> Portfolio:
    return Portfolio.objects.create(owner=alice, name="main")


def assert_nothing_stored(portfolio: Portfolio | None = None) -> None:
    assert not Site.objects.exists()
    assert not Scan.objects.exists()
    if portfolio is not None:
        assert not portfolio.sites.exists()


def assert_error_shape(response) -> None:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"].strip()


@pytest.mark.parametrize("text", HOST_CORPUS)
def test_api_refuses_bad_host_with_400_and_stores_nothing(api, text):
    response = api.post("/api/v1/scans", data=json.dumps({"host": text}), content_type="application/json")
    assert response.status_code == 400, response.content
    assert_error_shape(response)
    assert_nothing_stored()


@pytest.mark.parametrize("body", API_BODIES, ids=lambda body: json.dumps(body)[:60])
def test_api_refuses_bad_scan_fields_with_400_and_stores_nothing(api, alice, body):
    Portfolio.objects.create(owner=alice, name="main")
    response = api.post("/api/v1/scans", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    assert_error_shape(response)
    assert_nothing_stored()


@pytest.mark.parametrize("text", DASHBOARD_CORPUS)
def test_dashboard_submit_refuses_bad_host_with_400_and_stores_nothing(client, alice, text):
    client.force_login(alice)
    response = client.post(reverse("dashboard:submit"), {"domains": text})
    assert response.status_code == 400
    form_errors = response.context["form"].errors.get("domains")
    assert form_errors or [message for _, message in response.context["rejected"] if message.strip()]
    assert_nothing_stored()


@pytest.mark.parametrize("line", IMPORT_CORPUS)
def test_api_import_refuses_bad_line_with_400_and_stores_nothing(api, portfolio, line):
    response = api.post(f"/api/v1/portfolios/{portfolio.pk}/import", data=line, content_type="text/plain")
    assert response.status_code == 400, response.content
    assert_error_shape(response)
    assert_nothing_stored(portfolio)


@pytest.mark.parametrize("line", IMPORT_CORPUS)
def test_dashboard_import_refuses_bad_line_with_400_and_stores_nothing(client, alice, portfolio, line):
    client.force_login(alice)
    response = client.post(reverse("dashboard:portfolio_import", args=[portfolio.pk]), {"text": line})
    assert response.status_code == 400
    assert response.context["import_form"].non_field_errors()
    assert_nothing_stored(portfolio)


def test_import_with_no_usable_line_names_each_bad_line(api, portfolio):
    response = api.post(
        f"/api/v1/portfolios/{portfolio.pk}/import", data="127.1\nexample.com,0\n", content_type="text/plain"
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "line 1" in message and "line 2" in message
    assert_nothing_stored(portfolio)


def test_dashboard_import_refuses_an_upload_over_the_limit_without_reading_it(client, alice, portfolio):
    client.force_login(alice)
    big = SimpleUploadedFile("sites.csv", b"example.com\n" * (MAX_IMPORT_BYTES // 12 + 1))
    response = client.post(reverse("dashboard:portfolio_import", args=[portfolio.pk]), {"file": big})
    assert response.status_code == 400
    assert "4 MiB" in " ".join(response.context["import_form"].non_field_errors())
    assert_nothing_stored(portfolio)


def test_api_import_over_the_limit_is_refused(api, portfolio):
    response = api.post(
        f"/api/v1/portfolios/{portfolio.pk}/import",
        data="example.com\n" * (MAX_IMPORT_BYTES // 12 + 1),
        content_type="text/plain",
    )
    assert response.status_code == 413
    assert_error_shape(response)
    assert_nothing_stored(portfolio)


def test_corpus_size_is_what_the_closing_note_reports():
    # The issue asks for the corpus size in the closing note; keep this in step when adding entries.
    assert len(HOST_CORPUS) >= 200
    assert len(set(HOST_CORPUS)) == len(HOST_CORPUS), "duplicate corpus entries"
