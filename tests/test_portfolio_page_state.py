"""The portfolio page's state beyond its sites in one query (scanner.selectors.portfolio_page_state): each answer
is the one its own query gave before (active scans, channels, the running bulk operation, the newest report),
and the SQL compiled once per process answers each user and portfolio with their own rows."""

from __future__ import annotations

import pytest

from scanner import selectors
from scanner.models import BulkOperation, Channel, ComplianceEvidence, Portfolio, Scan, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(alice):
    return Portfolio.objects.create(owner=alice, name="Client A")


def portfolio_site(portfolio, hostname: str) -> Site:
    site = Site.objects.create(owner=portfolio.owner, hostname=hostname)
    portfolio.sites.add(site)
    return site


def test_the_page_state_counts_the_portfolios_queued_and_running_scans_only(alice, portfolio):
    queued, running = portfolio_site(portfolio, "q.example"), portfolio_site(portfolio, "r.example")
    Scan.objects.create(site=queued, status=Scan.Status.QUEUED)
    Scan.objects.create(site=running, status=Scan.Status.RUNNING)
    for status in (Scan.Status.DONE, Scan.Status.FAILED):
        Scan.objects.create(site=queued, status=status)
    Scan.objects.create(site=Site.objects.create(owner=alice, hostname="out.example"), status=Scan.Status.QUEUED)
    state = selectors.portfolio_page_state(user=alice, portfolio=portfolio)
    assert state.active_scans == 2


def test_the_page_state_tells_the_users_channels_and_those_the_portfolio_chose(alice, bob, portfolio):
    chosen = Channel.objects.create(owner=alice, kind="email", target="ops@example.com")
    Channel.objects.create(owner=alice, kind="slack", target="https://hooks.example/a")
    portfolio.channels.add(chosen)
    state = selectors.portfolio_page_state(user=alice, portfolio=portfolio)
    assert state.has_channels and state.chosen_channel_ids == [chosen.pk]
    bobs = Portfolio.objects.create(owner=bob, name="Bob's")
    assert not selectors.portfolio_page_state(user=bob, portfolio=bobs).has_channels


def test_the_page_state_names_the_running_bulk_operation_and_no_finished_one(alice, portfolio):
    BulkOperation.objects.create(kind="scan", portfolio=portfolio, owner=alice, state=BulkOperation.State.DONE)
    running = BulkOperation.objects.create(kind="import", portfolio=portfolio, owner=alice, state="running")
    assert selectors.portfolio_page_state(user=alice, portfolio=portfolio).bulk_operation == running
    BulkOperation.objects.filter(pk=running.pk).update(state=BulkOperation.State.DONE)
    assert selectors.portfolio_page_state(user=alice, portfolio=portfolio).bulk_operation is None


def test_the_page_state_names_the_newest_compliance_report(alice, portfolio):
    ComplianceEvidence.objects.create(portfolio=portfolio, status=ComplianceEvidence.Status.DONE)
    newest = ComplianceEvidence.objects.create(portfolio=portfolio, status=ComplianceEvidence.Status.RUNNING)
    assert selectors.portfolio_page_state(user=alice, portfolio=portfolio).evidence == newest


def test_the_page_state_of_a_portfolio_with_nothing_going_on_is_empty(alice, portfolio):
    state = selectors.portfolio_page_state(user=alice, portfolio=portfolio)
    assert state == selectors.PortfolioPageState(0, False, [], None, None)


def test_the_page_state_sql_compiled_once_answers_each_user_with_their_own_rows(alice, bob, portfolio):
    Scan.objects.create(site=portfolio_site(portfolio, "a.example"), status=Scan.Status.QUEUED)
    bobs = Portfolio.objects.create(owner=bob, name="Bob's")
    for hostname in ("b1.example", "b2.example"):
        Scan.objects.create(site=portfolio_site(bobs, hostname), status=Scan.Status.RUNNING)
    Channel.objects.create(owner=bob, kind="email", target="bob@example.com")
    first = selectors.portfolio_page_state(user=alice, portfolio=portfolio)  # compiles (or reuses) the SQL
    assert (first.active_scans, first.has_channels) == (1, False)
    second = selectors.portfolio_page_state(user=bob, portfolio=bobs)
    assert (second.active_scans, second.has_channels) == (2, True)
    # Alice asking for Bob's portfolio counts none of his scans: the owner is in the SQL too.
    assert selectors.portfolio_page_state(user=alice, portfolio=bobs).active_scans == 0
