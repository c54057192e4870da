"""Issue 9 lab cases through `manage.py scan --json`: status, grade and key findings as a user sees them."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def scan_json(lab, name, capsys) -> dict:
    try:
        call_command(*lab.scan_command(name, "--json", "--no-store"))
    except CommandError:
        pass  # a failed scan exits non-zero after printing its report
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("case", "status", "security", "finding"),
    [
        ("nointermediate", "done", "B", "cert.chain_incomplete"),
        ("aiabroken", "done", "T", "cert.untrusted"),
        ("reversedchain", "done", "A+", "cert.chain_order_wrong"),
        ("sha1intermediate", "done", "T", "cert.sha1_signature"),
        ("md5leaf", "done", "F", "cert.md5_signature"),
        ("dualcert", "done", "B", "cert.weak_key"),
        ("dhcomposite", "done", "B", "tls.kex.dh_unsafe_prime"),
        ("dhnonsafe", "done", "B", "tls.kex.dh_unsafe_prime"),
        ("clientcert", "done", "A+", "tls.client_certificate_requested"),
        ("nullcipher", "done", "F", "tls.cipher.null"),
        ("manynames", "done", "A+", None),
        ("fallbackalert", "done", "A+", "scan.probe_not_tested"),
        ("twoaddr", "done", "B", "endpoint.grade_differs"),
        ("hugecert", "failed", None, None),
    ],
)
def test_issue9_case_through_the_cli(lab, lab_settings, capsys, case, status, security, finding):
    report = scan_json(lab, case, capsys)
    assert (report["status"], report["grade"]["security"]) == (status, security)
    if finding:
        assert finding in {item["id"] for item in report["findings"]}


def test_cli_report_of_a_completed_chain_shows_where_the_intermediate_came_from(lab, lab_settings, capsys):
    certificate = scan_json(lab, "nointermediate", capsys)["certificate"]
    assert (certificate["trusted"], certificate["chain_trusted"], certificate["chain_completed_via_aia"]) == (
        True,
        True,
        True,
    )
    assert [link["source"] for link in certificate["chain"]] == ["sent", "aia", "trust_store"]


def test_cli_report_of_a_too_large_certificate_says_why(lab, lab_settings, capsys):
    assert "too large for OpenSSL" in scan_json(lab, "hugecert", capsys)["error"]


def test_cli_report_lists_dh_groups(lab, lab_settings, capsys):
    groups = scan_json(lab, "dhcomposite", capsys)["key_exchange_groups"]
    assert {"kind": "DH", "prime": False, "safe_prime": False}.items() <= groups[0].items()
