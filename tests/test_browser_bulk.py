"""A large portfolio scan as a person asks for it, in Debian's Chromium with axe-core: "Scan portfolio now" opens
the progress page at once, which, polling, follows a real worker's batches and ends on the outcome without a
reload."""

from __future__ import annotations

import pytest

from scanner.models import Scan
from tests.axe import assert_accessible
from tests.test_browser import log_in, pytestmark  # noqa: F401 - shared skip marker
from tests.test_browser_flows import page  # noqa: F401 - fixture
from tests.test_bulk_operations_e2e import portfolio_of, queues, run_worker  # noqa: F401 - fixture

SITES = 60


@pytest.mark.django_db(transaction=True)
def test_scan_portfolio_now_on_a_large_portfolio_shows_progress_then_the_outcome(
    live_server,
    django_user_model,
    queues,  # noqa: F811 - the fixture imported above
    page,  # noqa: F811 - the fixture imported above
):
    from playwright.sync_api import expect

    owner = django_user_model.objects.create_user("bo", password="bo-pass-123")
    portfolio = portfolio_of(owner, SITES)
    log_in(page, live_server.url, "bo", "bo-pass-123")
    page.goto(f"{live_server.url}/portfolios/{portfolio.pk}/")

    # No worker yet: the request answered at once with the progress page, which says it waits.
    page.get_by_role("button", name="Scan portfolio now").click()
    expect(page.get_by_role("heading", name=f"Scanning {portfolio.name}")).to_be_visible()
    expect(page.get_by_text("Waiting for a worker…")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Progress")).to_be_visible()
    assert_accessible(page, "a bulk scan's progress page")
    assert not Scan.objects.exists()

    # A worker starts: the page, polling, ends on the outcome without a manual reload.
    with run_worker(queues):
        expect(page.get_by_text(f"All {SITES} sites handled")).to_be_visible(timeout=90_000)
    assert Scan.objects.filter(portfolio=portfolio).count() == SITES
