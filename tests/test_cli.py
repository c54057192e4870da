"""`manage.py scan`: synchronous scans from the command line, stored and printed."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from scanner.models import Scan

pytestmark = pytest.mark.django_db


def run_scan(lab, name, *extra):
    return lab.scan_command(name, *extra)


def test_json_report_has_the_documented_shape(lab, lab_settings, capsys):
    call_command(*run_scan(lab, "good", "--json"))
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "done" and report["error"] is None
    assert report["target"]["host"] == "good.lab.test"
    assert report["grade"]["security"] == "A+"
    assert report["protocols"]["TLSv1.3"] is True and report["protocols"]["SSLv3"] is False
    assert report["certificate"]["trusted"] is True
    assert report["hsts"]["present"] is True
    assert report["redirects"]["chain"][0]["status"] == 301


def test_human_report_names_the_grade_and_findings(lab, lab_settings, capsys):
    call_command(*run_scan(lab, "expired"))
    output = capsys.readouterr().out
    assert "security grade: T" in output and "cert.expired" in output


def test_scan_is_stored_in_the_database(lab, lab_settings):
    call_command(*run_scan(lab, "nohsts", "--json"))
    stored = Scan.objects.get(site__hostname="nohsts.lab.test")
    assert (stored.status, stored.security_grade) == ("done", "A-")


def test_failed_scan_exits_non_zero_and_is_stored_as_failed(lab, lab_settings):
    with pytest.raises(CommandError, match="refused"):
        call_command(*run_scan(lab, "closed", "--json"))
    assert Scan.objects.get(site__hostname="closed.lab.test").status == "failed"


def test_a_scan_whose_storing_fails_half_way_leaves_no_scan_behind(lab, lab_settings):
    # A real database refusal halfway through the store: PostgreSQL refuses the scan's findings.
    if connection.vendor != "postgresql":
        pytest.skip("the refusal is a PostgreSQL trigger")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_findings() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'findings refused'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_findings BEFORE INSERT ON scanner_finding "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_findings()"
        )
    with pytest.raises(CommandError, match="not stored: .*findings refused"):
        call_command(*run_scan(lab, "nohsts", "--json"))
    assert not Scan.objects.filter(site__hostname="nohsts.lab.test").exists()


def test_invalid_host_is_rejected_with_a_clear_message(lab_settings):
    with pytest.raises(CommandError, match="paths"):
        call_command("scan", "https://example.com/some/path")


def test_address_pinned_with_resolve_is_scanned_without_allow_network(lab, settings, capsys):
    settings.SCANNER_ALLOWED_NETWORKS = []
    settings.SCANNER_RESOLVE = []
    call_command(*run_scan(lab, "good", "--json", "--no-store"))
    assert json.loads(capsys.readouterr().out)["status"] == "done"


def test_json_report_lists_probes_and_partial(lab, lab_settings, capsys):
    call_command(*run_scan(lab, "fallbackalert", "--json", "--no-store"))
    report = json.loads(capsys.readouterr().out)
    assert (report["status"], report["partial"]) == ("done", True)
    assert report["probes"]["fallback_scsv"]["status"] == "error" and report["probes"]["certificate"]["status"] == "ok"


def test_json_report_separates_trusted_from_chain_trusted(lab, lab_settings, capsys):
    call_command(*run_scan(lab, "expired", "--json", "--no-store"))
    certificate = json.loads(capsys.readouterr().out)["certificate"]
    assert (certificate["trusted"], certificate["chain_trusted"]) == (False, True)


def test_refused_loopback_target_tells_a_cli_user_what_to_do(lab, settings):
    settings.SCANNER_ALLOWED_NETWORKS = []
    settings.SCANNER_RESOLVE = [lab.case("good").pin]
    case = lab.case("good")
    with pytest.raises(CommandError, match="--resolve"):
        call_command("scan", f"{case.hostname}:{case.https_port}", "--no-store")


def test_aia_download_goes_through_the_network_policy(lab, settings, capsys):
    # The target is pinned on the command line (allowed); the AIA host is only in SCANNER_RESOLVE and its
    # loopback network is not allowed, so the intermediate cannot be fetched and the chain stays untrusted.
    settings.SCANNER_ALLOWED_NETWORKS = []
    settings.SCANNER_RESOLVE = [pin for pin in lab.resolve_map() if pin.startswith("aia.")]
    from scanner.engine.certificates import aia

    aia.CACHE.clear()
    try:
        call_command(*run_scan(lab, "nointermediate", "--json", "--no-store"))
    finally:
        aia.CACHE.clear()
    certificate = json.loads(capsys.readouterr().out)["certificate"]
    assert (certificate["chain_trusted"], certificate["chain_completed_via_aia"]) == (False, False)
    assert "not allowed" in certificate["validation_error"] or "private" in certificate["validation_error"]
