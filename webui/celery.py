"""The Celery application: workers run scans; Redis is the broker."""

from __future__ import annotations

import logging
import os
import threading

from celery import Celery, bootsteps
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webui.settings")

app = Celery("webui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["scanner"])


@app.on_after_configure.connect
def _weekly_schedules(sender: Celery, **kwargs: object) -> None:
    """Beat's crontab entries (settings.py holds the interval ones: it must not import Celery)."""
    sender.conf.beat_schedule["scanner-weekly-digests"] = {
        "task": "scanner.tasks.queue_weekly_digests",
        "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
    }


class HeartbeatStep(bootsteps.StartStopStep):
    """Every worker node, busy or idle, stamps its incarnation and the time into the broker, so /healthz and
    the metrics can tell "no worker alive" from "workers alive with nothing to do", and the reaper can tell a
    dead node's prefetched scans (scanner.nodes).

    The beat runs in a thread of its own, not on the worker's event-loop timer: celery 5.6.3 clears that timer
    when the broker connection is lost (`hub.timer.clear()` in celery/worker/loops.py), and a timer entry made
    once at start never came back after a Redis restart."""

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.incarnation = ""

    def start(self, worker):
        from scanner import config
        from scanner.nodes import start_incarnation

        try:
            self.incarnation = start_incarnation(worker.hostname)
        except Exception:  # the broker is down: the first beat records the incarnation when it is back
            logging.getLogger(__name__).warning("could not announce the worker node", exc_info=True)
            from scanner.nodes import incarnation_of

            self.incarnation = incarnation_of(worker.hostname)
        interval = config.worker_heartbeat_interval()
        self.thread = threading.Thread(target=self._run, args=(interval,), name="node-heartbeat", daemon=True)
        self.thread.start()

    def stop(self, worker):
        self.stopped.set()

    def _run(self, interval: float) -> None:
        from scanner.nodes import record_worker_heartbeat

        while not self.stopped.wait(interval):
            try:
                record_worker_heartbeat(self.incarnation)
            except Exception:  # the broker is down or restarting: the next beat tries again
                logging.getLogger(__name__).warning("could not record the worker heartbeat", exc_info=True)


app.steps["worker"].add(HeartbeatStep)
