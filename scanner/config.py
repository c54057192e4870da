"""The scanner's runtime configuration, read from Django settings in one place.

Services and tasks call these at use time (not import time) so tests can override settings per test.
"""

from __future__ import annotations

import functools

from django.conf import settings

from scanner.engine.results import ScanSettings
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins


def network_policy() -> NetworkPolicy:
    return _network_policy(tuple(settings.SCANNER_ALLOWED_NETWORKS), tuple(settings.SCANNER_RESOLVE))


@functools.lru_cache(maxsize=8)
def _network_policy(allowed: tuple[str, ...], pins: tuple[str, ...]) -> NetworkPolicy:
    # Parsed once per process and value: with thousands of pins, parsing on every call was a third of a
    # worker's CPU. Keyed on the values, so a changed setting (tests, a reload) is parsed afresh.
    return NetworkPolicy(allowed_networks=parse_networks(list(allowed)), pins=parse_pins(list(pins)))


def scan_settings() -> ScanSettings:
    return ScanSettings(
        connect_timeout=settings.SCANNER_CONNECT_TIMEOUT,
        network_timeout=settings.SCANNER_NETWORK_TIMEOUT,
        network_retries=settings.SCANNER_NETWORK_RETRIES,
        http_timeout=settings.SCANNER_HTTP_TIMEOUT,
        cipher_enumeration=settings.SCANNER_CIPHER_ENUMERATION,
        per_target_connections=settings.SCANNER_PER_TARGET_CONNECTIONS,
        connection_budget=settings.SCANNER_CONNECTION_BUDGET,
        tls_deadline=settings.SCANNER_TLS_DEADLINE,
        http_deadline=settings.SCANNER_HTTP_DEADLINE,
        dns_servers=tuple(getattr(settings, "SCANNER_DNS_SERVERS", ())),
        outbound_budget=settings.SCANNER_OUTBOUND_BUDGET,
    )


def ca_file() -> str | None:
    return settings.SCANNER_CA_FILE or None


# --- Queues and time limits ----------------------------------------------------------------------------------


def scan_queue_name() -> str:
    return settings.SCANNER_SCAN_QUEUE


def rescan_queue_name() -> str:
    return settings.SCANNER_RESCAN_QUEUE


def alert_queue_name() -> str:
    return settings.SCANNER_ALERT_QUEUE


def default_queue_name() -> str:
    return settings.CELERY_TASK_DEFAULT_QUEUE


def evidence_inline_limit() -> int:
    """Most sites whose compliance PDF is built inside the web request; larger portfolios go to a worker."""
    return settings.SCANNER_EVIDENCE_INLINE_LIMIT


def bulk_inline_limit() -> int:
    """Most sites a portfolio scan (lines an import) does inside the web request; more go to a worker."""
    return settings.SCANNER_BULK_INLINE_LIMIT


def bulk_batch_size() -> int:
    """Sites or scans a bulk operation stores per transaction (one progress step)."""
    return max(1, settings.SCANNER_BULK_BATCH_SIZE)


def task_soft_time_limit() -> int:
    """Seconds a scan task may run before it is asked to stop."""
    return settings.SCANNER_TASK_SOFT_TIME_LIMIT


def task_time_limit() -> int:
    """Seconds after which a scan task's process is killed (housekeeping tasks get the same bound)."""
    return settings.SCANNER_TASK_TIME_LIMIT


def rescan_task_time_limit() -> int:
    return settings.SCANNER_RESCAN_TASK_TIME_LIMIT


def broker_url() -> str:
    return settings.CELERY_BROKER_URL


def celery_timezone() -> str:
    return settings.CELERY_TIMEZONE


# --- Keeping scans moving ----------------------------------------------------------------------------------


def heartbeat_interval() -> float:
    return settings.SCANNER_HEARTBEAT_INTERVAL


def heartbeat_timeout() -> float:
    return settings.SCANNER_HEARTBEAT_TIMEOUT


def queued_resend_after() -> float:
    return settings.SCANNER_QUEUED_RESEND_AFTER


def queued_limit() -> float:
    return settings.SCANNER_QUEUED_LIMIT


def worker_heartbeat_interval() -> float:
    return settings.SCANNER_WORKER_HEARTBEAT_INTERVAL


