"""Change tracking between scans, alerts raised once per condition, public badges (delivery: test_notifications)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from scanner import services
from scanner.changes import compare_reports
from scanner.models import Alert, Scan, Site
from scanner.notifications import alert_message


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
def test_an_expired_certificate_alert_is_titled_certificate_expired(site, settings):
    settings.SCANNER_ALERT_EXPIRY_DAYS = 21
    store(site, report(days=-3))
    alert = Alert.objects.get()
    assert alert.get_kind_display() == "Certificate expired"
    assert alert_message(alert).title == "Certificate expired: shop.example"


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
