"""Dashboard views: who may see what, and how bad input is reported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from scanner import services
from scanner.models import Scan, Site

pytestmark = pytest.mark.django_db

GOOD_REPORT = {
    "grade": {"security": "A+", "security_ignoring_trust": "A+", "score": 95, "seo_score": 90, "seo_grade": "A"},
    "certificate": {
        "subject": "a.example",
        "issuer": "Test CA",
        "not_before": "2020-01-01T00:00:00+00:00",
        "not_after": "2999-01-01T00:00:00+00:00",
        "san_dns_names": ["a.example"],
    },
    "protocols": {"SSLv2": False, "SSLv3": False, "TLSv1.0": False, "TLSv1.1": False, "TLSv1.2": True, "TLSv1.3": True},
    "redirects": {
        "chain": [{"url": "http://a.example/", "status": 301, "location": "https://a.example/"}],
        "final_url": "https://a.example/",
        "loop": False,
    },
    "hsts": {"present": True, "max_age": 63072000, "include_subdomains": True, "preload": True},
    "findings": [
        {
            "id": "hsts.short",
            "area": "hsts",
            "severity": "low",
            "title": "HSTS could be longer",
            "detail": "",
            "remediation": "Raise max-age to two years.",
            "cap": None,
            "warning": True,
        },
    ],
}


def finished_site(owner, hostname: str, grade: str = "A+") -> Site:
    site = Site.objects.create(owner=owner, hostname=hostname)
    report = {**GOOD_REPORT, "grade": {**GOOD_REPORT["grade"], "security": grade}}
    scan = Scan.objects.create(site=site, status=Scan.Status.DONE, security_grade=grade, score=90, result=report)
    services.site_took_result(scan)
    site.refresh_from_db()
    return site


@pytest.mark.parametrize("name", ["overview", "submit", "scan_status"])
def test_anonymous_users_are_sent_to_login(client, name):
    response = client.get(reverse(f"dashboard:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_user_cannot_open_a_site_or_rescan(client, alice):
    site = finished_site(alice, "a.example")
    for response in (
        client.get(reverse("dashboard:site", args=[site.pk])),
        client.post(reverse("dashboard:rescan", args=[site.pk])),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert site.scans.count() == 1


def test_a_user_never_sees_another_users_site(client, alice, bob):
    alices = finished_site(alice, "alice.example")
    client.force_login(bob)
    assert client.get(reverse("dashboard:site", args=[alices.pk])).status_code == 404
    assert client.post(reverse("dashboard:rescan", args=[alices.pk])).status_code == 404
    assert "alice.example" not in client.get(reverse("dashboard:overview")).content.decode()
    status_url = reverse("dashboard:scan_status") + f"?sites={alices.pk}"
    assert client.get(status_url).json() == {"active": {}, "count": 0, "sites": {}}
    assert alices.scans.count() == 1


def test_owner_sees_report_with_grade_and_remediation(client, alice):
    site = finished_site(alice, "alice.example")
    client.force_login(alice)
    page = client.get(reverse("dashboard:site", args=[site.pk])).content.decode()
    assert "A+" in page
    assert "Raise max-age to two years." in page
    assert "TLSv1.3" in page


def test_overview_filters_by_grade_and_failing(client, alice):
    finished_site(alice, "good.example", "A+")
    finished_site(alice, "broken.example", "T")
    client.force_login(alice)
    by_grade = client.get(reverse("dashboard:overview"), {"grade": "A+"}).content.decode()
    assert "good.example" in by_grade and "broken.example" not in by_grade
    failing = client.get(reverse("dashboard:overview"), {"failing": "on"}).content.decode()
    assert "broken.example" in failing and "good.example" not in failing


def expiring_in(site: Site, days: int) -> None:
    site.latest_scan.result["certificate"]["not_after"] = (timezone.now() + timedelta(days=days, hours=1)).isoformat()
    site.latest_scan.save()
    services.site_took_result(site.latest_scan)


def test_overview_shows_days_to_certificate_expiry(client, alice):
    site = finished_site(alice, "soon.example")
    expiring_in(site, 12)
    client.force_login(alice)
    assert "in 12 days" in client.get(reverse("dashboard:overview")).content.decode()


def test_overview_filters_certificates_expiring_soon(client, alice):
    expiring_in(finished_site(alice, "soon.example"), 5)
    expiring_in(finished_site(alice, "later.example"), 200)
    client.force_login(alice)
    page = client.get(reverse("dashboard:overview"), {"expiring": "30"}).content.decode()
    assert "soon.example" in page and "later.example" not in page


def test_overview_reports_a_bad_filter_and_keeps_the_others(client, alice):
    finished_site(alice, "good.example", "A+")
    finished_site(alice, "broken.example", "T")
    client.force_login(alice)
    response = client.get(reverse("dashboard:overview"), {"expiring": "soon", "grade": "T"})
    assert response.context["filters"].errors["expiring"]
    page = response.content.decode()
    assert "broken.example" in page and "good.example" not in page


def test_overview_sorts_by_grade_worst_first(client, alice):
    finished_site(alice, "a.example", "A+")
    finished_site(alice, "b.example", "T")
    finished_site(alice, "c.example", "B")
    client.force_login(alice)
    rows = client.get(reverse("dashboard:overview"), {"sort": "grade"}).context["rows"]
    assert [row.site.hostname for row in rows] == ["b.example", "c.example", "a.example"]


def test_overview_shows_the_grade_distribution(client, alice):
    finished_site(alice, "a.example", "A+")
    finished_site(alice, "b.example", "A+")
    finished_site(alice, "c.example", "F")
    client.force_login(alice)
    distribution = client.get(reverse("dashboard:overview")).context["distribution"]
    assert [(row["grade"], row["count"]) for row in distribution] == [("A+", 2), ("F", 1)]


def test_overview_paginates(client, alice):
    Site.objects.bulk_create(Site(owner=alice, hostname=f"site{n:03}.example") for n in range(120))
    client.force_login(alice)
    first = client.get(reverse("dashboard:overview")).content.decode()
    assert "site000.example" in first and "site050.example" not in first and "Page 1 of 3" in first
    last = client.get(reverse("dashboard:overview"), {"page": 3}).content.decode()
    assert "site119.example" in last


def test_overview_empty_state(client, alice):
    client.force_login(alice)
    assert "No sites yet" in client.get(reverse("dashboard:overview")).content.decode()


def test_a_filter_that_matches_no_site_is_not_the_empty_state(client, alice):
    Site.objects.create(owner=alice, hostname="never-scanned.example")
    client.force_login(alice)
    page = client.get(reverse("dashboard:overview"), {"grade": "F"}).content.decode()
    assert "No sites yet" not in page


def test_bad_submit_lines_are_reported_individually_and_nothing_is_stored(client, alice, settings):
    settings.SCANNER_ALLOWED_NETWORKS = []
    client.force_login(alice)
    text = "bad host name\nexample.com:99999, 10.0.0.1\n\nlocalhost"
    response = client.post(reverse("dashboard:submit"), {"domains": text})
    assert response.status_code == 400
    rejected = dict(response.context["rejected"])
    assert set(rejected) == {"bad host name", "example.com:99999", "10.0.0.1", "localhost"}
    assert all(message for message in rejected.values())
    page = response.content.decode()
    for entry in rejected:
        assert entry in page
    assert not Site.objects.exists() and not Scan.objects.exists()


def test_valid_lines_are_queued_beside_rejected_ones(client, alice, lab_settings, lab):
    client.force_login(alice)
    good = lab.case("good")
    response = client.post(reverse("dashboard:submit"), {"domains": f"{good.hostname}:{good.https_port}, nope nope"})
    assert [entry for entry, _ in response.context["rejected"]] == ["nope nope"]
    assert list(Site.objects.values_list("hostname", flat=True)) == [good.hostname]
    assert Scan.objects.get().status == Scan.Status.QUEUED


def test_empty_submit_is_an_error(client, alice):
    client.force_login(alice)
    response = client.post(reverse("dashboard:submit"), {"domains": " ,\n ,"})
    assert response.status_code == 400
    assert response.context["form"].errors["domains"]
    assert not Site.objects.exists()


def test_signup_logs_the_new_user_in(client, django_user_model):
    response = client.post(
        reverse("dashboard:signup"),
        {"username": "carol", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
    )
    assert response.status_code == 302
    assert client.get(reverse("dashboard:overview")).status_code == 200


def test_signup_reports_bad_input(client, django_user_model):
    response = client.post(reverse("dashboard:signup"), {"username": "", "password1": "x", "password2": "y"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not django_user_model.objects.exists()


def test_login_lands_on_the_overview(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-pass-123"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:overview")


def test_rescan_queues_a_fresh_scan(client, alice, lab_settings, lab):
    good = lab.case("good")
    site = Site.objects.create(
        owner=alice, hostname=good.hostname, https_port=good.https_port, http_port=good.http_port
    )
    client.force_login(alice)
    response = client.post(reverse("dashboard:rescan", args=[site.pk]))
    assert response.status_code == 302
    assert site.scans.get().status == Scan.Status.QUEUED
    assert client.get(reverse("dashboard:scan_status")).json()["active"] == {str(site.pk): "queued"}


def test_report_shows_the_changes_recorded_against_the_previous_scan(client, alice):
    site = finished_site(alice, "changed.example", grade="B")
    site.latest_scan.changes = {
        "first_scan": False,
        "grade_before": "A",
        "grade_after": "B",
        "direction": "down",
        "findings_new": ["tls.protocol.tls1_0"],
        "findings_fixed": ["hsts.missing"],
        "certificate": "renewed",
        "protocols_added": ["TLSv1.0"],
        "protocols_removed": [],
    }
    site.latest_scan.save(update_fields=["changes"])
    client.force_login(alice)

    page = client.get(reverse("dashboard:site", args=[site.pk])).content.decode()

    assert "Changes since previous scan" in page
    assert "A → B (down)" in page
    assert "tls.protocol.tls1_0" in page and "hsts.missing" in page and "renewed" in page


def test_report_of_a_first_scan_has_no_changes_section(client, alice):
    site = finished_site(alice, "first.example")
    site.latest_scan.changes = {"first_scan": True}
    site.latest_scan.save(update_fields=["changes"])
    client.force_login(alice)

    assert "Changes since previous scan" not in client.get(reverse("dashboard:site", args=[site.pk])).content.decode()
