"""Abuse limits of the API, each a setting (webui/settings.py, "Security" block).

- Requests per minute, per user and per token (DRF throttles on the shared cache, Redis).
- Token requests (POST /api/v1/token) per client address; wrong passwords are django-axes' job (per account
  and per address, shared with the dashboard's and the admin's login).

A refusal is a 429 in the API's error shape with the seconds to wait (Retry-After and error.retry_after).
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from scanner import config
from scanner.services.limits import parse_rate

logger = logging.getLogger(__name__)


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or the address SCANNER_TRUSTED_PROXIES proxies in front of us saw.

    X-Forwarded-For is only believed for the number of proxies the operator says are there; otherwise any
    client could claim a fresh address per request and escape every per-address limit.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = config.trusted_proxies()
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and forwarded:
        return forwarded[-min(proxies, len(forwarded))]
    return remote


class SettingRateThrottle(SimpleRateThrottle):
    """A cache-counted rate whose value is read from a Django setting at request time (so tests and operators
    can change it without a restart of the class). A cache outage lets requests through and is logged: the
    database-counted scan quota still holds, and a down Redis must not take the whole API down with it."""

    rate_setting = ""

    def __init__(self) -> None:  # SimpleRateThrottle reads DRF's THROTTLE_RATES here; ours come from settings
        self.rate = getattr(settings, self.rate_setting, None)
        self.num_requests, self.duration = parse_rate(self.rate)

    def allow_request(self, request, view) -> bool:
        if self.num_requests is None:
            return True
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - any cache failure: fail open, loudly
            logger.warning("rate limit %s not checked, cache unavailable: %s", self.scope, exc)
            return True

    def wait(self) -> float | None:
        remaining = super().wait()
        return math.ceil(remaining) if remaining is not None else None


class UserRequestRateThrottle(SettingRateThrottle):
    scope = "user"
    message = "Too many API requests for this account."
    rate_setting = "SCANNER_API_REQUESTS_PER_USER"

    def get_cache_key(self, request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class TokenRequestRateThrottle(SettingRateThrottle):
    scope = "token"
    message = "Too many API requests with this token."
    rate_setting = "SCANNER_API_REQUESTS_PER_TOKEN"

    def get_cache_key(self, request, view) -> str | None:
        uid = getattr(request.auth, "uid", None)
        if uid is None:  # a session (the dashboard's own calls) has no token to count against
            return None
        return self.cache_format % {"scope": self.scope, "ident": uid}


class AnonRequestRateThrottle(SettingRateThrottle):
    """Unauthenticated requests (401s, the token endpoint) per client address."""

    scope = "anon"
    message = "Too many requests from this address."
    rate_setting = "SCANNER_API_REQUESTS_PER_ADDRESS"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


class TokenCreateRateThrottle(SettingRateThrottle):
    """Tokens handed out per client address: each POST /api/v1/token checks a password and creates a row."""

    scope = "token_create"
    message = "Too many token requests from this address."
    rate_setting = "SCANNER_TOKEN_REQUESTS_PER_ADDRESS"

    def get_cache_key(self, request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


def throttle_refusals(throttles: list[BaseThrottle], request, view) -> list[tuple[float, str]]:
    """Every throttle's verdict, as DRF's throttles give it, with one read and one write to the cache for all of
    them (DRF's make two round trips each). Returns the refusals as (seconds to wait, message). As in DRF, a
    throttle that allows the request counts it even when another one refuses it."""
    refusals: list[tuple[float, str]] = []
    keyed: list[tuple[SettingRateThrottle, str]] = []
    for throttle in throttles:
        if not isinstance(throttle, SettingRateThrottle):
            if not throttle.allow_request(request, view):
                refusals.append(_refusal(throttle))
            continue
        key = throttle.get_cache_key(request, view) if throttle.num_requests is not None else None
        if key is not None:
            keyed.append((throttle, key))
    if not keyed:
        return refusals
    try:
        histories = cache.get_many([key for _, key in keyed])
        now = time.time()
        writes: dict[int, dict[str, list[float]]] = {}
        for throttle, key in keyed:
            throttle.key, throttle.now = key, now
            # Newest first; only requests inside the window still count (SimpleRateThrottle's history).
            throttle.history = [stamp for stamp in histories.get(key, []) if stamp > now - throttle.duration]
            if len(throttle.history) >= throttle.num_requests:
                refusals.append(_refusal(throttle))
            else:
                throttle.history.insert(0, now)
                writes.setdefault(throttle.duration, {})[key] = throttle.history
        for duration, values in writes.items():
            cache.set_many(values, duration)
    except Exception as exc:  # noqa: BLE001 - any cache failure: fail open, loudly (SettingRateThrottle)
        logger.warning("rate limits %s not checked, cache unavailable: %s", [t.scope for t, _ in keyed], exc)
    return refusals


def _refusal(throttle: BaseThrottle) -> tuple[float, str]:
    wait = throttle.wait()
    return (wait if wait is not None else 60, getattr(throttle, "message", "Too many requests."))
