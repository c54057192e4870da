"""The site's denormalised current state (grade, expiry, last attempt) is written by the services that store
scans, from real lab scans: what the overview sorts and filters on is what the scans said."""

from __future__ import annotations

import pytest

from scanner import services
from scanner.grading import grade
from scanner.grading.scale import triage_rank
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


def request_scan(owner, lab, name: str) -> Scan:
    case = lab.case(name)
    scan, created = services.submit_scan(
        owner, case.hostname, port=case.https_port, http_port=case.http_port, max_age=0
    )
    assert created
    return scan


def test_a_failed_last_attempt_ranks_the_site_unreachable_keeping_its_last_grade(alice, lab, lab_settings, scan_case):
    done = stored_lab_scan(alice, lab, scan_case, "good")
    services.fail_scan(request_scan(alice, lab, "good").pk, "connection refused")
    site = Site.objects.get(pk=done.site_id)
    assert site.grade == done.security_grade
    assert site.triage_rank == triage_rank(done.security_grade, unreachable=True) > triage_rank("M", unreachable=False)


def test_a_new_attempt_after_a_failure_ranks_the_site_by_its_grade_again(alice, lab, lab_settings, scan_case):
    done = stored_lab_scan(alice, lab, scan_case, "good")
    services.fail_scan(request_scan(alice, lab, "good").pk, "connection refused")
    request_scan(alice, lab, "good")
    assert Site.objects.get(pk=done.site_id).triage_rank == triage_rank(done.security_grade, unreachable=False)


def test_a_result_landing_after_a_newer_attempt_failed_leaves_the_site_unreachable(alice, lab, lab_settings, scan_case):
    stored_lab_scan(alice, lab, scan_case, "good")
    late = request_scan(alice, lab, "good")
    services.fail_scan(late.pk, "given up: no heartbeat")  # as the reaper does, before the worker finishes
    services.fail_scan(request_scan(alice, lab, "good").pk, "connection refused")
    result = scan_case("good")
    grades = grade(result)
    services.store_outcome(Scan.objects.get(pk=late.pk), result, grades, build_report(result, grades))
    site = Site.objects.get(pk=late.site_id)
    assert site.latest_scan_id == late.pk
    assert site.triage_rank == triage_rank(site.grade, unreachable=True)
