"""The "why" of a grade is complete on the site page: every cap and every warning from grade.caps/warnings."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scanner.models import Scan, Site
from scanner.report import build_report
from tests.grading_factories import PERFECT_SUITES, grade, http, scan, suite, tls

pytestmark = pytest.mark.django_db


def test_site_page_lists_every_cap_and_warning_of_the_grade(client, alice):
    # TLS 1.0 (cap B), 3DES with TLS 1.2 (cap C), no TLS 1.3 and no HSTS (two warnings).

    triple_des = suite(
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA", key_bits=168, forward_secrecy=False, aead=False, kex_bits=None, kex_type=None
    )
    result = scan(tls(protocols=("TLSv1.0", "TLSv1.2"), suites=PERFECT_SUITES + (triple_des,)), http(hsts=None))
    grades = grade(result)
    site = Site.objects.create(owner=alice, hostname=result.host)
    site.latest_scan = Scan.objects.create(
        site=site,
        status=Scan.Status.DONE,
        security_grade=grades.security,
        score=grades.score,
        result=build_report(result, grades),
    )
    site.save(update_fields=["latest_scan"])
    client.force_login(alice)
    page = client.get(reverse("dashboard:site", args=[site.pk])).content.decode()
    expected = [item["finding_id"] for item in grades.caps + grades.warnings]
    assert {"tls.protocol.tls1_0", "tls.cipher.sweet32", "tls.protocol.no_tls1_3", "hsts.missing"} <= set(expected)
    assert all(f"<code>{finding_id}</code>" in page for finding_id in expected)
