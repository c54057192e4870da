"""Creating, listing and revoking API tokens: the one place that does it, for the API and the dashboard."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scanner import config
from scanner.services import ScanRequestError
from webui.api.models import ApiToken

logger = logging.getLogger(__name__)

MAX_EXPIRY_DAYS = 3650
# Web processes reuse a checked token for a few seconds (webui.api.auth); this value in the shared cache says
# whether what they remember is still good. Any change of it (a revocation, or Redis losing the key) makes
# every process check its tokens in the database again.
GENERATION_KEY = "api-token-generation"


def token_create(
    *, user, name: str, expires_in_days: int | None = None, made_with: ApiToken | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token itself, which is never stored or shown again.

    A token made with an expiring token (`made_with`) expires no later than it: without an expiry it gets the
    rest of that token's lifetime, and a longer one is refused. Otherwise a leaked short-lived token could
    mint itself a permanent one."""
    name = (name or "").strip()
    if not name:
        raise ScanRequestError("Give the token a name, e.g. the script or machine that will use it.", field="name")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ScanRequestError(f"A token expires after 1 to {MAX_EXPIRY_DAYS} days, or never.", field="expires_in_days")
    limit = config.max_tokens_per_user()
    if limit and token_list(user=user).count() >= limit:
        raise ScanRequestError(
            f"You have {limit} tokens, the most an account may hold; revoke one you no longer use first.",
            field="name",
            code="too_many_tokens",
        )
    expiry = timedelta(days=expires_in_days) if expires_in_days else None
    if made_with is not None and made_with.expiry is not None:
        left = made_with.expiry - timezone.now()
        if expiry is not None and expiry > left:
            raise ScanRequestError(
                "A token made with an expiring token cannot outlive it: ask for at most "
                f"{max(left.days, 0)} days, or omit the expiry to get the rest of its lifetime.",
                field="expires_in_days",
            )
        expiry = expiry or left
    return ApiToken.objects.create(user=user, expiry=expiry, name=name[:100])


def token_list(*, user):
    """The user's tokens that still work (expired ones are gone for every purpose, so they are not listed)."""
    return ApiToken.objects.filter(user=user).filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()))


def token_touch(token: ApiToken, *, now) -> None:
    """Record when a token was last used (one write per token per resolution window, not per request)."""
    ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    token.last_used = now


def token_revoke_used(token: ApiToken) -> None:
    """Revoke the token a request was made with."""
    token.delete()


def tokens_revoke_all(*, user_id: int) -> None:
    """Revoke every token of an account (its password changed)."""
    ApiToken.objects.filter(user_id=user_id).delete()


def token_revoke(*, user, uid) -> bool:
    """Revoke one of the user's tokens; False when the user has no such token (someone else's is not theirs)."""
    deleted, _ = ApiToken.objects.filter(user=user, uid=uid).delete()
    return bool(deleted)


def token_generation() -> str | None:
    """The current generation of the API tokens (see GENERATION_KEY); None when the shared cache cannot say,
    and then nothing remembered may be trusted."""
    try:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            generation = cache.get(GENERATION_KEY)
    except Exception as exc:  # noqa: BLE001 - any cache failure: remember nothing, check every token
        logger.warning("API token generation unavailable, tokens checked on every request: %s", exc)
        return None
    return generation


def tokens_changed() -> None:
    """A token was revoked or its account changed: every web process checks its tokens again on their next use.

    Now, and once more when the transaction commits: a request that read the still-visible row in between
    must not keep it either."""
    _new_generation()
    transaction.on_commit(_new_generation)


def _new_generation() -> None:
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as exc:  # noqa: BLE001 - readers see the same outage and stop trusting what they remember
        logger.warning("API token generation not advanced: %s", exc)
