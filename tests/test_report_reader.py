"""The typed reader of the stored report (scanner/report_reader.py): what it answers for documents the current
scanner writes (real scans of the lab), for failed and multi-address scans, and for documents stored by older
versions, which lack fields or kept them elsewhere."""

from __future__ import annotations

import dataclasses
import json

import pytest

from scanner.grading import grade
from scanner.report import SCHEMA_VERSION, build_report
from scanner.report_reader import SECTIONS, ReportView, report_path


@pytest.fixture(scope="module")
def scanned(scan_case):
    """(engine result, grades, stored document) of a lab case, one scan per case."""

    def run(name: str):
        result = scan_case(name)
        grades = grade(result)
        return result, grades, json.loads(json.dumps(build_report(result, grades)))  # as stored: JSON

    return run


def _every_property(view: object) -> dict[str, object]:
    names = [name for name, value in vars(type(view)).items() if isinstance(value, property)]
    return {name: getattr(view, name) for name in names}


# --- documents the scanner writes today ---------------------------------------------------------------


def test_a_current_report_says_its_schema_version_and_status(scanned):
    _, _, document = scanned("good")
    report = ReportView.from_document(document)
    assert (report.schema_version, report.status, report.is_done, report.error) == (SCHEMA_VERSION, "done", True, None)


def test_the_grade_reads_as_the_grading_gave_it(scanned):
    _, grades, document = scanned("good")
    report = ReportView.from_document(document)
    assert (report.grade.security, report.grade.score, report.grade.seo_score) == (
        grades.security,
        grades.score,
        grades.seo_score,
    )


def test_findings_are_typed_and_keep_the_grading_order(scanned):
    _, grades, document = scanned("expired")
    findings = ReportView.from_document(document).findings
    assert [(finding.id, finding.severity, finding.title) for finding in findings] == [
        (finding.id, finding.severity, finding.title) for finding in grades.findings
    ]


def test_the_certificate_reads_its_dates_and_fingerprint(scanned):
    result, _, document = scanned("good")
    certificate = ReportView.from_document(document).certificate
    measured = result.tls.certificate
    assert (certificate.not_after, certificate.sha256_fingerprint, certificate.trusted) == (
        measured.not_after.isoformat(),
        measured.sha256_fingerprint,
        True,
    )


def test_an_expired_certificate_says_so_with_a_negative_day_count(scanned):
    certificate = ReportView.from_document(scanned("expired")[2]).certificate
    assert certificate.expired and certificate.days_to_expiry < 0


def test_enabled_protocols_are_those_the_server_accepts(scanned):
    result, _, document = scanned("good")
    report = ReportView.from_document(document)
    assert report.enabled_protocols == {name for name, on in result.tls.protocols.items() if on}


def test_hsts_and_the_http_redirect_read_as_measured(scanned):
    result, _, document = scanned("good")
    report = ReportView.from_document(document)
    assert (report.hsts.present, report.hsts.max_age) == (True, result.http.hsts.max_age)
    assert report.redirects.chain[0]["url"] == result.http.chain[0].url


def test_reading_every_field_leaves_the_stored_document_unchanged(scanned):
    _, _, document = scanned("good")
    before = json.dumps(document, sort_keys=False)
    report = ReportView.from_document(document)
    _every_property(report)
    _every_property(report.certificate)
    _every_property(report.grade)
    [_every_property(finding) for finding in report.findings]
    assert json.dumps(document, sort_keys=False) == before
    assert report.document is document


def test_the_view_cannot_be_changed(scanned):
    report = ReportView.from_document(scanned("good")[2])
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.document = {}


# --- failed and multi-address scans -------------------------------------------------------------------


def test_a_failed_scan_has_no_certificate_protocols_suites_or_grade(scanned):
    report = ReportView.from_document(scanned("closed")[2])
    assert report.status == "failed" and report.error
    assert (report.certificate, report.protocols, report.cipher_suites, report.grade.security) == (
        None,
        None,
        None,
        None,
    )
    assert report.enabled_protocols == frozenset() and report.protocol_tables == ()


def test_every_address_behind_the_name_is_an_endpoint_with_its_own_grade(scanned):
    result, _, document = scanned("twoaddr")
    endpoints = ReportView.from_document(document).endpoints
    assert [endpoint.ip for endpoint in endpoints] == [endpoint.ip for endpoint in result.endpoints]
    assert all(endpoint.status == "done" and endpoint.grade.security for endpoint in endpoints)


def test_protocols_offered_are_read_per_address(scanned):
    report = ReportView.from_document(scanned("twoaddr")[2])
    assert len(report.protocol_tables) == 2