def worker_heartbeat_max_age() -> float:
    return settings.SCANNER_WORKER_HEARTBEAT_MAX_AGE


def database_outage_budget() -> float:
    return settings.SCANNER_DATABASE_OUTAGE_BUDGET


def rescan_batch_size() -> int:
    return settings.SCANNER_RESCAN_BATCH_SIZE


def rescan_batch_interval() -> int:
    return settings.SCANNER_RESCAN_BATCH_INTERVAL


def release_limit() -> int:
    return settings.SCANNER_RELEASE_LIMIT


def due_rescans_interval() -> float:
    return settings.SCANNER_DUE_RESCANS_INTERVAL


def due_rescans_batch_size() -> int:
    return settings.SCANNER_DUE_RESCANS_BATCH_SIZE


# --- Limits on what may be scanned -------------------------------------------------------------------------


def rescan_min_interval() -> int:
    """A finished scan younger than this answers a new request for the same site (0: always scan)."""
    return settings.SCANNER_RESCAN_MIN_INTERVAL


def target_min_interval() -> int:
    """One host and port is scanned at most this often, whoever asks (0: no limit)."""
    return getattr(settings, "SCANNER_TARGET_MIN_INTERVAL", 0) or 0


def scans_per_hour() -> int | None:
    return getattr(settings, "SCANNER_SCANS_PER_HOUR", None) or None


def scans_per_day() -> int | None:
    return getattr(settings, "SCANNER_SCANS_PER_DAY", None) or None


def min_schedule_interval() -> int:
    return settings.SCANNER_MIN_SCHEDULE_INTERVAL


# --- Alerts, accounts, retention -------------------------------------------------------------------------------


def public_url() -> str:
    """The service's own address, for links in e-mails and chat messages (no trailing slash)."""
    return settings.SCANNER_PUBLIC_URL.rstrip("/")


def alert_expiry_days() -> int:
    return settings.SCANNER_ALERT_EXPIRY_DAYS


def notify_timeout() -> float:
    return settings.SCANNER_NOTIFY_TIMEOUT


def notify_max_retries() -> int:
    return settings.SCANNER_NOTIFY_MAX_RETRIES


def notify_retry_base() -> int:
    return settings.SCANNER_NOTIFY_RETRY_BASE


def email_verify_max_age() -> int:
    return settings.SCANNER_EMAIL_VERIFY_MAX_AGE


def report_retention_days() -> int:
    return settings.SCANNER_REPORT_RETENTION_DAYS


def retention_batch_size() -> int:
    return settings.SCANNER_RETENTION_BATCH_SIZE


def signup_open() -> bool:
    return settings.SCANNER_SIGNUP_OPEN


def source_url() -> str:
    return settings.SCANNER_SOURCE_URL


def metrics_token() -> str:
    return settings.SCANNER_METRICS_TOKEN


def max_tokens_per_user() -> int:
    return settings.SCANNER_MAX_TOKENS_PER_USER


def api_token_cache_seconds() -> float:
    return settings.SCANNER_API_TOKEN_CACHE_SECONDS


def trusted_proxies() -> int:
    return settings.SCANNER_TRUSTED_PROXIES


def allowed_networks() -> list[str]:
    return list(settings.SCANNER_ALLOWED_NETWORKS)


def resolve_pins() -> list[str]:
    return list(settings.SCANNER_RESOLVE)


def scans_need_confirmed_email() -> bool:
    """Accounts created through sign-up scan only after confirming their e-mail (default: on while sign-up is open)."""
    return settings.SCANNER_SCANS_NEED_CONFIRMED_EMAIL


def signups_per_address() -> str:
    return settings.SCANNER_SIGNUPS_PER_ADDRESS


def signups_global() -> str:
    return settings.SCANNER_SIGNUPS_GLOBAL


def confirmation_mails_per_address() -> str:
    return settings.SCANNER_CONFIRMATION_MAILS_PER_ADDRESS


def confirmation_mails_per_recipient() -> str:
    return settings.SCANNER_CONFIRMATION_MAILS_PER_RECIPIENT


def outbound_budget() -> int:
    """Outbound fetches one scan may make beyond its target's TLS handshakes: AIA downloads, OCSP/CRL requests and
    redirect hops together (0: no limit)."""
    return settings.SCANNER_OUTBOUND_BUDGET
