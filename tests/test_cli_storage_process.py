"""`manage.py scan` as a user runs it: the scan starts before Django is set up, and is stored by a process that
sets Django up beside it (scanner/storage_process.py). Each test runs the real command in a process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.engine.results import ScanResult
from scanner.management.commands.scan import Command
from scanner.models import Scan
from scanner.storage_process import StorageFailed
from scanner.targets import parse_target
from tests.conftest import subprocess_database_url
from tests.test_cli_startup import _imported_by

ROOT = Path(__file__).resolve().parent.parent


def manage(*arguments: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)  # the command's own process writes: this test must see its commit
def test_the_scan_stored_beside_the_scan_is_the_report_it_printed(lab):
    finished = manage(*lab.scan_command("nohsts", "--json"), DATABASE_URL=subprocess_database_url())
    assert finished.returncode == 0, finished.stderr[-2000:]
    printed = json.loads(finished.stdout)
    stored = Scan.objects.get(site__hostname="nohsts.lab.test")
    assert (stored.status, stored.security_grade) == ("done", "A-")
    assert stored.result == printed


@pytest.mark.django_db(transaction=True)
def test_a_failed_scan_is_stored_as_failed_and_the_command_exits_1(lab):
    finished = manage(*lab.scan_command("closed", "--json"), DATABASE_URL=subprocess_database_url())
    assert finished.returncode == 1 and "CommandError: scan failed" in finished.stderr
    assert json.loads(finished.stdout)["status"] == "failed"
    assert Scan.objects.get(site__hostname="closed.lab.test").status == "failed"


@pytest.mark.django_db(transaction=True)
def test_a_reader_that_stops_reading_early_gets_the_scan_stored_and_no_traceback(lab):
    # `manage.py scan ... | head -1`: the pipe closes before the report is written.
    command = [sys.executable, "manage.py", *lab.scan_command("nohsts")]
    env = {**os.environ, "DATABASE_URL": subprocess_database_url()}
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        process.stdout.close()
        stderr = process.stderr.read().decode()
    assert process.returncode == 1
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
    assert Scan.objects.get(site__hostname="nohsts.lab.test").status == "done"


def test_a_database_that_does_not_answer_fails_the_command_after_printing_the_scan(lab):
    finished = manage(
        *lab.scan_command("good", "--json"),
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{_closed_port()}/nothing",
        DATABASE_CONNECT_TIMEOUT="2",
    )
    assert finished.returncode == 1
    assert json.loads(finished.stdout)["grade"]["security"] == "A+"
    assert "CommandError: the scan was not stored: OperationalError" in finished.stderr


def test_the_command_line_scan_has_the_help_django_gives_it():
    direct, through_django = manage("scan", "--help"), manage("help", "scan")
    assert direct.returncode == through_django.returncode == 0
    assert direct.stdout == through_django.stdout and "--no-store" in direct.stdout


def test_a_mistyped_option_exits_2_with_argparses_message():
    finished = manage("scan", "example.com", "--jsn")
    assert finished.returncode == 2
    assert "manage.py scan: error: unrecognized arguments: --jsn" in finished.stderr


@pytest.mark.django_db(transaction=True)
def test_an_abbreviated_no_store_stores_nothing(lab):
    # argparse takes "--no-st" for --no-store: the storing process is only forked after the options are parsed.
    finished = manage(*lab.scan_command("good", "--json", "--no-st"), DATABASE_URL=subprocess_database_url())
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert json.loads(finished.stdout)["grade"]["security"] == "A+"
    assert not Scan.objects.filter(site__hostname="good.lab.test").exists()


@pytest.mark.django_db(transaction=True)
def test_a_stored_scan_is_graded_by_the_storing_process_not_by_the_scanning_one(lab, tmp_path, monkeypatch):
    # The storing process imports the grading with the models, before the scan ends; the scanning process,
    # which has the scan to run on its core, never imports it.
    monkeypatch.setenv("DATABASE_URL", subprocess_database_url())
    names, finished = _imported_by(ROOT / "manage.py", list(lab.scan_command("good", "--json")), tmp_path / "m.json")
    assert finished.returncode == 0, finished.stderr[-2000:]
    printed = json.loads(finished.stdout)
    assert printed["grade"]["security"] == "A+"
    assert Scan.objects.get(site__hostname="good.lab.test").result == printed
    assert "scanner.engine.tls" in names  # the measurement saw the scanning process
    assert sorted(names & {"scanner.grading", "scanner.report"}) == []


class _StoringProcessThatEndedEarly:
    grades_elsewhere = True

    def store(self, owner: str, target, result) -> dict:
        raise StorageFailed("the process storing the scan ended without an answer")


def test_a_scan_whose_storing_process_ended_before_grading_it_is_graded_here_and_reported_not_stored():
    result = ScanResult(
        host="gone.example",
        https_port=443,
        http_port=80,
        ip=None,
        started_at=datetime.now(UTC),
        duration_s=0.1,
        error="connection refused",
    )
    report, not_stored = Command._report_and_store(
        _StoringProcessThatEndedEarly(), "cli", parse_target("gone.example"), result
    )
    assert (report["status"], report["target"]["host"]) == ("failed", "gone.example")
    assert not_stored == "the process storing the scan ended without an answer"
