"""gunicorn settings for the web tier (bin/run, deploy/Procfile, deploy/Dockerfile). Environment overrides:

PORT (8000), WEB_BIND_HOST (127.0.0.1; 0.0.0.0 in the container), WEB_CONCURRENCY (processes), WEB_THREADS,
WEB_MAX_REQUESTS (0: processes are not recycled).
"""

from __future__ import annotations

import gc
import os


def usable_cores() -> int:
    """The cores this process may run on (a cpuset or taskset narrows them), not every core of the host."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = f"{os.environ.get('WEB_BIND_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# One process per usable core, four threads each. A kept-alive connection stays with the process that accepted
# it, and processes race for new connections, so the more processes per core, the more unequally connections
# wait (measured: 4 processes on 2 cores gave one connection 10-20x the requests of another, and a p99 several
# times the mean). One process for the whole machine serves connections evenly but holds Python to one core
# (the GIL): on a quiet 2-core machine 1 x 8 served /healthz at 199-257 requests/s with a p99 of 556-647 ms,
# 2 x 4 at 430-525 requests/s with a p99 of 388-480 ms. docs/benchmarks.md, "API at 100 connections".
# Every thread keeps one persistent database connection (CONN_MAX_AGE), so processes x threads is the web
# tier's connection budget: 4 per core.
workers = int(os.environ.get("WEB_CONCURRENCY", str(usable_cores())))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
# Keep-alive lets a proxy (or a load generator) reuse connections instead of a TCP handshake per request.
keepalive = 5
timeout = 30
graceful_timeout = 20
# Off by default: a recycled process stops serving while its replacement imports Django and warms up, and
# with one process that stalls every client for seconds (measured: a p99 of 5-7 s in a run with two
# recycles). Set it when a process is seen to grow; the jitter keeps several processes from recycling at once.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("WEB_ACCESS_LOG") or None  # "-" for stdout; off by default (a line per request costs)
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "scanner-web"


def post_worker_init(worker: object) -> None:
    """Import every view now, then move what start-up built (Django, DRF, the views: about 150,000 objects)
    out of the garbage collector's reach. A full collection otherwise walks all of it while holding the GIL,
    stalling every request of the process: 8 pauses totalling 1.4 s (the longest 0.86 s) in 10 s of site-list
    requests on a loaded machine, 0.18 s (0.02 s) once frozen. https://docs.python.org/3/library/gc.html#gc.freeze
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the URLconf imports the views
    gc.collect()  # start-up's own garbage is freed, not frozen
    gc.freeze()


# gunicorn's runtime control socket lives in the user's home by default; several servers on one machine
# (tests, benchmarks, two deployments) would fight over it, and nothing here uses it.
control_socket_disable = True
