"""Open sign-up cannot be farmed: sign-ups per address and in total, confirmation mails per address and per
recipient, and accounts created through sign-up scan only once their e-mail address is confirmed."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from scanner import services
from scanner.models import AccountSignup, Channel

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-123"


@pytest.fixture(autouse=True)
def pinned_hosts(settings):
    settings.SCANNER_ALLOWED_NETWORKS = []
    settings.SCANNER_RESOLVE = ["shop.example:93.184.215.14"]


def sign_up(client, username: str, *, address: str = "198.51.100.7", email: str = ""):
    client.logout()
    return client.post(
        reverse("dashboard:signup"),
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
        REMOTE_ADDR=address,
    )


def test_sign_ups_from_one_address_are_limited(settings, client, django_user_model):
    settings.SCANNER_SIGNUPS_PER_ADDRESS = "2/hour"
    assert [sign_up(client, name).status_code for name in ("u1", "u2")] == [302, 302]
    refused = sign_up(client, "u3")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 3000
    assert "Too many accounts" in refused.content.decode()
    assert not django_user_model.objects.filter(username="u3").exists()


def test_another_address_may_still_sign_up(settings, client):
    settings.SCANNER_SIGNUPS_PER_ADDRESS = "1/hour"
    assert sign_up(client, "u1").status_code == 302
    assert sign_up(client, "u2", address="203.0.113.9").status_code == 302


def test_sign_ups_are_limited_in_total_across_addresses(settings, client, django_user_model):
    settings.SCANNER_SIGNUPS_GLOBAL = "2/hour"
    for number, address in enumerate(("198.51.100.1", "198.51.100.2")):
        assert sign_up(client, f"u{number}", address=address).status_code == 302
    assert sign_up(client, "late", address="198.51.100.3").status_code == 429
    assert django_user_model.objects.count() == 2


def test_the_sign_up_service_itself_enforces_the_limit(settings):
    settings.SCANNER_SIGNUPS_PER_ADDRESS = "1/hour"
    services.account_signup(username="u1", password=PASSWORD, requested_from="198.51.100.7")
    with pytest.raises(services.ScanRequestTooSoon):
        services.account_signup(username="u2", password=PASSWORD, requested_from="198.51.100.7")


def test_resending_confirmation_mails_to_one_recipient_is_limited(
    settings, client, alice, django_capture_on_commit_callbacks
):
    settings.SCANNER_CONFIRMATION_MAILS_PER_RECIPIENT = "3/hour"
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dashboard:channels"), {"kind": "email", "target": "victim@example.org"})
    channel = Channel.objects.get(owner=alice)
    for _ in range(5):
        client.post(reverse("dashboard:resend_verification", args=[channel.pk]))
    assert len(mail.outbox) == 3
    page = client.post(reverse("dashboard:resend_verification", args=[channel.pk]), follow=True)
    assert "Too many confirmation mails to victim@example.org" in page.content.decode()


def test_the_recipient_limit_spans_accounts(settings, client, alice, bob):
    settings.SCANNER_CONFIRMATION_MAILS_PER_RECIPIENT = "1/hour"
    services.channel_create(owner=alice, kind="email", target="victim@example.org")
    with pytest.raises(services.ScanRequestTooSoon):
        services.channel_create(owner=bob, kind="email", target="Victim@Example.org")
    assert Channel.objects.count() == 1


def test_confirmation_mails_asked_for_from_one_address_are_limited(settings, alice):
    settings.SCANNER_CONFIRMATION_MAILS_PER_ADDRESS = "2/hour"
    for number in range(2):
        services.channel_create(
            owner=alice, kind="email", target=f"a{number}@example.org", requested_from="198.51.100.7"
        )
    with pytest.raises(services.ScanRequestTooSoon):
        services.account_set_email(alice, "a9@example.org", requested_from="198.51.100.7")


def test_a_signed_up_account_cannot_scan_before_confirming_its_email(settings, client):
    settings.SCANNER_SCANS_NEED_CONFIRMED_EMAIL = True
    sign_up(client, "newbie", email="newbie@example.org")
    response = client.post(reverse("dashboard:submit"), {"domains": "shop.example"})
    assert response.status_code == 403
    assert "Confirm your e-mail address" in response.content.decode()
    user = AccountSignup.objects.get().user
    with pytest.raises(services.ScanRequestForbidden):
        services.submit_scan(user, "shop.example")


def test_a_signed_up_account_scans_once_its_email_is_confirmed(settings, client):
    settings.SCANNER_SCANS_NEED_CONFIRMED_EMAIL = True
    sign_up(client, "newbie", email="newbie@example.org")
    channel = Channel.objects.get(owner__username="newbie")
    services.verify_email(services.verification_token(channel))
    _, created = services.submit_scan(channel.owner, "shop.example")
    assert created


def test_the_api_refuses_an_unconfirmed_signed_up_account_with_403(settings, client):
    from rest_framework.test import APIClient

    from webui.api.tokens import token_create

    settings.SCANNER_SCANS_NEED_CONFIRMED_EMAIL = True
    sign_up(client, "newbie")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=AccountSignup.objects.get().user, name='t')[1]}")
    response = api.post("/api/v1/scans", {"host": "shop.example"}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "email_unconfirmed"


def test_accounts_the_operator_creates_are_not_asked_to_confirm(settings, alice):
    settings.SCANNER_SCANS_NEED_CONFIRMED_EMAIL = True
    _, created = services.submit_scan(alice, "shop.example")
    assert created


def test_without_the_setting_a_signed_up_account_scans_at_once(settings, client):
    settings.SCANNER_SCANS_NEED_CONFIRMED_EMAIL = False
    sign_up(client, "newbie")
    _, created = services.submit_scan(AccountSignup.objects.get().user, "shop.example")
    assert created
