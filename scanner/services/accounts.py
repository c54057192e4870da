"""Creating accounts through the public sign-up form, within the sign-up limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction

from scanner import config
from scanner.models import AccountSignup, LimitEvent
from scanner.services.channels import account_set_email
from scanner.services.errors import ScanRequestError
from scanner.services.limits import limit_check, limit_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def account_signup(*, username: str, password: str, email: str = "", requested_from: str = "") -> User:
    """Create an account from the sign-up form (its input already validated: unique name, password rules).

    Refused (ScanRequestTooSoon, 429) over SCANNER_SIGNUPS_PER_ADDRESS from the client address or
    SCANNER_SIGNUPS_GLOBAL in total: each account comes with its own scan quota, so unbounded sign-ups would
    unbound the quota. The account is marked as signed up (AccountSignup), so it scans only once its e-mail is
    confirmed when SCANNER_SCANS_NEED_CONFIRMED_EMAIL is on; the address given is sent a confirmation link.
    """
    if not config.signup_open():
        raise ScanRequestError("Sign-up is closed on this service.", field="username", code="signup_closed")
    if requested_from:
        limit_check(
            LimitEvent.Kind.SIGNUP_ADDRESS,
            requested_from,
            rate=config.signups_per_address(),
            message="Too many accounts were created from your address lately.",
            code="signup_limit",
            field="username",
        )
    limit_check(
        LimitEvent.Kind.SIGNUP,
        "all",
        rate=config.signups_global(),
        message="Too many accounts were created lately.",
        code="signup_limit",
        field="username",
    )
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, password=password)
        AccountSignup.objects.create(user=user, address=requested_from[:64])
        limit_record(LimitEvent.Kind.SIGNUP, "all")
        if requested_from:
            limit_record(LimitEvent.Kind.SIGNUP_ADDRESS, requested_from)
        if email:
            account_set_email(user, email, requested_from=requested_from)
    return user
