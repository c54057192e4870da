"""Set Django up in a forked process while this one scans, and grade and store the scan there (`manage.py scan`).

The scan, its grades and its report are plain Python; only storing them needs the ORM, and Django's set-up
(the apps' models, the database driver) costs a command-line scan about as long as the scan's own imports.
Forked before the scan starts, a second process sets Django up on the other core (or while this one waits on
the network), connects to the database, and waits for the finished scan; `store` hands it over and waits for
the answer: the report, graded there, and whether it was stored. The grading is done there because that
process imports it with the models anyway, before the scan ends, while this one has the scan to run. A process
and not a thread: the scan forks its TLS child, and no thread of ours may run across that fork (a thread
halfway through an import would leave the child a module lock nobody releases).

The storing process never outlives the command: it exits once it has answered, when this process closes the
pipe (the scan was not to be stored after all, or this process died), or when this process dies.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import traceback
from typing import TYPE_CHECKING

from scanner import dataclass_code_cache
from scanner.parent_death import die_with_parent

if TYPE_CHECKING:
    from scanner.engine.results import ScanResult
    from scanner.grading import Grades
    from scanner.targets import Target

__all__ = [
    "APPS_A_STORE_NEVER_REACHES",
    "StorageFailed",
    "StorageProcess",
    "database_error_reason",
    "set_up_django_for_storing",
]

# Installed apps that storing a scan never reaches: they serve pages (the admin, sessions, messages, static files,
# the API's schema and its Swagger assets, the Content-Security-Policy header, the dashboard) or schedule rescans
# (beat, whose models import Celery and list every time zone on the machine). Left out of the storing process's
# set-up, they were a fifth of it. A stored scan writes users, sites and scans: their models, and every receiver
# of their signals, are in the apps that stay (tests/test_storing_apps.py checks both).
APPS_A_STORE_NEVER_REACHES = frozenset(
    {
        "django.contrib.admin.apps.SimpleAdminConfig",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
        "drf_spectacular",
        "drf_spectacular_sidecar",
        "django_celery_beat",
        "csp",
        "webui.dashboard",
    }
)


class StorageFailed(RuntimeError):
    """The scan could not be stored; the message says why (the database's own error, or the set-up's).
    `report` is the scan's report when it was graded all the same, else None."""

    def __init__(self, message: str, report: dict | None = None) -> None:
        super().__init__(message)
        self.report = report


def database_error_reason(exc: Exception) -> str:
    """Why the database refused a store, as the command prints it (the driver's message ends in a newline)."""
    return f"{type(exc).__name__}: {str(exc).strip()}"


class StorageProcess:
    """A forked process that sets Django up now and grades and stores one CLI scan when `store` hands it over."""

    grades_elsewhere = True

    def __init__(self) -> None:
        to_child, self._to_child = os.pipe()
        self._from_child, from_parent = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:  # pragma: no cover - runs in the child, which never returns into the caller
            code = 1
            try:
                os.close(self._to_child)
                os.close(self._from_child)
                _child_main(to_child, from_parent)
                code = 0
            finally:
                os._exit(code)
        os.close(to_child)
        os.close(from_parent)

    def store(self, owner: str, target: Target, result: ScanResult) -> dict:
        """Grade the scan and store it as `record_cli_scan` does; its report. StorageFailed with the reason (and
        the report, when the scan was graded) when it was not stored."""
        try:
            _write_all(self._to_child, pickle.dumps((owner, target, result)))
            self._close_to_child()  # end of the scan: the child reads to EOF
            answer = _read_all(self._from_child)
        except OSError as exc:  # the child died before reading (EPIPE)
            raise StorageFailed(f"the process storing the scan ended early ({exc})") from None
        finally:
            self.close()
        if not answer:
            raise StorageFailed("the process storing the scan ended without an answer")
        kind, message, report = pickle.loads(answer)
        if kind != "stored":
            raise StorageFailed(message, report)
        return report

    def close(self) -> None:
        """End the child and reap it; safe to call twice. Before `store` the child has nothing to finish (the
        scan is not to be stored: an error, Ctrl-C), so it is stopped rather than left to finish its set-up."""
        if self._to_child >= 0 and self._pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
        self._close_to_child()
        if self._from_child >= 0:
            os.close(self._from_child)
            self._from_child = -1
        if self._pid:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = 0

    def _close_to_child(self) -> None:
        if self._to_child >= 0:
            os.close(self._to_child)
            self._to_child = -1


def _child_main(from_parent: int, to_parent: int) -> None:  # pragma: no cover - runs in the forked child
    # Ctrl-C reaches the whole process group; the parent decides what happens, and closing its pipe ends us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    set_up_error = _set_up()
    from scanner.report import grade_and_report  # pure Python: grades even when Django could not be set up

    payload = _read_all(from_parent)
    if not payload:
        return  # nothing to store: --no-store after all, a failed argument, or the parent is gone
    owner, target, result = pickle.loads(payload)
    try:
        grades, report = grade_and_report(result)
    except Exception as exc:  # noqa: BLE001 - the parent grades again, and shows the error there
        answer = ("failed", f"{type(exc).__name__}: {exc}", None)
    else:
        kind, message = ("failed", set_up_error) if set_up_error else _store(owner, target, result, grades, report)
        answer = (kind, message, report)
    with contextlib.suppress(OSError):
        _write_all(to_parent, pickle.dumps(answer))
    os.close(to_parent)
    # The dataclasses only this process declares (the grading's, the services'), compiled once for the next runs.
    dataclass_code_cache.save()


def _set_up() -> str | None:  # pragma: no cover - runs in the forked child
    """django.setup() and a first database connection, ready before the scan ends; the set-up's error, if any."""
    try:
        set_up_django_for_storing()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which prints it beside the scan
        traceback.print_exc()
        return f"Django could not be set up: {type(exc).__name__}: {exc}"
    from django.db import DatabaseError, connection

    import scanner.services  # noqa: F401 - what storing runs, imported before the scan has ended

    # Connecting is most of a small write's time; if it fails here, storing tries again and reports that error.
    with contextlib.suppress(DatabaseError):
        connection.ensure_connection()
    return None


def set_up_django_for_storing() -> None:
    """django.setup() with the installed apps but those a stored scan never reaches; for a process that only stores."""
    import django
    from django.conf import settings

    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app not in APPS_A_STORE_NEVER_REACHES]
    django.setup()


def _store(
    owner: str, target: Target, result: ScanResult, grades: Grades, report: dict
) -> tuple[str, str]:  # pragma: no cover
    from django.db import DatabaseError, close_old_connections, connections

    from scanner.services import record_cli_scan

    try:
        # Opened before the scan, which may have lasted minutes: checked (CONN_HEALTH_CHECKS) before its first use.
        close_old_connections()
        record_cli_scan(owner, target, result, grades, report)
    except DatabaseError as exc:
        return "failed", database_error_reason(exc)
    except Exception as exc:  # noqa: BLE001 - any other failure, with its traceback on stderr
        traceback.print_exc()
        return "failed", f"{type(exc).__name__}: {exc}"
    finally:
        connections.close_all()
    return "stored", ""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_all(fd: int) -> bytes:
    """Everything written to `fd` until the other end closes it."""
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)
