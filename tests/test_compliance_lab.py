"""Compliance profiles against real servers: Mozilla's own 6.0 configurations on real nginx, and the lab cases."""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
from pathlib import Path

import pytest

from scanner.engine import scan
from scanner.grading import grade
from scanner.grading.compliance import evaluate
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
from scanner.report import build_report
from scanner.targets import parse_target
from tests.conftest import LAB_SCAN_SETTINGS
from tests.lab.nginx import NGINX, start_mozilla_nginx
from tests.lab.pki import LabPKI, LeafSpec

needs_nginx = pytest.mark.skipif(
    not Path(NGINX).exists(), reason="nginx is not installed (bin/test installs the Debian package)"
)


def statuses(report: dict) -> dict[str, str]:
    return {entry["profile"]: entry["status"] for entry in report["compliance"]}


def failed_requirements(report: dict, profile: str) -> set[str]:
    entry = next(entry for entry in report["compliance"] if entry["profile"] == profile)
    return {item["requirement"] for item in entry["failed"]}


@pytest.fixture(scope="module")
def mozilla_nginx(tmp_path_factory):
    """Scan reports of nginx serving Mozilla's modern (ECDSA) and intermediate (RSA-2048) configurations."""
    directory = tmp_path_factory.mktemp("mozilla-nginx")
    network = ipaddress.IPv4Network(f"127.{random.randint(64, 250)}.{random.randint(0, 255)}.0/24")
    pki = LabPKI(directory)
    # Lifespans within Mozilla's maximum_certificate_lifespan (90 days modern, 366 intermediate).
    leaves = {
        "modern": LeafSpec(
            hostnames=("modern.mozilla.test",), not_before=dt.timedelta(days=-1), not_after=dt.timedelta(days=89)
        ),
        "intermediate": LeafSpec(hostnames=("intermediate.mozilla.test",), key_type="rsa"),
    }
    reports, servers = {}, []
    try:
        for number, (profile, leaf) in enumerate(leaves.items(), start=1):
            credentials = pki.issue(profile, leaf)
            ip = str(network[number])
            servers.append(
                start_mozilla_nginx(
                    profile,
                    hostname=leaf.hostnames[0],
                    ip=ip,
                    chain_file=credentials.chain_file,
                    key_file=credentials.key_file,
                    directory=directory,
                )
            )
            site = servers[-1]
            policy = NetworkPolicy(parse_networks([str(network)]), parse_pins([f"{site.hostname}:{ip}"]))
            target = parse_target(site.hostname, https_port=site.https_port, http_port=site.http_port)
            result = scan(target, policy=policy, settings=LAB_SCAN_SETTINGS, ca_file=str(pki.ca_file))
            reports[profile] = build_report(result, grade(result))
    finally:
        for server in servers:
            server.stop()
    return reports


@needs_nginx
def test_mozilla_modern_nginx_meets_mozilla_modern(mozilla_nginx):
    report = mozilla_nginx["modern"]
    assert report["status"] == "done"
    assert statuses(report)["mozilla-modern"] == "pass", report["compliance"][0]["failed"]


@needs_nginx
def test_mozilla_modern_nginx_also_meets_intermediate(mozilla_nginx):
    assert statuses(mozilla_nginx["modern"])["mozilla-intermediate"] == "pass"


@needs_nginx
def test_mozilla_intermediate_nginx_meets_mozilla_intermediate(mozilla_nginx):
    report = mozilla_nginx["intermediate"]
    assert statuses(report)["mozilla-intermediate"] == "pass", report["compliance"][1]["failed"]


@needs_nginx
def test_mozilla_intermediate_nginx_fails_the_stricter_modern(mozilla_nginx):
    report = mozilla_nginx["intermediate"]
    assert statuses(report)["mozilla-modern"] == "fail"
    assert {"tls_versions", "ciphersuites", "certificate_types"} <= failed_requirements(report, "mozilla-modern")


@needs_nginx
def test_mozilla_configurations_warn_when_nothing_is_stapled(mozilla_nginx):
    entry = mozilla_nginx["intermediate"]["compliance"][1]
    assert [item["requirement"] for item in entry["warnings"]] == ["ocsp_staple"]


# --- the lab's own cases ------------------------------------------------------------------------------


def lab_report(scan_case, name: str) -> dict:
    result = scan_case(name)
    return build_report(result, grade(result))


@pytest.mark.parametrize("profile", ["pci-dss-4.0.1", "nist-sp800-52r2", "bsi-tr-02102-2"])
def test_tls1_0_server_fails_pci_nist_and_bsi(scan_case, profile):
    assert statuses(lab_report(scan_case, "legacy"))[profile] == "fail"


def test_tls1_0_is_named_in_pci_and_bsi_failures(scan_case):
    report = lab_report(scan_case, "legacy")
    assert "4.2.1 secure versions" in failed_requirements(report, "pci-dss-4.0.1")
    assert "3.2 protocol versions" in failed_requirements(report, "bsi-tr-02102-2")


def test_rsa_1024_second_certificate_fails_pci(scan_case):
    assert "4.2.1 key sizes (RSA)" in failed_requirements(lab_report(scan_case, "dualcert"), "pci-dss-4.0.1")


def test_sha1_intermediate_fails_pci_and_ncsc(scan_case):
    report = lab_report(scan_case, "sha1intermediate")
    assert "4.2.1 signature" in failed_requirements(report, "pci-dss-4.0.1")
    assert "cert_signature" in failed_requirements(report, "ncsc-nl-tls")


def test_expired_certificate_fails_pci_but_not_mozilla(scan_case):
    report = lab_report(scan_case, "expired")
    assert "4.2.1 trusted keys and certificates" in failed_requirements(report, "pci-dss-4.0.1")
    assert "certificate_types" not in failed_requirements(report, "mozilla-intermediate")


def test_dhe_only_server_fails_mozilla_intermediate_6_0(scan_case):
    # 6.0 dropped DHE from intermediate (5.7 still listed it).
    assert "ciphers" in failed_requirements(lab_report(scan_case, "dhcomposite"), "mozilla-intermediate")


def test_static_rsa_only_server_fails_nist_without_tls1_3(scan_case):
    assert "3.1 TLS 1.3" in failed_requirements(lab_report(scan_case, "weakciphers"), "nist-sp800-52r2")


def test_failed_scan_is_not_applicable(scan_case):
    report = lab_report(scan_case, "closed")
    assert set(statuses(report).values()) == {"not_applicable"}
    assert evaluate(report) == report["compliance"]


def test_dh_group_that_is_not_a_safe_prime_fails_pci(scan_case):
    assert "4.2.1 key exchange (DH group)" in failed_requirements(lab_report(scan_case, "dhnonsafe"), "pci-dss-4.0.1")


@pytest.mark.django_db
def test_cli_json_report_carries_the_compliance_list(lab, lab_settings, capsys):
    import json

    from django.core.management import call_command

    from scanner.models import Scan

    case = lab.case("legacy")
    call_command(*lab.scan_command("legacy", "--json"))
    report = json.loads(capsys.readouterr().out)
    assert statuses(report)["pci-dss-4.0.1"] == "fail"
    # The CLI's stored scan carries the same verdict for ?fails=.
    assert " pci-dss-4.0.1 " in Scan.objects.get(site__hostname=case.hostname).compliance_failing
