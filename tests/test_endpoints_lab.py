"""Every address behind a name is scanned (issue 9 item 6), against a lab name pinned to two addresses."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import replace

import pytest
from django.core.management import call_command

from benchmarks.delay_proxy import DelayProxy
from scanner.engine import scan
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
from scanner.targets import parse_target
from tests.conftest import LAB_SCAN_SETTINGS


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
    call_command(*lab.scan_command("twoaddr", "--json", "--no-store"))
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


def test_addresses_that_stall_share_one_tls_deadline_so_the_scan_ends_in_time(lab):
    # Two addresses of one name, each answering the pre-flight and the connectivity test, then stalling.
    case = lab.case("good")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proxies = [DelayProxy(ip, case.ip, case.https_port, serve_first=3, port=port) for ip in ("127.0.0.1", "127.0.0.2")]
    for proxy in proxies:
        proxy.stall = True
        proxy.start()
    try:
        policy = NetworkPolicy(parse_networks(["127.0.0.0/8"]), parse_pins([f"{case.hostname}:127.0.0.1,127.0.0.2"]))
        target = parse_target(case.hostname, https_port=port, http_port=case.http_port)
        settings = replace(LAB_SCAN_SETTINGS, tls_deadline=8)
        started = time.monotonic()
        result = scan(target, policy=policy, settings=settings, ca_file=lab.ca_file)
        took = time.monotonic() - started
    finally:
        for proxy in proxies:
            proxy.stop()
    assert [endpoint.ip for endpoint in result.endpoints] == ["127.0.0.1", "127.0.0.2"]
    # Each address ends with its reason (stopped at its share of the deadline, or "not measured" just before).
    assert all(endpoint.error for endpoint in result.endpoints)
    # One 8 s budget for the site (4 s, then what is left), not 8 s per address.
    assert took < 8 + 3
