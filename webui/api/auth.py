"""API authentication: knox's hashed tokens, remembering when each was last used (shown when listing them)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication

from webui.api.tokens import token_touch

# One write per token per minute at most: "last used" is for spotting forgotten tokens, not an audit log.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`, as with DRF's authtoken before, so scripts keep their header."""

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
            token_touch(token, now=now)
        return user, token


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
