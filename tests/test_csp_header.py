"""The Content-Security-Policy header built once per process (webui.csp_header) is byte for byte what django-csp's
own middleware sends, for the usual pages and for every response django-csp would treat differently."""

from __future__ import annotations

import re

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.decorators import csp_exempt, csp_update
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from tests.test_api import client_for
from webui import csp_header
from webui.csp_header import StaticPolicyCSPMiddleware

OURS = "webui.csp_header.StaticPolicyCSPMiddleware"
DJANGO_CSP = "csp.middleware.CSPMiddleware"
NONCE = re.compile(r"'nonce-[^']+'")


def with_django_csp() -> list[str]:
    assert OURS in settings.MIDDLEWARE
    return [DJANGO_CSP if name == OURS else name for name in settings.MIDDLEWARE]


def policy_headers(response) -> tuple[str | None, str | None]:
    """Both policy headers, each nonce (new on every response) written as one placeholder."""
    return tuple(
        NONCE.sub("'nonce-N'", response[name]) if name in response else None for name in (HEADER, HEADER_REPORT_ONLY)
    )


def plain_view(request):
    return HttpResponse("plain")


def through(middleware_class, view, path: str = "/anything/"):
    return middleware_class(view)(RequestFactory().get(path))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/sites", "/api/redoc/", "/nope"])
def test_each_page_gets_the_policy_django_csp_would_send(alice, path):
    ours = client_for(alice).get(path)
    with override_settings(MIDDLEWARE=with_django_csp()):
        theirs = client_for(alice).get(path)
    assert ours.status_code == theirs.status_code
    assert policy_headers(ours) == policy_headers(theirs)
    assert "default-src 'none'" in ours[HEADER]


@pytest.mark.django_db
def test_the_redoc_page_gets_the_nonce_its_styles_carry(alice):
    client = Client()
    client.force_login(alice)
    response = client.get("/api/redoc/")
    nonce = re.search(r'data-nonce="([^"]+)"', response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in response[HEADER]


def test_a_view_with_csp_update_gets_django_csps_policy_with_the_update():
    view = csp_update({"img-src": "https://images.example"})(plain_view)
    ours = through(StaticPolicyCSPMiddleware, view)
    assert policy_headers(ours) == policy_headers(through(CSPMiddleware, view))
    assert "https://images.example" in ours[HEADER]


def test_a_csp_exempt_view_gets_no_policy():
    assert HEADER not in through(StaticPolicyCSPMiddleware, csp_exempt()(plain_view))


def test_a_report_only_policy_is_sent_as_django_csp_sends_it():
    report_only = {"DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-reports/"}}
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=report_only):
        ours = through(StaticPolicyCSPMiddleware, plain_view)
        assert policy_headers(ours) == policy_headers(through(CSPMiddleware, plain_view))
    assert ours[HEADER_REPORT_ONLY] == "default-src 'self'; report-uri /csp-reports/"


def test_an_excluded_path_prefix_gets_no_policy():
    policy = {**settings.CONTENT_SECURITY_POLICY, "EXCLUDE_URL_PREFIXES": ["/excluded/"]}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        assert HEADER not in through(StaticPolicyCSPMiddleware, plain_view, "/excluded/page")
        assert HEADER in through(StaticPolicyCSPMiddleware, plain_view, "/included/page")


def test_a_changed_policy_setting_is_sent_from_the_next_response():
    through(StaticPolicyCSPMiddleware, plain_view)  # the settings' policy, now built
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["'self'"]}}):
        assert through(StaticPolicyCSPMiddleware, plain_view)[HEADER] == "default-src 'self'"
    assert "default-src 'none'" in through(StaticPolicyCSPMiddleware, plain_view)[HEADER]


def test_the_usual_policy_is_built_once_not_per_response(monkeypatch):
    built = []

    def counting_build_policy(*args, **kwargs):
        built.append(kwargs)
        return original(*args, **kwargs)

    original = csp_header.build_policy
    monkeypatch.setattr(csp_header, "build_policy", counting_build_policy)
    monkeypatch.setattr(csp_header, "_default_policy", None)
    for _ in range(3):
        assert "default-src 'none'" in through(StaticPolicyCSPMiddleware, plain_view)[HEADER]
    assert len(built) == 2  # the enforced and the report-only policy, once each


def test_asking_for_a_nonce_after_the_header_was_written_is_an_error():
    request = RequestFactory().get("/anything/")
    StaticPolicyCSPMiddleware(plain_view)(request)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
