"""Alerts say why: old and new grade, findings new and fixed with their titles, certificate dates, the site's
portfolio and tags and an absolute link, in the alert itself and in every channel's message (real HTTP
receivers and a real SMTP server); a bad first scan alerts; a recovery is its own alert."""

from __future__ import annotations

import json
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from scanner import services
from scanner.imports import import_sites
from scanner.models import Alert, Channel, Portfolio, Scan, Site
from scanner.tasks import deliver_alert
from tests.receivers import Receiver
from tests.test_notifications_smtp import smtp_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://scanner.example.net"
TITLES = {
    "tls.protocol.tls1_0": ("medium", "TLS 1.0 is enabled"),
    "hsts.missing": ("medium", "No HSTS header"),
    "cert.expired": ("critical", "The certificate has expired"),
}


def document(grade: str, findings=(), days: int = 200, fingerprint: str = "aa") -> dict:
    return {
        "grade": {"security": grade},
        "certificate": {
            "subject": "CN=shop.example",
            "issuer": "CN=Lab CA",
            "sha256_fingerprint": fingerprint,
            "not_before": "2026-01-01T00:00:00+00:00",
            "not_after": "2027-03-01T00:00:00+00:00",
            "days_to_expiry": days,
        },
        "protocols": {"TLSv1.3": True},
        "findings": [
            {"id": finding_id, "severity": TITLES[finding_id][0], "title": TITLES[finding_id][1]}
            for finding_id in findings
        ],
    }


def store(site: Site, doc: dict | None, error: str | None = None) -> Scan:
    scan = Scan.objects.create(site=site, status=Scan.Status.RUNNING)
    grade = (doc or {}).get("grade", {}).get("security")
    result = SimpleNamespace(error=error, ip="192.0.2.1")
    grades = SimpleNamespace(
        security=grade, security_ignoring_trust=grade, score=80, seo_score=None, seo_grade=None, findings=()
    )
    return services.store_outcome(scan, result, grades, doc)


@pytest.fixture
def site(alice, settings):
    settings.SCANNER_PUBLIC_URL = PUBLIC_URL
    settings.SCANNER_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.SCANNER_NOTIFY_TIMEOUT = 3
    portfolio = Portfolio.objects.create(owner=alice, name="Client A")
    import_sites(alice, portfolio, "shop.example,,clientA;prod\n")
    return Site.objects.get(hostname="shop.example")


def dropped_alert(site: Site) -> Alert:
    store(site, document("A", findings=("hsts.missing",)))
    store(site, document("C", findings=("tls.protocol.tls1_0",)))
    return Alert.objects.get(kind=Alert.Kind.GRADE_DROPPED)


def sent_to(kind: str, site: Site, alert: Alert, **extra) -> dict:
    with Receiver() as receiver:
        Channel.objects.create(
            owner=site.owner, kind=kind, target=receiver.url, verified_at=timezone.now(), secret="s", **extra
        )
        deliver_alert.apply(args=[alert.pk])
    [(_, body)] = receiver.requests
    return json.loads(body)


def assert_link_works(client, site: Site, url: str) -> None:
    assert url.startswith(f"{PUBLIC_URL}/")
    client.force_login(site.owner)
    assert client.get(urlsplit(url).path).status_code == 200


# --- The alert itself --------------------------------------------------------------------------------


def test_a_grade_drop_alert_says_old_and_new_grade_and_which_findings_are_new_and_fixed(site):
    alert = dropped_alert(site)
    assert "Grade: A -> C" in alert.message
    assert "New finding (medium): TLS 1.0 is enabled [tls.protocol.tls1_0]" in alert.message
    assert "Fixed (medium): No HSTS header [hsts.missing]" in alert.message
    assert alert.details["grade"] == {"before": "A", "after": "C"}


def test_an_expiring_certificate_alert_gives_the_certificate_dates(site, settings):
    settings.SCANNER_ALERT_EXPIRY_DAYS = 21
    store(site, document("A", days=9))
    alert = Alert.objects.get(kind=Alert.Kind.CERT_EXPIRING)
    assert "Certificate: valid 2026-01-01 to 2027-03-01, 9 days left" in alert.message


def test_the_alerts_page_shows_the_reason(client, site):
    dropped_alert(site)
    client.force_login(site.owner)
    html = client.get("/alerts/").content.decode()
    assert "TLS 1.0 is enabled" in html and "Grade: A -&gt; C" in html


# --- Every channel's message ---------------------------------------------------------------------------


def test_the_webhook_payload_is_versioned_and_carries_the_reason_portfolio_tags_and_link(client, site):
    body = sent_to("webhook", site, dropped_alert(site))
    assert body["version"] == 2
    assert body["grade"] == {"before": "A", "after": "C"}
    assert body["findings_new"] == [{"id": "tls.protocol.tls1_0", "severity": "medium", "title": "TLS 1.0 is enabled"}]
    assert [finding["id"] for finding in body["findings_fixed"]] == ["hsts.missing"]
    assert body["certificate"]["not_after"] == "2027-03-01T00:00:00+00:00"
    assert body["site"] == {
        "id": site.pk,
        "host": "shop.example",
        "port": 443,
        "portfolios": ["Client A"],
        "tags": ["clientA", "prod"],
    }
    assert_link_works(client, site, body["url"])


