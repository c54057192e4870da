"""`manage.py scan` loads what a scan needs and nothing of the web service or the workers.

Each test runs a real process and reads which modules it had imported when it exited: the API (DRF views and serializers,
drf-spectacular's schema), the URLconf the system checks would load, the project's Celery app and the PDF
builder cost most of the command's start-up and serve none of it (benchmarks/cli_startup.py times it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_FOR_A_SCAN = (
    "webui.celery",  # the Celery app: the command sends no task (django-celery-beat's models still import celery)
    "webui.urls",  # the URLconf: loaded by the system checks, which the command skips
    "webui.api.views",
    "rest_framework.views",
    "rest_framework.serializers",
    "drf_spectacular.openapi",
    "fpdf",  # the compliance PDF builder
)
# Runs the code given after it as __main__ and, at exit, however it exits, writes the names in sys.modules
# to the file named first: every module the process imported, however it was imported.
REPORTER = """
import atexit, json, runpy, sys
out, sys.argv = sys.argv[1], sys.argv[2:]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _imported_by(script: Path, arguments: list[str], out: Path) -> tuple[set[str], subprocess.CompletedProcess]:
    finished = subprocess.run(
        [sys.executable, "-c", REPORTER, str(out), str(script), *arguments],
        check=False,
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
    )
    return set(json.loads(out.read_text())), finished


def _imported_after_django_setup(
    tmp_path: Path, statement: str, *, storing: bool = False
) -> tuple[set[str], subprocess.CompletedProcess]:
    """Every module a process running `statement` after django.setup() (or, `storing`, after the set-up of the
    process that stores a command-line scan) has imported by its exit."""
    script = tmp_path / "after_setup.py"
    set_up = (
        "from scanner.storage_process import set_up_django_for_storing\nset_up_django_for_storing()\n"
        if storing
        else "import django\ndjango.setup()\n"
    )
    script.write_text(f"import os\nos.environ['DJANGO_SETTINGS_MODULE'] = 'webui.settings'\n{set_up}{statement}\n")
    return _imported_by(script, [], tmp_path / "modules.json")


def test_django_setup_and_the_scan_command_module_load_neither_the_engine_probes_nor_the_web_service(tmp_path):
    # What every manage.py process pays before its command runs: the models must not pull sslyze in through
    # grading and the engine's results, nor the admin modules the API.
    names, finished = _imported_after_django_setup(tmp_path, "import scanner.management.commands.scan")
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "scanner.models" in names  # the measurement saw the set-up
    assert sorted(names & {*NOT_FOR_A_SCAN, "sslyze", "httpx"}) == []


def test_the_process_storing_a_command_line_scan_loads_no_broker_client(tmp_path):
    # It sets Django up and imports the services while the scan runs, on the core the scan shares: the Redis
    # client only serves the services that read the broker's queues.
    names, finished = _imported_after_django_setup(
        tmp_path, "from scanner.services import record_cli_scan", storing=True
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "scanner.services.scan_runs" in names  # the measurement saw the services
    assert "redis" not in names


def test_a_whole_scan_from_the_command_line_never_loads_celery_the_api_or_the_urlconf(lab, tmp_path):
    arguments = list(lab.scan_command("good", "--json", "--no-store"))
    names, finished = _imported_by(ROOT / "manage.py", arguments, tmp_path / "modules.json")
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert json.loads(finished.stdout)["grade"]["security"] == "A+"
    assert "sslyze" in names  # the scan ran in this process
    assert sorted(names & set(NOT_FOR_A_SCAN)) == []


def test_a_scan_that_is_not_stored_never_sets_django_up(lab, tmp_path):
    arguments = list(lab.scan_command("good", "--json", "--no-store"))
    names, finished = _imported_by(ROOT / "manage.py", arguments, tmp_path / "modules.json")
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "sslyze" in names  # the scan ran in this process
    assert sorted(names & {"scanner.models", "django_celery_beat", "django.contrib.auth.models", "psycopg"}) == []


# Like REPORTER, but writes the names in sys.modules at each fork of the command's process (the storage process,
# then the TLS scan's child).
FORK_REPORTER = """
import json, os, runpy, sys
out, sys.argv = sys.argv[1], sys.argv[2:]
seen, parent, fork = [], os.getpid(), os.fork
def reporting_fork():
    if os.getpid() == parent:
        seen.append(sorted(sys.modules))
        open(out, "w").write(json.dumps(seen))
    return fork()
os.fork = reporting_fork
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_the_tls_scan_starts_before_grading_the_caa_lookup_and_the_http_client_are_imported(lab, tmp_path):
    # They are imported beside the scan, while it waits on the network (scanner.engine.scan's `beside`, and the
    # HTTP probe's own thread).
    out = tmp_path / "forks.json"
    arguments = list(lab.scan_command("good", "--json", "--no-store"))
    finished = subprocess.run(
        [sys.executable, "-c", FORK_REPORTER, str(out), str(ROOT / "manage.py"), *arguments],
        check=False,
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert json.loads(finished.stdout)["grade"]["security"] == "A+"  # graded, with the CAA lookup done
    tls_fork = next(names for names in json.loads(out.read_text()) if "sslyze" in names)
    assert (
        sorted(
            {"scanner.grading", "scanner.report", "dns.resolver", "httpx", "scanner.outbound", "gmpy2"} & set(tls_fork)
        )
        == []
    )
