"""Change tracking between scans, alerts raised once per condition, signed webhook delivery, public badges."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest
from django.core import mail

from scanner import services
from scanner.changes import compare_reports
from scanner.models import Alert, Scan, Site, WebhookEndpoint
from scanner.tasks import deliver_alert


def report(grade="A", findings=(), fingerprint="aa", subject="CN=shop.example", days=200, protocols=("TLSv1.3",)):
    return {
        "grade": {"security": grade},
        "certificate": {"subject": subject, "sha256_fingerprint": fingerprint, "days_to_expiry": days},
        "protocols": {name: name in protocols for name in ("TLSv1.0", "TLSv1.2", "TLSv1.3")},
        "findings": [{"id": finding_id} for finding_id in findings],
    }


# --- compare_reports ---------------------------------------------------------


def test_a_worse_grade_is_a_drop():
    changes = compare_reports(report(grade="A"), report(grade="C"))
    assert (changes["grade_before"], changes["grade_after"], changes["direction"]) == ("A", "C", "down")


def test_a_better_grade_is_a_rise_and_an_equal_one_is_the_same():
    assert compare_reports(report(grade="B"), report(grade="A+"))["direction"] == "up"
    assert compare_reports(report(grade="B"), report(grade="B"))["direction"] == "same"


def test_findings_are_split_into_new_and_fixed():
    changes = compare_reports(report(findings=("hsts.missing", "tls.old")), report(findings=("tls.old", "cert.weak")))
    assert changes["findings_new"] == ["cert.weak"]
    assert changes["findings_fixed"] == ["hsts.missing"]


def test_a_new_certificate_for_the_same_subject_is_a_renewal():
    assert compare_reports(report(fingerprint="aa"), report(fingerprint="bb"))["certificate"] == "renewed"
    assert compare_reports(report(), report(fingerprint="bb", subject="CN=other"))["certificate"] == "replaced"
    assert compare_reports(report(), report())["certificate"] == "unchanged"


def test_protocols_added_and_removed():
    changes = compare_reports(report(protocols=("TLSv1.0", "TLSv1.2")), report(protocols=("TLSv1.2", "TLSv1.3")))
    assert changes["protocols_added"] == ["TLSv1.3"]
    assert changes["protocols_removed"] == ["TLSv1.0"]


def test_a_first_scan_compares_against_nothing():
    changes = compare_reports(None, report(grade="A"))
    assert changes["first_scan"] is True
    assert changes["direction"] == "same"


# --- Storing scans raises alerts once ----------------------------------------


@pytest.fixture
def site(django_user_model):
    owner = django_user_model.objects.create_user("owner", email="owner@example.com", password="pw")
    return Site.objects.create(owner=owner, hostname="shop.example")


def store(site: Site, document: dict | None, error: str | None = None) -> Scan:
    scan = Scan.objects.create(site=site, status=Scan.Status.RUNNING)
    grade = (document or {}).get("grade", {}).get("security")
    result = SimpleNamespace(error=error, ip="192.0.2.1")
    grades = SimpleNamespace(
        security=grade, security_ignoring_trust=grade, score=80, seo_score=None, seo_grade=None, findings=()
    )
    return services.store_outcome(scan, result, grades, document)


@pytest.mark.django_db
def test_each_finished_scan_stores_its_changes(site):
    store(site, report(grade="A", findings=("a",)))
    second = store(site, report(grade="B", findings=("b",)))
    second.refresh_from_db()
    assert second.changes["direction"] == "down"
    assert second.changes["findings_new"] == ["b"]


@pytest.mark.django_db
def test_an_expiring_certificate_alerts_once_across_unchanged_rescans(site, settings):
    settings.SCANNER_ALERT_EXPIRY_DAYS = 21
    for _ in range(3):
        store(site, report(days=10))
    assert list(Alert.objects.values_list("kind", flat=True)) == ["cert_expiring"]

    store(site, report(days=5, fingerprint="renewed-but-still-short"))  # a new certificate is a new condition
    assert Alert.objects.filter(kind="cert_expiring").count() == 2


@pytest.mark.django_db
def test_a_grade_drop_alerts_once_and_unchanged_rescans_do_not_repeat_it(site):
    store(site, report(grade="A"))
    store(site, report(grade="C"))
    store(site, report(grade="C"))
    alert = Alert.objects.get()
    assert alert.kind == "grade_dropped"
    assert "from A to C" in alert.message


@pytest.mark.django_db
def test_two_failures_in_a_row_alert_that_the_site_is_unreachable_once(site):
    store(site, report())
    store(site, None, error="connection refused")
    assert not Alert.objects.exists()
    store(site, None, error="connection refused")
    store(site, None, error="connection refused")
    assert list(Alert.objects.values_list("kind", flat=True)) == ["unreachable"]


@pytest.mark.django_db
def test_scans_ended_by_a_crash_or_time_limit_alert_that_the_site_is_unreachable_once(site):
    store(site, report())
    for reason in ("The scan stopped on an internal error: RuntimeError: boom", "The scan exceeded 240 s"):
        running = Scan.objects.create(site=site, status=Scan.Status.RUNNING)
        services.fail_scan(running.pk, reason)
    services.fail_scan(Scan.objects.create(site=site, status=Scan.Status.RUNNING).pk, "crashed again")

    [alert] = Alert.objects.all()
    assert alert.kind == "unreachable"
    assert "exceeded 240 s" in alert.message


# --- Webhook delivery --------------------------------------------------------


class Receiver:
    """A local HTTP server answering with `statuses` in turn (then 200), recording each request."""

    def __init__(self, statuses=(), ip="127.0.0.1", host=None):
        self.statuses = list(statuses)
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer((ip, 0), Handler)
        self.url = f"http://{host or ip}:{self.server.server_port}/hook"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def an_alert(site: Site) -> Alert:
    return Alert.objects.create(site=site, kind=Alert.Kind.GRADE_DROPPED, state_key="A->C", message="dropped")


def expected_signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def loopback_webhooks_allowed(settings):
    """The test receivers listen on 127.0.0.1, which the network policy refuses by default."""
    settings.SCANNER_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    return settings


@pytest.mark.django_db
def test_a_webhook_receives_the_alert_signed_with_the_endpoint_secret(site, loopback_webhooks_allowed):
    alert = an_alert(site)
    with Receiver() as receiver:
        WebhookEndpoint.objects.create(owner=site.owner, url=receiver.url, secret="s3cret")
        deliver_alert.apply(args=[alert.pk])

    [(headers, body)] = receiver.requests
    assert headers["X-Scanner-Signature"] == expected_signature(body, "s3cret")
    assert json.loads(body)["kind"] == "grade_dropped"
    assert json.loads(body)["site"]["host"] == "shop.example"
    alert.refresh_from_db()
    assert alert.delivered_at is not None
    assert [message.to for message in mail.outbox] == [["owner@example.com"]]


@pytest.mark.django_db
def test_a_webhook_answering_500_is_retried_until_it_accepts(site, loopback_webhooks_allowed):
    alert = an_alert(site)
    with Receiver(statuses=[500, 503]) as receiver:
        WebhookEndpoint.objects.create(owner=site.owner, url=receiver.url, secret="s3cret")
        deliver_alert.apply(args=[alert.pk])

    assert len(receiver.requests) == 3
    assert len({body for _, body in receiver.requests}) == 1
    alert.refresh_from_db()
    assert alert.delivered_at is not None
    assert len(mail.outbox) == 1  # email is not repeated by webhook retries


@pytest.mark.django_db
def test_a_webhook_to_a_loopback_address_is_refused_and_not_retried(site, settings):
    settings.SCANNER_ALLOWED_NETWORKS = []
    alert = an_alert(site)
    with Receiver() as receiver:
        WebhookEndpoint.objects.create(owner=site.owner, url=receiver.url, secret="s3cret")
        outcome = deliver_alert.apply(args=[alert.pk])

    assert outcome.get() == "refused"
    assert receiver.requests == []
    alert.refresh_from_db()
    assert alert.delivered_at is None
    assert alert.delivery_error.startswith("refused: ")
    assert "loopback" in alert.delivery_error


@pytest.mark.django_db
def test_a_webhook_name_rebinding_to_an_internal_address_is_never_connected_there(site, monkeypatch):
    from tests.test_outbound import CountingListener, RebindingPolicy

    # The name's first answer is approved (127.0.0.2 stands in for a public address), its second points at an
    # internal service (127.0.0.3, refused): the delivery goes to the first, and the second is never connected to.
    alert = an_alert(site)
    with Receiver(ip="127.0.0.2", host="hooks.rebind.test") as receiver:
        port = receiver.server.server_port
        with CountingListener("127.0.0.3", port) as internal:
            policy = RebindingPolicy(["127.0.0.2", "127.0.0.3", "127.0.0.3"], allowed=["127.0.0.2/32"])
            monkeypatch.setattr("scanner.config.network_policy", lambda: policy)
            WebhookEndpoint.objects.create(owner=site.owner, url=receiver.url, secret="s3cret")
            outcome = deliver_alert.apply(args=[alert.pk])

    assert outcome.get() == "delivered"
    assert len(receiver.requests) == 1
    assert internal.accepted == 0


@pytest.mark.django_db
def test_a_webhook_reply_is_read_only_up_to_its_cap(site, loopback_webhooks_allowed):
    from tests.lab.servers import HostileHttpServer

    alert = an_alert(site)
    with HostileHttpServer("endless") as receiver:
        WebhookEndpoint.objects.create(owner=site.owner, url=receiver.url, secret="s3cret")
        outcome = deliver_alert.apply(args=[alert.pk])

    assert outcome.get() == "delivered"
    assert receiver.bytes_sent < 16 * 1024 * 1024  # an endless reply: the client stopped after 64 KiB


def test_the_delivery_task_retries_with_exponential_backoff_on_server_and_connection_errors():
    from scanner.alerts import WebhookServerError, WebhookUnreachable

    assert set(deliver_alert.autoretry_for) == {WebhookServerError, WebhookUnreachable}
    assert deliver_alert.max_retries == 5
    assert deliver_alert.retry_backoff


# --- Badge ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_private_site_has_no_badge(client, site):
    assert client.get(f"/badge/{site.pk}.svg").status_code == 404


@pytest.mark.django_db
def test_a_public_badge_shows_the_latest_grade(client, site):
    store(site, report(grade="A+"))
    Site.objects.filter(pk=site.pk).update(badge_public=True)

    response = client.get(f"/badge/{site.pk}.svg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert ">A+</text>" in response.content.decode()
