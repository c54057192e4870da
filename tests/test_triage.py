"""Triage at a glance: worst first by default, each site's top issue, "graded F/T/M" apart from
"unreachable", a matrix cell's reason in the page (not only a tooltip), and an API that says a site is
unreachable with the last error beside the last good grade."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scanner.models import Portfolio, Site
from tests.test_portfolio_view import done_scan, failed_scan, page

pytestmark = pytest.mark.django_db

EXPIRED_CAP = {"finding_id": "cert.expired", "cap": "T", "title": "The certificate has expired"}
TLS10_CAP = {"finding_id": "tls.protocol.tls1_0", "cap": "B", "title": "TLS 1.0 is enabled"}


def three_sites(alice) -> dict[str, Site]:
    sites = {host: Site.objects.create(owner=alice, hostname=host) for host in ("a.example", "b.example", "c.example")}
    done_scan(sites["a.example"], "A")
    done_scan(sites["b.example"], "F")
    done_scan(sites["c.example"], "A")
    failed_scan(sites["c.example"], "connection refused")
    return sites


def test_the_overview_lists_the_worst_site_first_when_nobody_chose_a_sort(client, alice):
    three_sites(alice)
    client.force_login(alice)
    html = page(client, "/")
    assert html.index("c.example") < html.index("b.example") < html.index("a.example")


def test_the_overview_names_each_sites_top_issue_the_worst_cap(client, alice):
    site = Site.objects.create(owner=alice, hostname="capped.example")
    scan = done_scan(site, "T")
    scan.result = {**scan.result, "grade": {"security": "T", "caps": [TLS10_CAP, EXPIRED_CAP], "warnings": []}}
    scan.save(update_fields=["result"])
    client.force_login(alice)
    html = page(client, "/")
    assert '<th scope="col">Top issue</th>' in html
    assert 'The certificate has expired <span class="muted">(caps at T)</span>' in html
    assert "TLS 1.0 is enabled" not in html


def test_triage_counts_graded_f_t_m_apart_from_unreachable(client, alice):
    three_sites(alice)
    client.force_login(alice)
    html = page(client, "/")
    assert '<span class="triage-number bad">1</span> graded F/T/M' in html
    assert '<span class="triage-number bad">1</span> unreachable' in html


def test_the_graded_and_unreachable_filters_each_list_their_own_sites(client, alice):
    three_sites(alice)
    client.force_login(alice)
    graded = page(client, "/?failing=graded")
    assert "b.example" in graded and "c.example" not in graded and "a.example" not in graded
    unreachable = page(client, "/?failing=unreachable")
    assert "c.example" in unreachable and "b.example" not in unreachable
    either = page(client, "/?failing=on")
    assert "b.example" in either and "c.example" in either and "a.example" not in either


def test_a_matrix_cells_reason_is_in_the_page_behind_a_keyboard_control(client, alice):
    portfolio = Portfolio.objects.create(owner=alice, name="Client A")
    site = Site.objects.create(owner=alice, hostname="m.example")
    done_scan(site, "T", findings=[("cert.expired", "critical")])
    portfolio.sites.add(site)
    client.force_login(alice)
    html = page(client, reverse("dashboard:portfolio", args=[portfolio.pk]))
    assert (
        '<details class="cell-why"><summary><span class="cell-word">fail</span>'
        '<span class="visually-hidden">: Certificate of m.example, why</span></summary>'
        '<ul class="cell-reasons"><li>cert.expired</li></ul></details>'
    ) in html


def test_the_api_says_a_site_is_unreachable_with_the_last_error_beside_the_last_good_grade(client, alice):
    sites = three_sites(alice)
    client.force_login(alice)
    down = client.get(f"/api/v1/sites/{sites['c.example'].pk}").json()
    assert down["state"] == "unreachable"
    assert down["last_error"] == "connection refused"
    assert down["latest_scan"]["security_grade"] == "A"
    assert down["last_attempt"]["status"] == "failed"
    listed = {site["hostname"]: site for site in client.get("/api/v1/sites").json()["results"]}
    assert (listed["a.example"]["state"], listed["a.example"]["last_error"]) == ("graded", None)
    assert listed["c.example"]["state"] == "unreachable"


def test_the_navigation_links_the_api_docs(client, alice):
    client.force_login(alice)
    assert '<a href="/api/docs/">API docs</a>' in page(client, "/")
    assert client.get("/api/docs/").status_code == 200


def test_the_summary_fragment_is_the_owners_alone(client, alice, bob):
    portfolio = Portfolio.objects.create(owner=alice, name="Client A")
    client.force_login(bob)
    assert client.get(f"/summary/?portfolio={portfolio.pk}").status_code == 404
    client.force_login(alice)
    assert "graded F/T/M" in page(client, f"/summary/?portfolio={portfolio.pk}")
    assert "graded F/T/M" in page(client, "/summary/")


def test_the_summary_fragment_of_a_portfolio_id_that_is_not_an_id_is_a_404_not_a_500(client, alice):
    client.force_login(alice)
    for bad in ("²", "9" * 30, "-1", "abc"):
        assert client.get("/summary/", {"portfolio": bad}).status_code == 404, bad


def test_the_grade_mix_read_from_the_triage_counts_is_the_grade_mix_counted_alone(alice):
    from webui.dashboard.triage import grade_distribution, triage_counts

    three_sites(alice)
    Site.objects.create(owner=alice, hostname="new.example")  # never graded
    counted = grade_distribution(user=alice)
    assert [(row["grade"], row["count"]) for row in counted] == [("A", 2), ("F", 1), ("", 1)]
    assert grade_distribution(user=alice, counts=triage_counts(user=alice)) == counted


def various_sites(alice) -> Portfolio:
    """Sites of every kind the filters tell apart, in a portfolio with one more site left out of it."""
    portfolio = Portfolio.objects.create(owner=alice, name="Client A")
    kinds = [("A", 200), ("B", 20), ("B", 10), ("F", 5), ("T", -3), ("M", None), ("A", 13), ("C", 29), ("C", 31)]
    for index, (grade, days_left) in enumerate(kinds):
        site = Site.objects.create(owner=alice, hostname=f"s{index}.example")
        done_scan(site, grade, days_left=days_left)
        portfolio.sites.add(site)
    failed_scan(Site.objects.get(hostname="s1.example"))
    failed_scan(portfolio.sites.create(owner=alice, hostname="down.example"))
    portfolio.sites.add(Site.objects.create(owner=alice, hostname="new.example"))
    done_scan(Site.objects.create(owner=alice, hostname="elsewhere.example"), "F", days_left=2)
    return portfolio


FILTERS = [
    {},
    {"grade": "B"},
    {"grade": "none"},
    {"failing": True},
    {"failing": "graded"},
    {"failing": "unreachable"},
    {"expiring_within": 7},
    {"expiring_within": 14},
    {"expiring_within": 30},
    {"grade": "C", "expiring_within": 30},
    {"failing": "on", "expiring_within": 7},
]


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("in_portfolio", [False, True])
def test_the_matching_sites_counted_from_the_triage_groups_are_the_sites_the_filters_match(
    alice, filters, in_portfolio
):
    from webui.dashboard.queries import matching_sites
    from webui.dashboard.triage import count_from_triage, triage_counts

    portfolio = various_sites(alice)
    scope = {"user": alice, "portfolio": portfolio if in_portfolio else None}
    counted = count_from_triage(triage_counts(**scope), **scope, **filters)
    assert counted == matching_sites(**scope, **filters).count()


@pytest.mark.parametrize("filters", [{"tag": "prod"}, {"search": "s1"}, {"fails": "pci-dss"}, {"expiring_within": 3}])
def test_a_filter_the_triage_groups_do_not_tell_apart_is_left_to_a_count_of_its_own(alice, filters):
    from webui.dashboard.triage import count_from_triage, triage_counts

    various_sites(alice)
    assert count_from_triage(triage_counts(user=alice), user=alice, **filters) is None


def test_a_portfolios_grades_today_read_from_the_triage_groups_are_its_standing_counted_alone(alice):
    from scanner.history_selectors import portfolio_standing_now
    from webui.dashboard.triage import standing, triage_counts

    portfolio = various_sites(alice)
    counted_alone = {row["grade"]: row["sites"] for row in portfolio_standing_now(portfolio, [])}
    from_groups = standing(triage_counts(user=alice, portfolio=portfolio), [])
    assert {row["grade"]: row["sites"] for row in from_groups} == counted_alone
