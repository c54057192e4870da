"""The site's denormalised current state (grade, expiry, last attempt) is written by the services that store
scans, from real lab scans: what the overview sorts and filters on is what the scans said."""

from __future__ import annotations

import pytest

from scanner import services
from scanner.grading import grade
from scanner.models import Scan, Site
from scanner.report import build_report

pytestmark = pytest.mark.django_db


def stored_lab_scan(owner, lab, scan_case, name: str) -> Scan:
    case = lab.case(name)
    result = scan_case(name)
    grades = grade(result)
    site, _ = Site.objects.get_or_create(
        owner=owner, hostname=case.hostname, https_port=case.https_port, defaults={"http_port": case.http_port}
    )
    scan = Scan.objects.create(site=site, status=Scan.Status.RUNNING)
    return services.store_outcome(scan, result, grades, build_report(result, grades))


def test_a_done_scan_puts_its_grade_and_certificate_expiry_on_the_site(alice, lab, lab_settings, scan_case):
    scan = stored_lab_scan(alice, lab, scan_case, "expired")
    site = Site.objects.get(pk=scan.site_id)
    assert scan.status == Scan.Status.DONE
    assert site.latest_scan_id == scan.pk and site.grade == scan.security_grade == "T"
    assert site.grade_rank == 8  # T ranks below F
    assert site.cert_not_after == scan_case("expired").tls.certificate.not_after


def test_a_new_request_becomes_the_last_attempt_but_keeps_the_last_grade(alice, lab, lab_settings, scan_case):
    done = stored_lab_scan(alice, lab, scan_case, "good")
    case = lab.case("good")
    queued, created = services.submit_scan(alice, case.hostname, port=case.https_port, http_port=case.http_port)
    site = Site.objects.get(pk=done.site_id)
    assert created and site.last_scan_id == queued.pk and site.last_scan_at == queued.requested_at
    assert site.latest_scan_id == done.pk and site.grade == done.security_grade
