"""Sending a task's message by the task's name.

Services send work to the workers, and the tasks (scanner/tasks.py) call services: naming the task instead of
importing it keeps that a one-way import. Celery's routes (CELERY_TASK_ROUTES) still apply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Celery

RUN_SCAN = "scanner.tasks.run_scan"
DELIVER_ALERT = "scanner.tasks.deliver_alert"
SEND_CHANNEL_TEST = "scanner.tasks.send_channel_test"
BUILD_COMPLIANCE_EVIDENCE = "scanner.tasks.build_compliance_evidence"
SEND_PORTFOLIO_DIGEST = "scanner.tasks.send_portfolio_digest"
RUN_BULK_OPERATION = "scanner.tasks.run_bulk_operation"


def send_task(name: str, *, args: list[Any], task_id: str | None = None, queue: str | None = None) -> None:
    options: dict[str, Any] = {"task_id": task_id} if task_id else {}
    if queue:
        options["queue"] = queue
    app = _celery_app()
    if app.conf.task_always_eager:
        # Eager mode (demos, some browser tests) runs the task right here, so it must be registered: Celery's
        # autodiscovery imports the task modules on this signal.
        app.loader.import_default_modules()
        app.tasks[name].apply_async(args=args, **options)
        return
    app.send_task(name, args=args, **options)


def _celery_app() -> Celery:
    # Loaded on the first send, not with this module: the services import it, and `manage.py scan` uses the
    # services without ever sending a task (Celery is about a fifth of its start-up).
    from webui.celery import app

    return app