def test_an_address_that_did_not_answer_is_a_failed_endpoint_without_a_grade(scanned):
    endpoints = ReportView.from_document(scanned("twoaddrdown")[2]).endpoints
    down = [endpoint for endpoint in endpoints if endpoint.status == "failed"]
    assert len(down) == 1 and down[0].error and down[0].grade.security is None and down[0].protocols is None


# --- documents stored by older versions ---------------------------------------------------------------


def test_no_document_reads_as_an_empty_report():
    report = ReportView.from_document(None)
    assert not report
    assert (report.status, report.certificate, report.grade.security, report.findings, report.caps) == (
        None,
        None,
        None,
        (),
        [],
    )


def test_fields_an_older_report_lacks_read_as_not_known():
    report = ReportView.from_document({"status": "done", "protocols": {"TLSv1.2": True}, "findings": []})
    assert report.schema_version is None
    assert (report.cipher_suites, report.key_exchange_groups, report.curves, report.alpn) == (None, None, None, None)
    assert (report.hsts, report.redirects, report.web_security, report.session_resumption) == (None, None, None, None)
    assert (report.vulnerabilities, report.endpoints, report.simulations) == ({}, (), ())


def test_caps_and_warnings_come_from_flagged_findings_when_the_grade_does_not_list_them():
    findings = [
        {"id": "protocol.tls10", "title": "TLS 1.0", "cap": "B"},
        {"id": "hsts.short", "title": "Short HSTS", "cap": None, "warning": True},
    ]
    report = ReportView.from_document({"grade": {"security": "B"}, "findings": findings})
    assert report.caps == [{"finding_id": "protocol.tls10", "cap": "B", "title": "TLS 1.0"}]
    assert report.warnings == [{"finding_id": "hsts.short", "cap": None, "title": "Short HSTS"}]


def test_caps_listed_by_the_grade_are_read_as_stored_even_when_empty():
    findings = [{"id": "protocol.tls10", "title": "TLS 1.0", "cap": "B"}]
    report = ReportView.from_document({"grade": {"caps": [], "warnings": []}, "findings": findings})
    assert (report.caps, report.warnings) == ([], [])


def test_key_exchange_groups_and_simulations_are_found_where_older_reports_kept_them():
    group = {"kind": "ECDH", "name": "X25519", "bits": 253}
    simulation = {"client": "Chrome", "protocol": "TLSv1.3"}
    report = ReportView.from_document({"tls": {"key_exchange_groups": [group], "simulations": [simulation]}})
    assert (report.key_exchange_groups, report.simulations) == ((group,), (simulation,))


def test_the_https_walk_is_found_in_an_older_reports_https_redirects():
    hop = {"url": "https://a.test/", "status": 301, "location": "http://a.test/"}
    report = ReportView.from_document({"https_redirects": {"chain": [hop], "downgrade": True}})
    assert report.has_https_walk and report.https_chain == (hop,) and report.https_downgrade


def test_mixed_content_is_found_at_the_top_level_of_older_reports():
    item = {"url": "http://a.test/x.js", "kind": "active"}
    assert ReportView.from_document({"mixed_content": [item]}).mixed_content == (item,)


def test_without_deployments_the_leaf_is_the_only_certificate():
    report = ReportView.from_document({"certificate": {"subject": "CN=a.test", "key_type": "RSA"}})
    assert [certificate.subject for certificate in report.certificate_deployments] == ["CN=a.test"]


def test_an_endpoint_that_stored_its_grade_as_a_letter_reads_as_a_grade():
    report = ReportView.from_document({"endpoints": [{"ip": "10.0.0.1", "grade": "B", "tls": {"protocols": {}}}]})
    assert report.endpoints[0].grade.security == "B"


def test_a_name_mismatch_is_said_only_when_the_name_was_checked():
    checked = ReportView.from_document({"certificate": {"subject": "CN=a", "hostname_match": False}}).certificate
    unchecked = ReportView.from_document({"certificate": {"subject": "CN=a"}}).certificate
    assert (checked.name_mismatch, unchecked.name_mismatch) == (True, False)


def test_without_per_address_tables_the_sites_protocol_table_is_read():
    report = ReportView.from_document({"protocols": {"TLSv1.2": True}, "endpoints": []})
    assert report.protocol_tables == ({"TLSv1.2": True},)


def test_revocation_reads_as_not_checked_when_a_report_has_none():
    certificate = ReportView.from_document({"certificate": {"subject": "CN=a"}}).certificate
    assert (certificate.revocation, certificate.revocation_status) == (None, None)


def test_the_readers_sections_are_the_documents_top_level_keys(scanned):
    assert set(scanned("good")[2]) == SECTIONS


def test_a_database_lookup_names_a_section_the_document_has():
    assert report_path("grade", "caps") == "result__grade__caps"
    assert report_path("hsts", "present", column="latest_scan__result") == "latest_scan__result__hsts__present"
    with pytest.raises(ValueError):
        report_path("grades", "caps")
