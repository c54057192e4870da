"""What an operator watches: Prometheus metrics, /healthz, and the worker heartbeat behind both.

Every number is read at scrape time from the places that hold the truth for all processes at once: the
database (scans, deliveries) and the broker (queue lengths, worker heartbeats). In-process counters would
each see one gunicorn or Celery process's share and reset on every restart.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

import redis
from django.db import connection
from django.db.models import Case, CharField, Count, F, Min, Q, Sum, Value, When
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from scanner import config
from scanner.models import Delivery, Scan
from scanner.nodes import broker_client, worker_heartbeats

DURATION_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300)
# Failure reasons are sentences for people; metrics group them into a few stable labels by what they say.
# First match wins, so the order matters ("resolves to ..., a private address" is a policy refusal, not DNS).
FAILURE_REASONS = (
    ("policy_refused", ("a private, loopback", "not allowed")),
    ("dns", ("does not resolve",)),
    ("time_limit", ("exceeded", "time limit", "deadline", "timed out", "timeout")),
    ("worker_lost", ("gave up", "worker", "never started")),
    ("queue", ("could not be queued", "broker")),
    ("incomplete", ("incomplete",)),
    ("unreachable", ("connect", "unreachable", "refused", "reset")),
)


# --- /healthz -----------------------------------------------------------------


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - a probe reports, it does not raise
        return f"error: {type(exc).__name__}"
    return "ok"


@require_GET
def healthz(request):
    """Database, broker and workers, each reported on its own; 503 when any of them is down."""
    database = _check_database()
    client = broker_client()
    try:
        client.ping()
        broker = "ok"
        ages = worker_heartbeats(client)
    except (redis.RedisError, OSError) as exc:
        broker, ages = f"error: {type(exc).__name__}", {}
    finally:
        client.close()
    fresh = {node: round(age, 1) for node, age in ages.items() if age <= config.worker_heartbeat_max_age()}
    if broker != "ok":
        worker = "unknown: the broker is down"
    elif fresh:
        worker = "ok"
    else:
        newest = min(ages.values(), default=None)
        worker = "error: no worker heartbeat" + (f" for {newest:.0f} s" if newest is not None else " yet")
    healthy = database == broker == worker == "ok"
    return JsonResponse(
        {
            "status": "ok" if healthy else "error",
            "database": database,
            "broker": broker,
            "worker": worker,
            "workers": fresh,
        },
        status=200 if healthy else 503,
    )


# --- /metrics -----------------------------------------------------------------


def _failure_reason():
    whens = [When(_any_contains(words), then=Value(label)) for label, words in FAILURE_REASONS]
    return Case(*whens, default=Value("other"), output_field=CharField())


def _any_contains(words: tuple[str, ...]) -> Q:
    query = Q()
    for word in words:
        query |= Q(error__icontains=word)
    return query


class ScannerCollector:
    """Collects on every scrape: a handful of aggregate queries, each served by an index or a small table."""

    def collect(self):
        scans = Scan.objects.order_by()
        started = CounterMetricFamily("scanner_scans_started", "Scans a worker has started.")
        started.add_metric([], scans.filter(started_at__isnull=False).count())
        yield started

        finished = CounterMetricFamily(
            "scanner_scans_finished",
            "Scans that ended, by status and (for failures) reason.",
            labels=["status", "reason"],
        )
        finished.add_metric(["done", ""], scans.filter(status=Scan.Status.DONE).count())
        for row in (
            scans.filter(status=Scan.Status.FAILED)
            .annotate(reason=_failure_reason())
            .values("reason")
            .annotate(n=Count("id"))
        ):
            finished.add_metric(["failed", row["reason"]], row["n"])
        yield finished

        active = GaugeMetricFamily("scanner_scans_active", "Scans queued or running now.", labels=["status"])
        counts = dict(scans.filter(status__in=Scan.ACTIVE_STATUSES).values_list("status").annotate(Count("id")))
        for status in Scan.ACTIVE_STATUSES:
            active.add_metric([status], counts.get(status, 0))
        yield active

        oldest = scans.filter(status=Scan.Status.QUEUED).aggregate(oldest=Min("requested_at"))["oldest"]
        age = GaugeMetricFamily("scanner_oldest_queued_scan_age_seconds", "Age of the oldest queued scan (0: none).")
        age.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0)
        yield age

        yield self._durations(scans)

        deliveries = CounterMetricFamily(
            "scanner_alert_deliveries", "Alert deliveries to channels, by outcome.", labels=["status"]
        )
        counts = dict(Delivery.objects.order_by().values_list("status").annotate(Count("id")))
        for status in (Delivery.Status.SENT, Delivery.Status.FAILED, Delivery.Status.RETRYING, Delivery.Status.PENDING):
            deliveries.add_metric([{"sent": "delivered"}.get(status, status)], counts.get(status, 0))
        yield deliveries

        yield from self._broker()

    @staticmethod
    def _durations(scans):
        """Done scans' run time (started to finished), bucketed by the database in one pass."""
        duration = F("finished_at") - F("started_at")
        sums = {
            f"le_{b}": Sum(Case(When(finished_at__lte=F("started_at") + timedelta(seconds=b), then=1), default=0))
            for b in DURATION_BUCKETS
        }
        row = scans.filter(status=Scan.Status.DONE, started_at__isnull=False, finished_at__isnull=False).aggregate(
            count=Count("id"), total=Sum(duration), **sums
        )
        histogram = HistogramMetricFamily("scanner_scan_duration_seconds", "How long done scans ran.")
        buckets = [(str(float(b)), row[f"le_{b}"] or 0) for b in DURATION_BUCKETS] + [("+Inf", row["count"])]
        total = row["total"].total_seconds() if row["total"] else 0.0
        histogram.add_metric([], buckets, total)
        return histogram

    @staticmethod
    def _broker():
        depth = GaugeMetricFamily("scanner_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"])
        up = GaugeMetricFamily("scanner_broker_up", "1 when the broker answered this scrape.")
        workers = GaugeMetricFamily(
            "scanner_worker_heartbeat_age_seconds", "Seconds since each worker node's last heartbeat.", labels=["node"]
        )
        client = broker_client()
        try:
            for queue in metric_queues():
                # kombu keeps messages of priority n in "<queue>\x06\x16<n>" lists next to the plain one.
                names = [queue, *(f"{queue}\x06\x16{n}" for n in range(1, 10))]
                with client.pipeline() as pipe:
                    for name in names:
                        pipe.llen(name)
                    depth.add_metric([queue], sum(pipe.execute()))
            for node, seconds in worker_heartbeats(client).items():
                workers.add_metric([node], seconds)
            up.add_metric([], 1)
        except (redis.RedisError, OSError):
            up.add_metric([], 0)
        finally:
            client.close()
        yield up
        yield depth
        yield workers


def metric_queues() -> list[str]:
    return list(
        dict.fromkeys(
            [
                config.scan_queue_name(),
                config.rescan_queue_name(),
                config.alert_queue_name(),
                config.default_queue_name(),
            ]
        )
    )


@require_GET
def metrics(request):
    """Prometheus text format. Off (404) until SCANNER_METRICS_TOKEN is set; then that token is required as
    `Authorization: Bearer <token>`, so scan volumes and failures are not public."""
    token = config.metrics_token()
    if not token:
        return HttpResponse("Metrics are off: set SCANNER_METRICS_TOKEN.\n", status=404, content_type="text/plain")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        response = HttpResponse("A valid metrics token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ScannerCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
