"""Every address behind a name is scanned (issue 9 item 6), against a lab name pinned to two addresses."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command


def test_every_address_behind_the_name_is_scanned(scan_case, lab):
    result = scan_case("twoaddr")
    assert [endpoint.ip for endpoint in result.endpoints] == list(lab.case("twoaddr").ips)
    assert all(endpoint.error is None for endpoint in result.endpoints)


def test_addresses_with_different_configurations_are_told_apart(scan_case):
    first, second = scan_case("twoaddr").endpoints
    assert (first.tls.protocols["TLSv1.0"], second.tls.protocols["TLSv1.0"]) == (False, True)


def test_site_result_is_the_first_address(scan_case, lab):
    result = scan_case("twoaddr")
    assert result.ip == lab.case("twoaddr").ip and result.tls is result.endpoints[0].tls


def test_single_address_name_has_one_endpoint(scan_case):
    assert len(scan_case("good").endpoints) == 1


@pytest.mark.django_db
def test_report_lists_each_endpoint_with_its_own_grade(lab, lab_settings, capsys):
    case = lab.case("twoaddr")
    call_command("scan", f"{case.hostname}:{case.https_port}", "--http-port", str(case.http_port),
                 "--resolve", case.pin, "--ca-file", lab.ca_file, "--json", "--no-store")
    report = json.loads(capsys.readouterr().out)
    grades = {endpoint["ip"]: endpoint["grade"]["security"] for endpoint in report["endpoints"]}
    assert grades == {case.ips[0]: "A+", case.ips[1]: "B"}
    assert report["endpoints"][1]["protocols"]["TLSv1.0"] is True
    assert report["endpoints"][0]["certificate_fingerprint"] != report["endpoints"][1]["certificate_fingerprint"]


def test_an_address_that_does_not_answer_fails_alone_and_the_site_is_still_graded(scan_case, lab):
    from scanner.grading import grade

    result = scan_case("twoaddrdown")
    first, second = result.endpoints
    assert (first.error, second.ip) == (None, lab.case("twoaddrdown").ips[1])
    assert "refused" in second.error
    grades = grade(result)
    assert result.status == "done" and grades.security is not None
    assert "endpoint.unreachable" in {f.id for f in grades.findings}
