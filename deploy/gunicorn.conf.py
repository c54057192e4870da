"""gunicorn settings for the web tier (bin/run, deploy/Procfile, deploy/Dockerfile). Environment overrides:

PORT (8000), WEB_BIND_HOST (127.0.0.1; 0.0.0.0 in the container), WEB_CONCURRENCY (processes), WEB_THREADS.
"""

from __future__ import annotations

import multiprocessing
import os

bind = f"{os.environ.get('WEB_BIND_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Threads in a few processes: requests mostly wait on PostgreSQL, and every thread keeps one persistent
# database connection (CONN_MAX_AGE), so processes x threads is also the web tier's connection budget.
workers = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("WEB_THREADS", "2"))
worker_class = "gthread"
# Keep-alive lets a proxy (or a load generator) reuse connections instead of a TCP handshake per request.
keepalive = 5
timeout = 30
graceful_timeout = 20
# Recycle processes now and then so a slow leak cannot grow without bound; jitter avoids restarting all at once.
max_requests = 20000
max_requests_jitter = 2000
accesslog = os.environ.get("WEB_ACCESS_LOG") or None  # "-" for stdout; off by default (a line per request costs)
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "scanner-web"
# gunicorn's runtime control socket lives in the user's home by default; several servers on one machine
# (tests, benchmarks, two deployments) would fight over it, and nothing here uses it.
control_socket_disable = True
