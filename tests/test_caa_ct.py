"""CAA (RFC 8659) against a DNS server on loopback, and Certificate Transparency SCT counts (issue 21 item 4)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.management import call_command

from scanner.engine import scan
from scanner.engine.certificates.caa import lookup_caa, parse_server
from scanner.engine.results import CaaRecord, CaaResult, SctCounts
from scanner.grading import grade
from scanner.report import build_report
from scanner.targets import parse_target
from tests.conftest import LAB_DNS_SERVER, LAB_SCAN_SETTINGS, _free_udp_port
from tests.grading_factories import NOW, ids, with_cert
from tests.lab.dns import DnsServer


def test_caa_records_are_reported_in_the_certificate_section(scan_case):
    result = scan_case("good")
    section = build_report(result, grade(result))["certificate"]["caa"]
    assert section["status"] == "found"
    assert section["domain"] == "good.lab.test"
    assert section["records"] == [{"flags": 0, "tag": "issue", "value": "lab.test"}]
    assert "caa.missing" not in ids(grade(result))


def test_a_name_without_caa_anywhere_up_the_tree_is_an_info_finding(scan_case):
    grades = grade(scan_case("nohsts"))
    missing = next(item for item in grades.findings if item.id == "caa.missing")
    assert (missing.severity, missing.cap, missing.seo_penalty) == ("info", None, 0)


def test_caa_of_a_parent_domain_applies_to_the_name():
    with DnsServer("127.0.0.1", 0, {"example.test": [(0, "issue", "ca.example")]}) as server:
        result = lookup_caa("www.shop.example.test", servers=[server.address], timeout=2)
    assert (result.status, result.domain) == ("found", "example.test")
    assert server.queries == ["www.shop.example.test CAA", "shop.example.test CAA", "example.test CAA"]


def test_an_unanswering_dns_server_makes_caa_unknown_without_failing_the_scan(lab, lab_policy):
    case = lab.case("good")
    silent = replace(LAB_SCAN_SETTINGS, dns_servers=(f"127.0.0.1:{_free_udp_port()}",))
    result = scan(
        parse_target(case.hostname, https_port=case.https_port, http_port=case.http_port),
        policy=lab_policy,
        settings=silent,
        ca_file=lab.ca_file,
    )
    assert result.status == "done"
    assert result.caa.status == "unknown" and result.caa.error
    assert "caa.missing" not in ids(grade(result))
    assert grade(result).security == "A+"


@pytest.mark.django_db
def test_cli_dns_server_option_is_used_for_caa(lab, lab_settings, capsys):
    lab_settings.SCANNER_DNS_SERVERS = []
    call_command(*lab.scan_command("good", "--dns-server", LAB_DNS_SERVER, "--json", "--no-store"))
    assert json.loads(capsys.readouterr().out)["certificate"]["caa"]["status"] == "found"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("10.0.0.1", ("10.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("[::1]:53", ("::1", 53)),
        ("::1", ("::1", 53)),
    ],
)
def test_dns_server_addresses_take_an_optional_port(text, parsed):
    assert parse_server(text) == parsed


def test_sct_counts_are_reported_per_source(scan_case):
    scts = build_report(scan_case("good"), grade(scan_case("good")))["certificate"]["scts"]
    assert scts == {"embedded": 0, "ocsp": None, "tls_extension": None}


def public(embedded: int, days: int = 90, ocsp: int | None = None):
    return with_cert(
        public_root=True,
        scts=SctCounts(embedded=embedded, ocsp=ocsp),
        not_before=NOW,
        not_after=NOW + timedelta(days=days),
    )


def test_too_few_scts_under_a_public_root_is_a_finding():
    assert "ct.insufficient_scts" in ids(grade(public(embedded=1)))


def test_two_embedded_scts_are_enough_for_a_short_lived_certificate_but_not_a_long_one():
    assert "ct.insufficient_scts" not in ids(grade(public(embedded=2, days=90)))
    assert "ct.insufficient_scts" in ids(grade(public(embedded=2, days=365)))


def test_two_scts_in_the_ocsp_staple_are_enough():
    assert "ct.insufficient_scts" not in ids(grade(public(embedded=0, ocsp=2)))


def test_a_private_ca_is_not_held_to_the_ct_policy():
    result = with_cert(public_root=False, scts=SctCounts(embedded=0, ocsp=None))
    assert "ct.insufficient_scts" not in ids(grade(result))


def with_caa(*values: str, issuer="Let's Encrypt"):
    records = tuple(CaaRecord(0, "issue", value) for value in values)
    return replace(with_cert(issuer_organization=issuer), caa=CaaResult("found", "example.com", records))


def test_caa_that_does_not_name_the_certificates_ca_is_a_finding():
    assert "caa.issuer_not_allowed" in ids(grade(with_caa("digicert.com")))


def test_caa_naming_the_certificates_ca_is_fine_whatever_its_parameters():
    assert "caa.issuer_not_allowed" not in ids(
        grade(with_caa("digicert.com", "letsencrypt.org; validationmethods=dns-01"))
    )


def test_an_issuer_the_scanner_cannot_map_to_a_caa_domain_is_not_judged():
    assert "caa.issuer_not_allowed" not in ids(grade(with_caa("digicert.com", issuer="HTTPS Scanner Test Lab")))
