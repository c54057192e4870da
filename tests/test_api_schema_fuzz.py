"""Property-based fuzzing of every API operation from its own OpenAPI schema (schemathesis), with a real token:
whatever the generated input, the answer is never a 5xx, its status is one the schema documents, and its body
matches the schema (the error answers included, webui/api/schema.py).

Bounded (a few examples per operation) so the whole file runs in well under a minute in the normal suite.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from scanner.models import Portfolio, Scan, Site
from webui.api.tokens import token_create
from webui.wsgi import application

EXAMPLES_PER_OPERATION = 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def api_token(db, settings, django_user_model) -> str:
    """A user with a site, a scan and a portfolio (so generated ids sometimes exist), and a real token."""
    for name in (
        "SCANNER_API_REQUESTS_PER_USER",
        "SCANNER_API_REQUESTS_PER_TOKEN",
        "SCANNER_API_REQUESTS_PER_ADDRESS",
        "SCANNER_TOKEN_REQUESTS_PER_ADDRESS",
    ):
        setattr(settings, name, "")  # the fuzz sends hundreds of requests a minute: rates are tested elsewhere
    settings.SCANNER_ALLOWED_NETWORKS = []
    settings.SCANNER_RESOLVE = ["example.com:93.184.215.14"]
    user = django_user_model.objects.create_user("fuzz")  # no password: hashing one costs a second per operation
    site = Site.objects.create(owner=user, hostname="example.com")
    Scan.objects.create(site=site, status=Scan.Status.DONE)
    Portfolio.objects.create(owner=user, name="fuzz").sites.add(site)
    return token_create(user=user, name="fuzz")[1]


@pytest.fixture(autouse=True)
def keep_the_test_connection_open():
    """schemathesis calls the WSGI application itself, whose request signals would close the test's database
    connection (and its transaction) after each request; Django's own test client disconnects them the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure here is a bug, not a flake
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_api_operation_answers_within_its_schema(case, api_token):
    case.headers = {**(case.headers or {}), "Authorization": f"Token {api_token}"}
    response = case.call()
    case.validate_response(response, checks=CHECKS)
