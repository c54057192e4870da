"""Flaky and limited servers never get a confident wrong answer: a server resetting some connections is scanned
to the same result as without resets (or the scan says it is partial), and a server serving one connection
at a time is scanned with one connection and says so (or fails with a reason about concurrency)."""

from __future__ import annotations

import pytest

from scanner.engine import scan
from scanner.grading import grade
from scanner.targets import Target
from tests.conftest import LAB_SCAN_SETTINGS
from tests.lab.flaky import FlakyProxy
from tests.lab.servers import HostileHttpServer

SCANS = 4


def scan_through(proxy: FlakyProxy, case, lab, lab_policy):
    target = Target(host=case.hostname, https_port=proxy.port, http_port=case.http_port)
    return scan(target, policy=lab_policy, settings=LAB_SCAN_SETTINGS, ca_file=lab.ca_file)


def tls_summary(result) -> dict:
    """What a reset could silently change: protocols, suites, curves, what clients get, the grade."""
    tls = result.tls
    return {
        "protocols": tls.protocols,
        "suites": sorted(suite.name for suite in tls.cipher_suites),
        "curves": sorted(tls.curves),
        "clients": sorted((s.client, s.protocol, s.suite) for s in tls.simulations),
        "grade": grade(result).security,
    }


def test_a_server_resetting_every_third_connection_never_gets_a_confident_different_answer(lab, lab_policy):
    case = lab.case("good")
    with FlakyProxy(case.ip, case.ip, case.https_port) as clean:
        expected = tls_summary(scan_through(clean, case, lab, lab_policy))
    outcomes = []
    with FlakyProxy(case.ip, case.ip, case.https_port, reset_every=3) as flaky:
        for _ in range(SCANS):
            result = scan_through(flaky, case, lab, lab_policy)
            outcomes.append(result)
            if result.status == "done" and not result.partial:
                assert tls_summary(result) == expected
        resets = flaky.resets
    done = sum(1 for r in outcomes if r.status == "done" and not r.partial)
    print(
        f"\nreset every 3rd connection ({resets} resets): {done} of {SCANS} scans done and complete, "
        f"{sum(1 for r in outcomes if r.partial)} partial, {sum(1 for r in outcomes if r.error)} failed: "
        f"{[r.error for r in outcomes if r.error]}"
    )
    assert resets > 0
    assert any(r.status == "done" for r in outcomes)  # retries keep such a server scannable, not only honest


def test_a_server_serving_one_connection_at_a_time_is_scanned_with_one(lab, lab_policy):
    case = lab.case("good")
    with FlakyProxy(case.ip, case.ip, case.https_port) as clean:
        expected = tls_summary(scan_through(clean, case, lab, lab_policy))
    with FlakyProxy(case.ip, case.ip, case.https_port, one_at_a_time=True) as limited:
        result = scan_through(limited, case, lab, lab_policy)
        refused = limited.resets
    note = result.probes.get("connections")
    print(
        f"\none connection at a time: {result.status}, partial={result.partial}, error={result.error}, "
        f"connections probe={note}, concurrent connections refused={refused}"
    )
    if result.error:
        assert "one connection at a time" in result.error or "concurren" in result.error
        return
    if result.status == "done" and not result.partial:
        assert tls_summary(result) == expected  # never a confident wrong answer
    if refused:
        # The server refused a concurrent connection: the scan noticed and says so (whether the detection
        # handshake or a probe's connection was the one refused depends on timing).
        assert note is not None and ("one connection at a time" in note.reason or note.status != "ok")


@pytest.mark.parametrize("size", [60_000, 100_000], ids=["60KB", "100KB"])
def test_a_very_long_location_header_gets_its_own_finding_not_unreachable(lab, lab_policy, size):
    case = lab.case("good")
    with HostileHttpServer("long_location", case.ip, 0, size=size) as server:
        target = Target(host=case.hostname, https_port=case.https_port, http_port=server.port)
        result = scan(target, policy=lab_policy, settings=LAB_SCAN_SETTINGS, ca_file=lab.ca_file)
    ids = {finding.id for finding in grade(result).findings}
    assert "http.redirect.oversized" in ids and "http.unreachable" not in ids, (ids, result.http.error)