def test_slack_says_the_reason_portfolio_tags_and_links_the_report(client, site):
    body = sent_to("slack", site, dropped_alert(site))
    text = json.dumps(body["blocks"])
    assert "Grade: A -&gt; C" in text and "TLS 1.0 is enabled" in text
    assert "Portfolio: Client A" in text and "Tags: clientA, prod" in text
    link = body["blocks"][-1]["text"]["text"]
    assert_link_works(client, site, link.removeprefix("<").split("|")[0])


def test_teams_card_says_the_reason_portfolio_tags_and_links_the_report(client, site):
    body = sent_to("teams", site, dropped_alert(site))
    card = body["attachments"][0]["content"]
    assert "New finding (medium): TLS 1.0 is enabled" in card["body"][1]["text"]
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert facts == {"Site": "shop.example", "Portfolio": "Client A", "Tags": "clientA, prod"}
    assert_link_works(client, site, card["actions"][0]["url"])


def test_an_email_over_smtp_says_the_reason_portfolio_tags_and_links_the_report(client, site, smtp_server):  # noqa: F811
    Channel.objects.create(owner=site.owner, kind="email", target="ops@example.com", verified_at=timezone.now())
    deliver_alert.apply(args=[dropped_alert(site).pk])
    [envelope] = smtp_server.envelopes
    text = envelope.content.decode()
    assert "Grade: A -> C" in text and "Fixed (medium): No HSTS header" in text
    assert "Portfolio: Client A | Tags: clientA, prod" in text
    [link] = [line.strip() for line in text.splitlines() if line.startswith(PUBLIC_URL)]
    assert_link_works(client, site, link)


# --- Bad first scans --------------------------------------------------------------------------------


@pytest.mark.parametrize("grade", ["F", "T", "M"])
def test_a_first_scan_graded_f_t_or_m_alerts(site, grade):
    store(site, document(grade, findings=("cert.expired",)))
    alert = Alert.objects.get()
    assert alert.kind == Alert.Kind.FIRST_SCAN_BAD
    assert f"The first scan of shop.example was graded {grade}." in alert.message
    assert "New finding (critical): The certificate has expired" in alert.message


def test_a_first_scans_grade_line_says_first_scan_not_none_to_a_grade(site):
    store(site, document("T", findings=("cert.expired",)))
    alert = Alert.objects.get()
    assert "Grade: T (first scan)" in alert.message
    assert "none ->" not in alert.message


def test_a_first_scan_that_fails_alerts(alice):
    store(Site.objects.create(owner=alice, hostname="down.example"), None, error="connection refused")
    alert = Alert.objects.get()
    assert (alert.kind, alert.message) == (
        Alert.Kind.FIRST_SCAN_BAD,
        "The first scan of down.example failed: connection refused",
    )


def test_a_good_first_scan_raises_no_alert(site):
    store(site, document("B"))
    assert not Alert.objects.exists()


# --- Recovery ---------------------------------------------------------------------------------------------


def test_a_grade_back_up_after_a_drop_is_a_recovery_alert(site):
    dropped_alert(site)
    store(site, document("A"))
    recovery = Alert.objects.get(kind=Alert.Kind.RECOVERED)
    assert recovery.message.startswith("shop.example is back to A (the grade rose from C).")
    assert "Fixed (medium): TLS 1.0 is enabled" in recovery.message


def test_a_rise_nobody_was_alerted_about_raises_no_recovery(site):
    store(site, document("B"))
    store(site, document("A"))
    assert not Alert.objects.exists()


def test_a_site_scanned_again_after_an_outage_alert_is_reachable_again(site):
    store(site, document("A"))
    store(site, None, error="connection refused")
    store(site, None, error="connection refused")
    outage = Alert.objects.get(kind=Alert.Kind.UNREACHABLE)
    assert "Last good grade: A" in outage.message and "Grade:" not in outage.message
    store(site, document("A"))
    recovery = Alert.objects.get(kind=Alert.Kind.RECOVERED)
    assert recovery.message.startswith("shop.example is reachable again (graded A).")
    store(site, document("A"))
    assert Alert.objects.filter(kind=Alert.Kind.RECOVERED).count() == 1


def test_a_recovery_to_the_same_grade_says_the_grade_is_unchanged_not_a_to_a(site):
    store(site, document("A"))
    store(site, None, error="connection refused")
    store(site, None, error="connection refused")
    store(site, document("A"))
    recovery = Alert.objects.get(kind=Alert.Kind.RECOVERED)
    assert "Grade: A (unchanged)" in recovery.message
    assert "A -> A" not in recovery.message
