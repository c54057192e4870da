"""The Celery application: workers run scans; Redis is the broker."""

from __future__ import annotations

import logging
import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webui.settings")

app = Celery("webui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["scanner"])


class HeartbeatStep(bootsteps.StartStopStep):
    """Every worker node, busy or idle, stamps its name and the time into the broker on a timer, so /healthz
    and the metrics can tell "no worker alive" from "workers alive with nothing to do"."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_ref = None

    def start(self, worker):
        from scanner import config

        self._beat(worker)
        self.timer_ref = worker.timer.call_repeatedly(config.worker_heartbeat_interval(), self._beat, (worker,))

    def stop(self, worker):
        if self.timer_ref is not None:
            self.timer_ref.cancel()

    @staticmethod
    def _beat(worker):
        from scanner.nodes import record_worker_heartbeat

        try:
            record_worker_heartbeat(worker.hostname)
        except Exception:
            logging.getLogger(__name__).warning("could not record the worker heartbeat", exc_info=True)


app.steps["worker"].add(HeartbeatStep)
