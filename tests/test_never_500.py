"""The lows of the security audit (issue 19): hostile input gets a 4xx in the documented shape, never a 500;
no open redirect; no internal address in a refusal; an expiring token mints no permanent one; 401s are
throttled; e-mail channels reach only Internet domains."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from scanner import notifications, services
from scanner.engine.http.redirects import probe_http
from scanner.engine.results import ScanSettings
from scanner.models import Alert, Channel, Site
from scanner.netpolicy import NetworkPolicy, TargetRefused
from webui.api.tokens import token_create

pytestmark = pytest.mark.django_db


def anonymous() -> APIClient:
    return APIClient(raise_request_exception=False)


def with_token(secret: str) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


# --- Bodies ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/token", "/api/v1/scans"])
def test_deeply_nested_json_is_a_400(alice, url):
    client = with_token(token_create(user=alice, name="t")[1]) if url == "/api/v1/scans" else anonymous()
    response = client.post(url, data="[" * 30_000 + "]" * 30_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_json_nested_past_the_depth_limit_is_a_400_even_when_it_parses(alice):
    client = with_token(token_create(user=alice, name="t")[1])
    body = {"host": "shop.example"}
    for _ in range(100):
        body = {"x": body}
    response = client.post("/api/v1/scans", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and "nests deeper" in response.json()["error"]["message"]


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_10_mb_body_gets_the_documented_413_json_error(content_type):
    response = anonymous().post("/api/v1/token", data=b"x" * (10 * 1024 * 1024), content_type=content_type)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "payload_too_large"


# --- Dashboard URLs and parameters ---------------------------------------------------------------------------


def test_a_share_link_with_a_nul_byte_is_a_404(client):
    client.raise_request_exception = False
    assert client.get("/r/%00" + "a" * 40 + "/").status_code == 404


@pytest.mark.parametrize("query", ["site=²", "portfolio=²", "sites=²,1", "site=99999999999999999999", "sites=1,-2"])
def test_scan_status_with_a_non_ascii_or_huge_id_is_a_400(client, alice, query):
    client.force_login(alice)
    client.raise_request_exception = False
    response = client.get(f"/scan-status.json?{query}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_scan_status_with_plain_ids_still_answers(client, alice):
    site = Site.objects.create(owner=alice, hostname="shop.example")
    client.force_login(alice)
    assert client.get(f"/scan-status.json?site={site.pk}&sites={site.pk}").status_code == 200


@pytest.fixture
def alert(alice):
    site = Site.objects.create(owner=alice, hostname="shop.example")
    return Alert.objects.create(site=site, kind=Alert.Kind.GRADE_DROPPED, state_key="A->C", message="dropped")


@pytest.mark.parametrize(
    "next_url", ["foo", "https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"]
)
def test_acknowledging_an_alert_never_redirects_off_site_nor_fails(client, alice, alert, next_url):
    client.force_login(alice)
    client.raise_request_exception = False
    response = client.post(reverse("dashboard:acknowledge_alert", args=[alert.pk]), {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:alerts")


def test_acknowledging_an_alert_returns_to_a_page_of_this_site(client, alice, alert):
    client.force_login(alice)
    response = client.post(reverse("dashboard:acknowledge_alert", args=[alert.pk]), {"next": "/alerts/?status=open"})
    assert response["Location"] == "/alerts/?status=open"


# --- What the HTTP probe and "Send test" do with a hostile Location ------------------------------------------


@pytest.fixture
def redirecting_to():
    servers = []

    def start(location: str) -> int:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_port

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("location", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>"])
def test_a_script_location_is_a_clear_http_finding_not_an_internal_error(redirecting_to, location):
    port = redirecting_to(location)
    result = probe_http("site.test", 443, port, lambda host: "127.0.0.1", ScanSettings(http_timeout=3), with_hsts=False)
    assert "redirects to a non-HTTP URL" in result.error
    assert "InvalidURL" not in result.error


def test_send_test_to_a_webhook_answering_a_script_location_records_a_failure(settings, alice, redirecting_to):
    settings.SCANNER_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    port = redirecting_to("javascript:alert(1)")
    channel = services.channel_create(owner=alice, kind="slack", target=f"http://127.0.0.1:{port}/hook")
    error = notifications.send_test(channel)
    assert error and "InvalidURL" not in error
    channel.refresh_from_db()
    assert channel.last_test_error == error


# --- Refusals, tokens, 401s, e-mail channels ----------------------------------------------------------------


def test_a_refusal_does_not_name_the_internal_address_a_name_resolves_to():
    policy = NetworkPolicy(allowed_networks=[], pins={"intranet.example": "10.20.30.40"})
    with pytest.raises(TargetRefused) as refused:
        policy.check_address("intranet.example", "10.20.30.40")
    assert "10.20.30.40" not in str(refused.value)
    assert "private" in str(refused.value)


def test_the_api_refusal_of_an_internal_name_does_not_echo_its_address(settings, alice):
    settings.SCANNER_ALLOWED_NETWORKS = []
    settings.SCANNER_RESOLVE = ["intranet.example:10.20.30.40"]
    client = with_token(token_create(user=alice, name="t")[1])
    response = client.post("/api/v1/scans", {"host": "intranet.example"}, format="json")
    assert response.status_code == 400
    assert "10.20.30.40" not in response.content.decode()


def test_an_expiring_token_cannot_mint_a_token_without_expiry(alice):
    client = with_token(token_create(user=alice, name="short", expires_in_days=1)[1])
    response = client.post("/api/v1/tokens", {"name": "forever"}, format="json")
    assert response.status_code == 201
    assert response.json()["expiry"] is not None
    from datetime import datetime, timedelta

    from django.utils import timezone

    assert datetime.fromisoformat(response.json()["expiry"]) <= timezone.now() + timedelta(days=1)


def test_an_expiring_token_cannot_mint_a_longer_lived_one(alice):
    client = with_token(token_create(user=alice, name="short", expires_in_days=1)[1])
    response = client.post("/api/v1/tokens", {"name": "longer", "expires_in_days": 30}, format="json")
    assert response.status_code == 400 and "expires_in_days" in response.json()["error"]["fields"]


def test_a_token_without_expiry_still_mints_any(alice):
    client = with_token(token_create(user=alice, name="admin")[1])
    assert client.post("/api/v1/tokens", {"name": "forever"}, format="json").json()["expiry"] is None


def test_401s_are_throttled_per_address(settings):
    settings.SCANNER_API_REQUESTS_PER_ADDRESS = "3/min"
    guesses = [with_token(f"hsc_guess{n}").get("/api/v1/sites").status_code for n in range(4)]
    assert guesses == [401, 401, 401, 429]
    assert anonymous().get("/api/v1/sites").status_code == 429  # no header at all counts the same address


@pytest.mark.parametrize("address", ["a@[10.0.0.1]", "root@localhost", "x@[IPv6:::1]", "me@intranet"])
def test_an_email_channel_must_be_an_internet_domain(alice, address):
    with pytest.raises(services.ScanRequestError):
        services.channel_create(owner=alice, kind="email", target=address)
    assert not Channel.objects.exists()


def test_the_account_email_must_be_an_internet_domain(alice):
    with pytest.raises(services.ScanRequestError):
        services.account_set_email(alice, "root@localhost")


@pytest.mark.parametrize(
    "url", ["/sites/99999999999999999999/", "/portfolios/9223372036854775808/", "/badge/99999999999999999999.svg"]
)
def test_an_id_past_the_databases_range_in_a_dashboard_url_is_a_404(client, alice, url):
    client.force_login(alice)
    client.raise_request_exception = False
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/sites/99999999999999999999", "/api/v1/scans/9223372036854775808"])
def test_an_id_past_the_databases_range_in_an_api_url_is_a_404(alice, url):
    response = with_token(token_create(user=alice, name="t")[1]).get(url)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_duplicate_portfolio_name_is_a_409_conflict(alice):
    client = with_token(token_create(user=alice, name="t")[1])
    client.post("/api/v1/portfolios", {"name": "Shops"}, format="json")
    response = client.post("/api/v1/portfolios", {"name": "Shops"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "duplicate"
