"""Alerts raised by real scans of the lab: the services run in-process, no worker or broker involved."""

from __future__ import annotations

import pytest

from scanner import services
from scanner.models import Alert, Scan


@pytest.fixture
def alert_settings(lab_settings):
    lab_settings.SCANNER_ALERT_EXPIRY_DAYS = 21
    lab_settings.SCANNER_RESCAN_MIN_INTERVAL = 0  # every submission is a fresh scan
    return lab_settings


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("alerted", email="alerted@example.com")


def scan_now(owner, case) -> Scan:
    """Submit and run a scan of a lab case in-process. No broker is needed: inside the test transaction the
    on_commit hook that would queue the scan never fires."""
    scan, created = services.submit_scan(owner, case.hostname, port=case.https_port, http_port=case.http_port)
    assert created
    finished = services.execute_scan(scan.pk)
    assert finished.status == Scan.Status.DONE, finished.error
    return finished


@pytest.mark.django_db
def test_a_certificate_expiring_within_the_window_alerts_once_across_rescans(owner, lab, alert_settings):
    expiring = lab.case("expiring")

    scan_now(owner, expiring)
    assert [(alert.kind, alert.site.hostname) for alert in Alert.objects.all()] == [
        ("cert_expiring", expiring.hostname)
    ]

    scan_now(owner, expiring)
    assert Alert.objects.count() == 1


@pytest.mark.django_db
def test_a_certificate_far_from_expiry_raises_no_alert(owner, lab, alert_settings):
    scan_now(owner, lab.case("good"))
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_a_portfolio_narrower_window_silences_the_expiry_alert(owner, lab, alert_settings):
    expiring = lab.case("expiring")  # 10 days left
    portfolio = services.portfolio_create(owner=owner, name="short window")
    services.portfolio_add_site(portfolio, host=expiring.hostname, port=expiring.https_port)
    services.portfolio_update(portfolio, alert_expiry_days=5)

    scan_now(owner, expiring)
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_a_portfolio_wider_window_than_the_default_alerts(owner, lab, alert_settings):
    alert_settings.SCANNER_ALERT_EXPIRY_DAYS = 3
    expiring = lab.case("expiring")
    portfolio = services.portfolio_create(owner=owner, name="long window")
    services.portfolio_add_site(portfolio, host=expiring.hostname, port=expiring.https_port)
    services.portfolio_update(portfolio, alert_expiry_days=30)

    scan_now(owner, expiring)
    assert Alert.objects.filter(kind="cert_expiring").count() == 1


def run_scan(owner, case):
    scan, _ = services.submit_scan(owner, case.hostname, port=case.https_port, http_port=case.http_port)
    return services.execute_scan(scan.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(("case_name", "grade"), [("expired", "T"), ("wronghost", "M")])
def test_a_first_scan_of_a_broken_lab_site_alerts_with_its_findings(owner, lab, alert_settings, case_name, grade):
    run_scan(owner, lab.case(case_name))
    alert = Alert.objects.get(kind=Alert.Kind.FIRST_SCAN_BAD)
    assert f"was graded {grade}." in alert.message
    assert alert.details["grade"]["after"] == grade
    assert alert.details["findings_new"], alert.message


@pytest.mark.django_db
def test_a_lab_site_switched_off_and_on_alerts_unreachable_then_reachable_again(owner, lab, alert_settings):
    good = lab.case("good")
    assert run_scan(owner, good).status == Scan.Status.DONE
    assert not Alert.objects.exists()

    # "Switch the server off": its name now leads to the lab's address where nothing listens.
    pins = alert_settings.SCANNER_RESOLVE
    others = [pin for pin in pins if pin != good.pin]
    alert_settings.SCANNER_RESOLVE = [*others, f"{good.hostname}:{lab.case('closed').ip}"]
    for _ in range(2):
        assert run_scan(owner, good).status == Scan.Status.FAILED
    outage = Alert.objects.get(kind=Alert.Kind.UNREACHABLE)
    assert outage.details["grade"]["before"] == "A+"  # the last good grade beside the error

    alert_settings.SCANNER_RESOLVE = pins
    assert run_scan(owner, good).status == Scan.Status.DONE
    recovery = Alert.objects.get(kind=Alert.Kind.RECOVERED)
    assert recovery.message.startswith(f"{good.hostname} is reachable again (graded A+).")
