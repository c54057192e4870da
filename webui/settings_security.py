"""Security settings: abuse limits, tokens, sign-up, the source offer (docs/security.md explains each limit).
Imported into webui/settings.py; every value comes from the environment (docs/settings.md)."""

from __future__ import annotations

import os
from datetime import timedelta

from webui.env import env_bool

# docs/security.md explains each limit. Rates are "N/period" with period s, min, hour or day; empty = no limit.
SCANNER_API_REQUESTS_PER_USER = os.environ.get("SCANNER_API_REQUESTS_PER_USER", "120/min")
SCANNER_API_REQUESTS_PER_TOKEN = os.environ.get("SCANNER_API_REQUESTS_PER_TOKEN", "60/min")
SCANNER_API_REQUESTS_PER_ADDRESS = os.environ.get("SCANNER_API_REQUESTS_PER_ADDRESS", "30/min")  # unauthenticated
SCANNER_TOKEN_REQUESTS_PER_ADDRESS = os.environ.get("SCANNER_TOKEN_REQUESTS_PER_ADDRESS", "10/min")
# Scans an account may submit (API, dashboard; scheduled rescans count too). 0 = no limit.
SCANNER_SCANS_PER_HOUR = int(os.environ.get("SCANNER_SCANS_PER_HOUR", "200"))
SCANNER_SCANS_PER_DAY = int(os.environ.get("SCANNER_SCANS_PER_DAY", "1000"))
# The same host and port is scanned at most once per this many seconds, whoever asks; a request inside the
# window gets the recent result (copied to the asker's site) instead of a new scan. 0 = off.
SCANNER_TARGET_MIN_INTERVAL = int(os.environ.get("SCANNER_TARGET_MIN_INTERVAL", "600"))
# Scheduled rescans may not fire more often than this (seconds), in the API, the dashboard and the admin.
SCANNER_MIN_SCHEDULE_INTERVAL = int(os.environ.get("SCANNER_MIN_SCHEDULE_INTERVAL", "3600"))
SCANNER_SIGNUP_OPEN = env_bool("SCANNER_SIGNUP_OPEN", True)
# Open sign-up: accounts created through /signup/ scan only once their e-mail is confirmed (on by
# default while sign-up is open); sign-ups per client address and in total, confirmation mails per client
# address and per recipient ("N/period"; empty or 0 = no limit). Counted in the database (scanner.LimitEvent).
SCANNER_SCANS_NEED_CONFIRMED_EMAIL = env_bool("SCANNER_SCANS_NEED_CONFIRMED_EMAIL", SCANNER_SIGNUP_OPEN)
SCANNER_SIGNUPS_PER_ADDRESS = os.environ.get("SCANNER_SIGNUPS_PER_ADDRESS", "3/hour")
SCANNER_SIGNUPS_GLOBAL = os.environ.get("SCANNER_SIGNUPS_GLOBAL", "60/hour")
SCANNER_CONFIRMATION_MAILS_PER_ADDRESS = os.environ.get("SCANNER_CONFIRMATION_MAILS_PER_ADDRESS", "10/hour")
SCANNER_CONFIRMATION_MAILS_PER_RECIPIENT = os.environ.get("SCANNER_CONFIRMATION_MAILS_PER_RECIPIENT", "3/hour")
# Outbound fetches one scan may make besides its TLS handshakes: AIA downloads, OCSP/CRL requests and HTTP
# redirect hops, counted together; over it the rest are skipped with an info finding (0 = no limit).
SCANNER_OUTBOUND_BUDGET = int(os.environ.get("SCANNER_OUTBOUND_BUDGET", "20"))
SCANNER_MAX_TOKENS_PER_USER = int(os.environ.get("SCANNER_MAX_TOKENS_PER_USER", "50"))
# Seconds a web process reuses a token it has checked (0 = check the database on every request); revoking a
# token still takes effect on the very next request (webui/api/tokens.py, tokens_changed).
SCANNER_API_TOKEN_CACHE_SECONDS = float(os.environ.get("SCANNER_API_TOKEN_CACHE_SECONDS", "5"))
# How many reverse proxies in front of the service append to X-Forwarded-For (0: use the socket's address).
SCANNER_TRUSTED_PROXIES = int(os.environ.get("SCANNER_TRUSTED_PROXIES", "0"))
# AGPL-3.0 section 13: users of a hosted instance get a link to its source in every page's footer: this URL
# (the repository the instance is deployed from), or when unset /source.tar.gz, the files the instance runs.
SCANNER_SOURCE_URL = os.environ.get("SCANNER_SOURCE_URL", "")

# API tokens: django-rest-knox, hashed (SHA-512) at rest, named and listable (webui.api.models.ApiToken).
KNOX_TOKEN_MODEL = "api.ApiToken"
# knox's own migrations would create its unused (swapped-out) table; without them nothing is created for it.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_TTL": None,  # expiry is chosen per token; none by default, as the documented scripts expect
    "AUTH_HEADER_PREFIX": "Token",  # the header scripts already send
    "TOKEN_PREFIX": "hsc_",  # recognisable in leaked-secret scans
}

# Failed logins (dashboard, admin, POST /api/v1/token): django-axes locks the account and, separately, the
# client address after SCANNER_LOGIN_FAILURE_LIMIT failures within the cool-off, for the cool-off.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("SCANNER_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("SCANNER_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "webui.api.errors.lockout_response"
AXES_CLIENT_IP_CALLABLE = "webui.api.throttling.client_address"
AXES_VERBOSE = False
