"""Property-based fuzzing of the dashboard (Hypothesis), as tests/test_target_fuzz.py does for the parser:
every form and every query parameter, filled with any text (NUL bytes, other scripts' digits, huge numbers,
URLs), and every id in a URL, gets an answer below 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.models import Alert, Channel, Portfolio, Scan, Site

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

TRICKY = st.sampled_from(
    [
        "",
        "0",
        "1",
        "-1",
        "²",
        "٤",
        "１",
        "\x00",
        "a" * 19 + "\x00" + "a" * 20,  # a share token of the right length with a NUL in it
        "99999999999999999999",
        "9223372036854775808",
        "A+",
        "a@b.c",
        "https://evil.example/",
        "//evil.example",
        "javascript:alert(1)",
        "<script>",
        "' OR 1=1 --",
        "%00",
        "\u202e",
        "shop.example",
        "0 4 * * 1",
        "* * * * *",
        "daily",
        "email",
        "webhook",
        "csv",
        "x" * 300,
    ]
)
value = st.one_of(TRICKY, st.text(max_size=60), st.lists(TRICKY, min_size=1, max_size=4).map(",".join))
odd_ids = st.one_of(st.sampled_from(["0", "99999999999999999999"]), st.integers(min_value=0, max_value=2**70).map(str))

# (path with {id}, the query parameters or form fields it reads)
PAGES = [
    ("/", ["grade", "failing", "expiring", "sort", "portfolio", "tag", "q", "page"]),
    ("/sites/{id}/", ["history"]),
    ("/portfolios/", []),
    ("/portfolios/{id}/", ["grade", "failing", "expiring", "sort", "tag", "q", "page"]),
    ("/portfolios/{id}/export.csv", []),
    ("/alerts/", ["status", "open_only"]),
    ("/channels/", []),
    ("/channels/test-status.json", []),
    ("/settings/", []),
    ("/tokens/", []),
    ("/scan-status.json", ["site", "portfolio", "sites"]),
    ("/sites/{id}/delete/", []),
]
FORMS = [
    ("/submit/", ["domains"]),
    ("/portfolios/", ["name"]),
    ("/portfolios/{id}/schedule/", ["kind", "cron"]),
    ("/portfolios/{id}/import/", ["text"]),
    ("/portfolios/{id}/channels/", ["notify_all", "channels"]),
    ("/alerts/{id}/acknowledge/", ["next"]),
    ("/channels/", ["kind", "target", "name", "secret"]),
    ("/settings/", ["email"]),
    ("/tokens/", ["name", "expires_in_days"]),
    ("/sites/{id}/rescan/", []),
    ("/sites/{id}/mute/", []),
    ("/channels/{id}/resend/", []),
]


@pytest.fixture
def owner(db, settings, django_user_model):
    """An account with one of everything, so generated ids often name a real object."""
    settings.SCANNER_ALLOWED_NETWORKS = []
    settings.SCANNER_RESOLVE = ["shop.example:93.184.215.14"]
    user = django_user_model.objects.create_user("fuzz")  # no password: hashing one costs a second per operation
    site = Site.objects.create(owner=user, hostname="shop.example")
    Scan.objects.create(site=site, status=Scan.Status.DONE)
    Portfolio.objects.create(owner=user, name="fuzz").sites.add(site)
    portfolio = Portfolio.objects.get(owner=user)
    alert = Alert.objects.create(site=site, kind=Alert.Kind.GRADE_DROPPED, state_key="A->C", message="dropped")
    channel = Channel.objects.create(owner=user, kind=Channel.Kind.EMAIL, target="fuzz@example.com")
    user.fuzz_ids = [str(pk) for pk in (site.pk, portfolio.pk, alert.pk, channel.pk)]
    return user


def an_id(owner, draw) -> str:
    return draw(st.one_of(st.sampled_from(owner.fuzz_ids), odd_ids))


def fill(fields: list[str], draw, owner) -> dict[str, str]:
    """Some of the fields, each any text, a tricky value or one of the account's real ids."""
    chosen = {}
    for name in fields:
        if draw(st.booleans()):
            chosen[name] = draw(st.one_of(TRICKY, value, st.sampled_from(owner.fuzz_ids)))
    return chosen


@pytest.mark.parametrize("page", PAGES, ids=[path for path, _ in PAGES])
@FUZZ
@given(data=st.data())
def test_any_query_parameters_on_any_page_answer_below_500(client, owner, page, data):
    path, fields = page
    client.force_login(owner)
    client.raise_request_exception = False
    url = path.replace("{id}", an_id(owner, data.draw))
    response = client.get(url, fill(fields, data.draw, owner))
    assert response.status_code < 500, (url, response.status_code)


@pytest.mark.parametrize("form", FORMS, ids=[path for path, _ in FORMS])
@FUZZ
@given(data=st.data())
def test_any_form_input_answers_below_500(client, owner, form, data):
    path, fields = form
    client.force_login(owner)
    client.raise_request_exception = False
    url = path.replace("{id}", an_id(owner, data.draw))
    response = client.post(url, fill(fields, data.draw, owner))
    assert response.status_code < 500, (url, response.status_code)


@FUZZ
@given(username=value, email=value, password=value)
def test_any_signup_input_answers_below_500(client, db, username, email, password):
    client.raise_request_exception = False
    response = client.post(
        "/signup/", {"username": username, "email": email, "password1": password, "password2": password}
    )
    assert response.status_code < 500
    client.logout()


@FUZZ
@given(token=value)
def test_any_share_or_verification_token_answers_below_500(client, db, token):
    client.raise_request_exception = False
    for prefix in ("/r/", "/verify-email/"):
        from urllib.parse import quote

        response = client.get(f"{prefix}{quote(token, safe='')}/")
        assert response.status_code < 500
