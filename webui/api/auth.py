"""API authentication: knox's hashed tokens, remembering when each was last used (shown when listing them).

A checked token is reused for SCANNER_API_TOKEN_CACHE_SECONDS by the process that checked it: knox's check costs
two queries per request (the token with its user, then the user's other tokens to drop expired ones). What a
process remembers is only trusted while the token generation in the shared cache is the one it was checked
under, and revoking a token changes that generation (webui.api.tokens.tokens_changed), so a revoked token is
refused on the very next request, whichever process serves it.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication

from scanner import config
from webui.api.models import ApiToken
from webui.api.tokens import token_generation, token_touch

# One write per token per minute at most: "last used" is for spotting forgotten tokens, not an audit log.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Enough for every token one process serves at a time; past it the memory starts over.
MAX_REMEMBERED = 10_000


@dataclass
class _Checked:
    generation: str
    until: float  # time.monotonic()
    token: ApiToken  # with its user


class _RecentTokens:
    """Tokens this process checked lately, by the SHA-256 of the token (the secret itself is not kept)."""

    def __init__(self) -> None:
        self._entries: dict[bytes, _Checked] = {}
        self._lock = threading.Lock()

    def get(self, key: bytes, generation: str) -> ApiToken | None:
        entry = self._entries.get(key)
        if entry is None or entry.generation != generation or entry.until < time.monotonic():
            return None
        if entry.token.expiry is not None and entry.token.expiry <= timezone.now():
            return None  # knox's own check deletes it and refuses the request
        return entry.token

    def put(self, key: bytes, generation: str, token: ApiToken, seconds: float) -> None:
        with self._lock:
            if len(self._entries) >= MAX_REMEMBERED:
                self._entries.clear()
            self._entries[key] = _Checked(generation, time.monotonic() + seconds, token)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


recent_tokens = _RecentTokens()


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`, as with DRF's authtoken before, so scripts keep their header."""

    def authenticate_credentials(self, token: bytes) -> tuple:
        seconds = config.api_token_cache_seconds()
        generation = token_generation() if seconds > 0 else None
        if generation is None:
            recent_tokens.clear()  # the shared cache cannot say whether anything was revoked meanwhile
            return super().authenticate_credentials(token)
        key = hashlib.sha256(token).digest()
        remembered = recent_tokens.get(key, generation)
        if remembered is None:
            # Read before the check: a revocation committed after it changes the generation and drops this entry.
            user, checked = super().authenticate_credentials(token)
            recent_tokens.put(key, generation, checked, seconds)
            return user, checked
        self._touch(remembered)
        # Each request gets its own copies: code downstream may set attributes on request.user or request.auth.
        own = copy.copy(remembered)
        own.user = copy.copy(remembered.user)
        return own.user, own

    def validate_user(self, auth_token: ApiToken) -> tuple:
        user, token = super().validate_user(auth_token)
        self._touch(token)
        return user, token

    @staticmethod
    def _touch(token: ApiToken) -> None:
        now = timezone.now()
        if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
            token_touch(token, now=now)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the API schema (Swagger UI, ReDoc) describes the token header."""

    target_class = "webui.api.auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An API token, prefixed: `Token hsc_…`. Create one with POST /api/v1/token or /api/v1/tokens.",
        }
