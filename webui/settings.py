"""Settings, all overridable from the environment (12-factor style).

Embedded defaults: SQLite file in ./var, Redis on 127.0.0.1:6379, DEBUG off (DJANGO_DEBUG=1 turns it on),
a secret key generated once into ./var. See deploy/README.md for the production settings.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from webui.env import env_bool, env_list, generated_secret_key
from webui.public_url import check_public_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SCANNER_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite and collected static files live here; a fresh clone has neither
(VAR_DIR / "static").mkdir(exist_ok=True)


# Production-shaped by default: error pages must never show settings unless someone asked for it.
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or generated_secret_key(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The admin without its start-up autodiscovery: webui/urls.py loads every app's admin module with the
    # URLs, so a process that serves no page (`manage.py scan`) does not import the API and the services.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc assets served from our own static files, no CDN
    "django_celery_beat",
    "csp",
    "scanner",
    "webui.api",
    "webui.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "webui.csp_header.StaticPolicyCSPMiddleware",  # django-csp's, the usual header built once
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into a 429 (see the Security block)
]

ROOT_URLCONF = "webui.urls"
WSGI_APPLICATION = "webui.wsgi.application"
ASGI_APPLICATION = "webui.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "webui" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "webui.context_processors.service",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        # Persistent connections: a gunicorn thread reuses its connection instead of opening one per request
        # (which exhausted PostgreSQL's max_connections at 100 concurrent clients); checked before reuse.
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
# --- Database outages (docs/reliability.md) -------------------------------------------------
# A worker that cannot store a scan's result reconnects and retries for up to this long (backoff 0.25 s
# doubling to 5 s) before handing the scan back to its task for a later retry; never a failed scan.
SCANNER_DATABASE_OUTAGE_BUDGET = float(os.environ.get("SCANNER_DATABASE_OUTAGE_BUDGET", "60"))
# PostgreSQL only: no statement may run longer than this (s; 0 = no limit), so a stalled database answers
# requests with an error (API 503) instead of holding them, and connecting gives up after DATABASE_CONNECT_TIMEOUT.
DATABASE_STATEMENT_TIMEOUT = float(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "30"))
DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    # Not for `manage.py migrate`: building an index on a large table may rightly take longer.
    if DATABASE_STATEMENT_TIMEOUT > 0 and sys.argv[1:2] != ["migrate"]:
        # https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT
        _pg_options["options"] = (
            _pg_options.get("options", "") + f" -c statement_timeout={int(DATABASE_STATEMENT_TIMEOUT * 1000)}"
        ).strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "webui" / "static"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "login"

# Scan requests are tiny; anything bigger than this is not a legitimate submission.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DJANGO_MAX_BODY_BYTES", str(2 * 1024 * 1024)))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "webui.api.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "webui.api.pagination.ApiPagination",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "webui.api.negotiation.RememberedContentNegotiation",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "webui.api.errors.api_exception_handler",
    # Rates are read from the SCANNER_API_* settings of the Security block at request time.
    "DEFAULT_THROTTLE_CLASSES": [
        "webui.api.throttling.UserRequestRateThrottle",
        "webui.api.throttling.TokenRequestRateThrottle",
        "webui.api.throttling.AnonRequestRateThrottle",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "HTTPS compliance scanner API",
    "DESCRIPTION": "Submit domains, read SSL Labs-style security grades, SEO readiness scores and findings.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation's error answers (400/401/403/404/409/413/415/429/503), in the one error shape.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "webui.api.schema.add_error_responses",
    ],
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = int(os.environ.get("CELERY_WORKER_PREFETCH_MULTIPLIER", "1"))
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# --- Worker reliability (docs/reliability.md) -------------------------------------------------------
# A scan's budget: the soft limit raises SoftTimeLimitExceeded in the task (the scan is failed with that
# reason); the hard limit kills the pool child. The per-probe deadlines fit inside the soft limit.
SCANNER_TASK_SOFT_TIME_LIMIT = int(os.environ.get("SCANNER_TASK_SOFT_TIME_LIMIT", "240"))
SCANNER_TASK_TIME_LIMIT = int(os.environ.get("SCANNER_TASK_TIME_LIMIT", "300"))
SCANNER_TLS_DEADLINE = float(os.environ.get("SCANNER_TLS_DEADLINE", "150"))
SCANNER_HTTP_DEADLINE = float(os.environ.get("SCANNER_HTTP_DEADLINE", "30"))
# An unacked message is handed out again after this long: just above the hard limit, so a live worker
# never loses its message to a second one, and nothing is ever delayed (countdown/eta) past it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("SCANNER_VISIBILITY_TIMEOUT", str(SCANNER_TASK_TIME_LIMIT + 30)))
}
# Backstops against slow growth in a pool child: recycle it after this many tasks or this much RSS (KiB).
CELERY_WORKER_MAX_TASKS_PER_CHILD = int(os.environ.get("CELERY_WORKER_MAX_TASKS_PER_CHILD", "200"))
CELERY_WORKER_MAX_MEMORY_PER_CHILD = int(os.environ.get("CELERY_WORKER_MAX_MEMORY_PER_CHILD", "400000"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# On a broker outage let running scans finish and store their result (the default, said explicitly).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# A running scan's worker writes a heartbeat this often; a scan whose heartbeat is older than the timeout
# has lost its worker (kill -9, host gone) and is queued again by the reaper.
SCANNER_HEARTBEAT_INTERVAL = float(os.environ.get("SCANNER_HEARTBEAT_INTERVAL", "10"))
SCANNER_HEARTBEAT_TIMEOUT = float(os.environ.get("SCANNER_HEARTBEAT_TIMEOUT", "40"))
# A queued scan not started after this long is sent again (its message may have been lost with Redis);
# one still not started after SCANNER_QUEUED_LIMIT is failed with that reason.
SCANNER_QUEUED_RESEND_AFTER = float(os.environ.get("SCANNER_QUEUED_RESEND_AFTER", "300"))
SCANNER_QUEUED_LIMIT = float(os.environ.get("SCANNER_QUEUED_LIMIT", "3600"))
# A portfolio rescan stores one queued row per site (sent later by release_due_scans); its own time limit.
SCANNER_RESCAN_TASK_TIME_LIMIT = int(os.environ.get("SCANNER_RESCAN_TASK_TIME_LIMIT", "1800"))
# How often beat runs the reaper and releases due rescan batches.
SCANNER_REAPER_INTERVAL = float(os.environ.get("SCANNER_REAPER_INTERVAL", "15"))
# How often beat's one entry for all portfolio schedules queues the portfolios due (scanner.services.due_rescans),
# and how many it claims per transaction. A schedule's minute fires within this interval after it.
SCANNER_DUE_RESCANS_INTERVAL = float(os.environ.get("SCANNER_DUE_RESCANS_INTERVAL", "60"))
SCANNER_DUE_RESCANS_BATCH_SIZE = int(os.environ.get("SCANNER_DUE_RESCANS_BATCH_SIZE", "500"))
CELERY_BEAT_SCHEDULE = {
    "scanner-reap-stale-scans": {"task": "scanner.tasks.reap_stale_scans", "schedule": SCANNER_REAPER_INTERVAL},
    "scanner-release-due-scans": {"task": "scanner.tasks.release_due_scans", "schedule": SCANNER_REAPER_INTERVAL},
    "scanner-queue-due-rescans": {"task": "scanner.tasks.queue_due_rescans", "schedule": SCANNER_DUE_RESCANS_INTERVAL},
}
# The embedded SQLite default: WAL lets readers run beside the writer, IMMEDIATE transactions take the
# write lock up front (a deferred one that upgrades later fails at once with "database is locked", busy
# timeout or not) and the timeout makes writers queue instead of failing.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": int(os.environ.get("SQLITE_BUSY_TIMEOUT", "30")),
        }
    )
# --- end of worker reliability ----------------------------------------------------------------------

# --- Scanner ---------------------------------------------------------------
# Targets resolving into these networks are refused (SSRF guard) unless listed in SCANNER_ALLOWED_NETWORKS.
SCANNER_ALLOWED_NETWORKS = env_list("SCANNER_ALLOWED_NETWORKS")
# Fixed name -> address pins for every scan, like curl's --resolve: "host:ip,host2:ip2".
SCANNER_RESOLVE = env_list("SCANNER_RESOLVE")
# DNS servers for the CAA lookup, "IP" or "IP:PORT" comma-separated; empty: the system resolver.
SCANNER_DNS_SERVERS = env_list("SCANNER_DNS_SERVERS")
# An extra CA bundle trusted in addition to the public trust stores (e.g. a private or test CA).
SCANNER_CA_FILE = os.environ.get("SCANNER_CA_FILE") or None
SCANNER_CONNECT_TIMEOUT = float(os.environ.get("SCANNER_CONNECT_TIMEOUT", "5"))
SCANNER_NETWORK_TIMEOUT = float(os.environ.get("SCANNER_NETWORK_TIMEOUT", "5"))
SCANNER_NETWORK_RETRIES = int(os.environ.get("SCANNER_NETWORK_RETRIES", "2"))
SCANNER_HTTP_TIMEOUT = float(os.environ.get("SCANNER_HTTP_TIMEOUT", "10"))

# --- Cipher-suite enumeration (scanner/engine/protocols/adaptive.py) ---
# "adaptive" (default): offer all, remove the suite the server picks, repeat (about one handshake per
# accepted suite), proven equal to sslyze's on every lab case; "sslyze": one handshake per known suite.
SCANNER_CIPHER_ENUMERATION = os.environ.get("SCANNER_CIPHER_ENUMERATION", "adaptive")
if SCANNER_CIPHER_ENUMERATION not in ("sslyze", "adaptive"):
    raise ImproperlyConfigured("SCANNER_CIPHER_ENUMERATION must be 'sslyze' or 'adaptive'")
SCANNER_PER_TARGET_CONNECTIONS = int(os.environ.get("SCANNER_PER_TARGET_CONNECTIONS", "5"))
SCANNER_CONNECTION_BUDGET = int(os.environ.get("SCANNER_CONNECTION_BUDGET", "400"))
# --- end cipher-suite enumeration ---
# A finished scan younger than this is reused when a user asks for a scan without max_age.
SCANNER_RESCAN_MIN_INTERVAL = int(os.environ.get("SCANNER_RESCAN_MIN_INTERVAL", "0"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
# Scheduled portfolio rescans are released to the workers in batches: this many scans every this many seconds.
SCANNER_RESCAN_BATCH_SIZE = int(os.environ.get("SCANNER_RESCAN_BATCH_SIZE", "50"))
SCANNER_RESCAN_BATCH_INTERVAL = int(os.environ.get("SCANNER_RESCAN_BATCH_INTERVAL", "60"))
# Beat's release sends at most this many held-back rescans per SCANNER_REAPER_INTERVAL tick: the ceiling on how
# fast a day's rescans reach the workers (500 per 15 s is 2.9 million a day; docs/capacity.md).
SCANNER_RELEASE_LIMIT = int(os.environ.get("SCANNER_RELEASE_LIMIT", "500"))
# An alert is raised when a site's certificate expires within this many days.
SCANNER_ALERT_EXPIRY_DAYS = int(os.environ.get("SCANNER_ALERT_EXPIRY_DAYS", "21"))

# --- Notifications (dashboard helper) ----------------------------------------
# The dashboard's public address, used for links in alerts and e-mail verification (e.g. https://scanner.example).
SCANNER_PUBLIC_URL = os.environ.get("SCANNER_PUBLIC_URL", "").strip()


check_public_url(SCANNER_PUBLIC_URL, debug=DEBUG)  # webui/public_url.py: a clear start-up error
# One POST to a webhook/Slack/Teams receiver may take this long in total (connect to last byte).
SCANNER_NOTIFY_TIMEOUT = float(os.environ.get("SCANNER_NOTIFY_TIMEOUT", "10"))
# A failed delivery is retried this many times, waiting base * 2**n seconds (capped at 300 s) before each.
SCANNER_NOTIFY_MAX_RETRIES = int(os.environ.get("SCANNER_NOTIFY_MAX_RETRIES", "5"))
SCANNER_NOTIFY_RETRY_BASE = int(os.environ.get("SCANNER_NOTIFY_RETRY_BASE", "2"))
# How mail leaves: SMTP by default (EMAIL_HOST/EMAIL_PORT); tests use Django's locmem backend.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "scanner@localhost")
# A verification link for an e-mail address works for this many seconds.
SCANNER_EMAIL_VERIFY_MAX_AGE = int(os.environ.get("SCANNER_EMAIL_VERIFY_MAX_AGE", str(3 * 24 * 3600)))

# --- Queues ------------------------------------------------------------------
# Three kinds of work, three queues, so none waits behind another (deploy/README.md shows which workers
# listen where): scans a person asked for, portfolio-wide scans (bulk requests, scheduled rescans and the
# fan-out task that creates them) and alert deliveries. Beat's housekeeping stays on Celery's default queue.
SCANNER_SCAN_QUEUE = os.environ.get("SCANNER_SCAN_QUEUE", "scans")
SCANNER_RESCAN_QUEUE = os.environ.get("SCANNER_RESCAN_QUEUE", "rescans")
SCANNER_ALERT_QUEUE = os.environ.get("SCANNER_ALERT_QUEUE", "alerts")
# Beat's housekeeping (reaper, release, the due-rescans tick) goes here.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_ROUTES = {
    "scanner.tasks.run_scan": {"queue": SCANNER_SCAN_QUEUE},  # scanner.services.scan_queue picks per scan
    "scanner.tasks.rescan_portfolio": {"queue": SCANNER_RESCAN_QUEUE},
    "scanner.tasks.deliver_alert": {"queue": SCANNER_ALERT_QUEUE},
    "scanner.tasks.send_channel_test": {"queue": SCANNER_ALERT_QUEUE},
    "scanner.tasks.build_compliance_evidence": {"queue": SCANNER_RESCAN_QUEUE},  # portfolio-wide work
    "scanner.tasks.send_portfolio_digest": {"queue": SCANNER_ALERT_QUEUE},
    # A bulk operation is bookkeeping a person waits on (scanner.services.bulk); its scans go to the rescan queue.
    "scanner.tasks.run_bulk_operation": {"queue": SCANNER_SCAN_QUEUE},
}
# A portfolio's compliance report (PDF) for more sites than this is built by a worker, with progress, and
# downloaded when ready; smaller portfolios get it straight from the request.
SCANNER_EVIDENCE_INLINE_LIMIT = int(os.environ.get("SCANNER_EVIDENCE_INLINE_LIMIT", "300"))

# A portfolio scan or import of more sites (lines) than this runs in a worker as a bulk operation with progress;
# smaller ones are done inside the request. The worker stores that many sites or scans per transaction.
SCANNER_BULK_INLINE_LIMIT = int(os.environ.get("SCANNER_BULK_INLINE_LIMIT", "25"))
SCANNER_BULK_BATCH_SIZE = int(os.environ.get("SCANNER_BULK_BATCH_SIZE", "50"))

# --- Observability --------------------------------------------------------
# /metrics answers only with `Authorization: Bearer <this token>`; unset = metrics off (404).
SCANNER_METRICS_TOKEN = os.environ.get("SCANNER_METRICS_TOKEN", "")
# Worker nodes stamp a heartbeat into Redis this often; /healthz wants one younger than the max age, and a
# node without one is gone: the reaper sends the queued scans it had taken again at once.
SCANNER_WORKER_HEARTBEAT_INTERVAL = float(os.environ.get("SCANNER_WORKER_HEARTBEAT_INTERVAL", "10"))
SCANNER_WORKER_HEARTBEAT_MAX_AGE = float(os.environ.get("SCANNER_WORKER_HEARTBEAT_MAX_AGE", "30"))

# --- Retention -------------------------------------------------------------
# After this many days a finished scan keeps its summary row and findings but drops its report document
# (about 90 % of a scan's bytes; docs/benchmarks.md has the numbers). A beat task does it daily, in batches.
SCANNER_REPORT_RETENTION_DAYS = int(os.environ.get("SCANNER_REPORT_RETENTION_DAYS", "90"))
SCANNER_RETENTION_BATCH_SIZE = int(os.environ.get("SCANNER_RETENTION_BATCH_SIZE", "500"))
CELERY_BEAT_SCHEDULE["scanner-prune-limit-events"] = {"task": "scanner.tasks.prune_limit_events", "schedule": 3600.0}
# The weekly digest per portfolio (opt-in per e-mail channel), Mondays 07:00 in CELERY_TIMEZONE, is added to
# this schedule in webui/celery.py: a crontab is a Celery object, and importing Celery here would load it into
# every Django process (`manage.py scan` included).
CELERY_BEAT_SCHEDULE["scanner-prune-old-reports"] = {
    "task": "scanner.tasks.prune_old_reports",
    "schedule": float(os.environ.get("SCANNER_RETENTION_INTERVAL", str(24 * 3600))),
}

# --- Production web tier -------------------------------------------------
# whitenoise serves what `manage.py collectstatic` (run by bin/run) put in STATIC_ROOT: hashed names, gzip and
# (with the brotli package) brotli copies, far-future caching. With DEBUG on, {% static %} falls back to plain names, so runserver works
# without a collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": os.environ.get("DJANGO_STATIC_STORAGE", "whitenoise.storage.CompressedManifestStaticFilesStorage")
    },
}
# Behind a TLS-terminating proxy (deploy/README.md): the proxy says the original scheme in X-Forwarded-Proto,
# plain HTTP is redirected, cookies never travel in clear and browsers remember to use HTTPS.
BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)
    # Probes from inside the cluster talk plain HTTP to the app directly.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
SESSION_COOKIE_HTTPONLY = True
# A strict Content-Security-Policy on every response: scripts, styles, images and fetches from this origin
# only; no inline script or style anywhere (the dashboard's JS and CSS are static files).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        # The nonce appears only on responses that use it (the ReDoc page, whose generated style elements carry it).
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],  # data: for the empty favicon and Swagger UI's inline SVG icons
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],  # ReDoc runs its search index in a blob: worker
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
    },
}
# --- Security: abuse limits, tokens, logins, licence (webui/settings_security.py) -------------------
from webui.settings_security import *

# Rate-limit counters live in Redis so every web process shares them.
CACHES = {
    "default": {
        "BACKEND": "webui.cache.ReusedClientRedisCache",
        "LOCATION": os.environ.get("SCANNER_CACHE_URL", CELERY_BROKER_URL),
        "KEY_PREFIX": "scanner",
    }
}
