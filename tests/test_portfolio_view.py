"""The portfolio view an agency works from: tags kept by imports, filters (portfolio, tag, search, failing
including dead sites, not graded, expiry windows), triage counts, the check matrix, "Scan portfolio now",
CSV round trip, deleting sites with their history."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from scanner import services
from scanner.imports import import_sites
from scanner.models import Alert, Finding, Portfolio, Scan, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(alice):
    return Portfolio.objects.create(owner=alice, name="Client A")


def done_scan(site: Site, grade: str, *, days_left: float | None = 200, findings=()) -> Scan:
    not_after = (timezone.now() + timedelta(days=days_left)).isoformat() if days_left is not None else None
    scan = Scan.objects.create(
        site=site,
        status=Scan.Status.DONE,
        security_grade=grade,
        score=80,
        finished_at=timezone.now(),
        result={"grade": {"security": grade}, "certificate": {"not_after": not_after} if not_after else None},
    )
    for finding_id, severity in findings:
        Finding.objects.create(scan=scan, site=site, finding_id=finding_id, severity=severity, title=finding_id)
    attempted(scan)
    services.site_took_result(scan)
    return scan


def attempted(scan: Scan) -> None:
    """What scanner.services records when a scan is requested: the site's latest attempt."""
    services.site_attempted(scan)


def failed_scan(site: Site, error: str = "connection refused") -> Scan:
    scan = Scan.objects.create(site=site, status=Scan.Status.FAILED, error=error, finished_at=timezone.now())
    attempted(scan)
    return scan


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_an_import_keeps_the_tags_of_each_line(alice, portfolio):
    import_sites(alice, portfolio, "shop.example,,clientA;prod\nblog.example,8443,clientB\n")
    assert sorted(Site.objects.get(hostname="shop.example").tags.values_list("name", flat=True)) == ["clientA", "prod"]
    assert list(Site.objects.get(hostname="blog.example").tags.values_list("name", flat=True)) == ["clientB"]


def test_the_overview_filters_by_tag_portfolio_and_search(client, alice, portfolio):
    import_sites(alice, portfolio, "shop.example,,clientA\n")
    Site.objects.create(owner=alice, hostname="blog.example")
    client.force_login(alice)
    by_tag = page(client, "/?tag=clientA")
    assert "shop.example" in by_tag and "blog.example" not in by_tag
    by_portfolio = page(client, f"/?portfolio={portfolio.pk}")
    assert "shop.example" in by_portfolio and "blog.example" not in by_portfolio
    by_search = page(client, "/?q=blog")
    assert "blog.example" in by_search and "shop.example" not in by_search


def test_failing_only_includes_unreachable_sites(client, alice):
    down = Site.objects.create(owner=alice, hostname="down.example")
    done_scan(down, "A")
    failed_scan(down)
    fine = Site.objects.create(owner=alice, hostname="fine.example")
    done_scan(fine, "A")
    client.force_login(alice)
    html = page(client, "/?failing=on")
    assert "down.example" in html and "fine.example" not in html
    assert "unreachable" in html


def test_worst_first_puts_unreachable_sites_first(client, alice):
    for host, grade in (("a.example", "F"), ("b.example", "B")):
        done_scan(Site.objects.create(owner=alice, hostname=host), grade)
    dead = Site.objects.create(owner=alice, hostname="dead.example")
    failed_scan(dead)
    client.force_login(alice)
    html = page(client, "/?sort=grade")
    assert html.index("dead.example") < html.index("a.example") < html.index("b.example")


def test_not_graded_is_a_filter_that_can_be_clicked(client, alice):
    Site.objects.create(owner=alice, hostname="new.example")
    done_scan(Site.objects.create(owner=alice, hostname="old.example"), "A")
    client.force_login(alice)
    assert 'href="?grade=none"' in page(client, "/")
    html = page(client, "/?grade=none")
    assert "new.example" in html and "old.example" not in html


def test_expires_within_n_days_includes_a_certificate_shown_in_n_days(client, alice):
    site = Site.objects.create(owner=alice, hostname="soon.example")
    done_scan(site, "A", days_left=9.9)  # reads "in 9 days"
    client.force_login(alice)
    html = page(client, "/?expiring=9")
    assert "soon.example" in html and "in 9 days" in html


def test_the_portfolio_page_counts_failing_expiring_and_unreachable_sites(client, alice, portfolio):
    sites = {
        host: Site.objects.create(owner=alice, hostname=host)
        for host in ("a.example", "b.example", "c.example", "d.example")
    }
    done_scan(sites["a.example"], "A", days_left=5)
    done_scan(sites["b.example"], "F", days_left=20)
    failed_scan(sites["c.example"])
    portfolio.sites.add(*sites.values())
    client.force_login(alice)
    html = page(client, reverse("dashboard:portfolio", args=[portfolio.pk]))
    assert '<span class="triage-number bad">1</span> graded F/T/M' in html
    assert '<span class="triage-number bad">1</span> unreachable' in html
    assert '<span class="triage-number warn">1</span> expiring within 7 days' in html
    assert '<span class="triage-number warn">2</span> expiring within 30 days' in html
    assert '<span class="triage-number">1</span> never scanned' in html


def test_the_matrix_marks_each_check_pass_warn_or_fail(client, alice, portfolio):
    site = Site.objects.create(owner=alice, hostname="m.example")
    done_scan(site, "C", findings=[("tls.protocol.tls1_0", "medium"), ("cert.expired", "critical")])
    portfolio.sites.add(site)
    client.force_login(alice)
    html = page(client, reverse("dashboard:portfolio", args=[portfolio.pk]))
    assert 'class="cell cell-fail" title="cert.expired"' in html
    assert 'class="cell cell-warn" title="tls.protocol.tls1_0"' in html
    assert 'class="cell cell-pass"' in html  # ciphers, HSTS...
    assert 'class="cell cell-na"' in html  # mixed content: the stored report has no data for it


def test_the_matrix_fails_mixed_content_for_a_site_with_content_mixed_findings(client, alice, portfolio):
    site = Site.objects.create(owner=alice, hostname="mixed.example")
    scan = done_scan(site, "A", findings=[("content.mixed.active", "high")])
    scan.result = {**scan.result, "content": {"page_fetched": True}}
    scan.save(update_fields=["result"])
    portfolio.sites.add(site)
    client.force_login(alice)
    html = page(client, reverse("dashboard:portfolio", args=[portfolio.pk]))
    assert 'class="cell cell-fail" title="content.mixed.active"' in html


def test_scan_portfolio_now_queues_every_site_and_a_refused_one_shows_failed_with_an_alert(
    client, alice, portfolio, settings
):
    settings.SCANNER_RESOLVE = ["shop.example:192.0.2.10", "intranet.example:10.1.2.3"]
    settings.SCANNER_ALLOWED_NETWORKS = ["192.0.2.0/24"]
    import_sites(alice, portfolio, "shop.example\nintranet.example\n")
    client.force_login(alice)
    response = client.post(reverse("dashboard:portfolio_scan", args=[portfolio.pk]), follow=True)
    assert "2 scans queued." in response.content.decode()
    assert Scan.objects.get(site__hostname="shop.example").status == Scan.Status.QUEUED

    # The worker resolves each site under the network policy; the refused one ends failed, with an alert.
    services.execute_scan(Scan.objects.get(site__hostname="intranet.example").pk)
    refused = Scan.objects.get(site__hostname="intranet.example")
    assert refused.status == Scan.Status.FAILED and "private" in refused.error and "10.1.2.3" not in refused.error
    assert Alert.objects.filter(site__hostname="intranet.example", kind=Alert.Kind.SCAN_FAILED).exists()
    html = page(client, reverse("dashboard:portfolio", args=[portfolio.pk]) + "?failing=on")
    assert "intranet.example" in html and "private, loopback" in html and "10.1.2.3" not in html
    assert "shop.example" not in html


def test_another_users_portfolio_cannot_be_scanned(client, bob, portfolio):
    client.force_login(bob)
    assert client.post(reverse("dashboard:portfolio_scan", args=[portfolio.pk])).status_code == 404


def test_the_csv_export_reimports_unchanged_with_status_and_error_columns(client, alice, portfolio, django_user_model):
    import_sites(alice, portfolio, "shop.example,,clientA;prod\nblog.example,8443,clientB\n")
    failed_scan(Site.objects.get(hostname="blog.example"), "blog.example does not resolve")
    client.force_login(alice)
    exported = b"".join(client.get(f"/portfolios/{portfolio.pk}/export.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(exported)))
    blog = next(row for row in rows if row["host"] == "blog.example")
    assert (blog["status"], blog["error"]) == ("failed", "blog.example does not resolve")

    other = Portfolio.objects.create(owner=alice, name="Copy")
    report = import_sites(alice, other, exported)
    assert report.errors == []
    assert report.created == 2
    again = b"".join(client.get(f"/portfolios/{other.pk}/export.csv").streaming_content).decode()
    assert [row[:3] for row in csv.reader(io.StringIO(again))] == [row[:3] for row in csv.reader(io.StringIO(exported))]


def test_deleting_a_site_in_the_dashboard_removes_its_history(client, alice):
    site = Site.objects.create(owner=alice, hostname="gone.example")
    scan = done_scan(site, "A")
    Alert.objects.create(site=site, scan=scan, kind=Alert.Kind.GRADE_DROPPED, state_key="k", message="m")
    client.force_login(alice)
    assert "Delete gone.example?" in page(client, reverse("dashboard:delete_site", args=[site.pk]))
    client.post(reverse("dashboard:delete_site", args=[site.pk]))
    assert not Site.objects.filter(pk=site.pk).exists()
    assert not Scan.objects.filter(pk=scan.pk).exists()
    assert not Alert.objects.exists()


def test_another_user_cannot_delete_a_site(client, alice, bob):
    site = Site.objects.create(owner=alice, hostname="mine.example")
    client.force_login(bob)
    assert client.post(reverse("dashboard:delete_site", args=[site.pk])).status_code == 404
    assert Site.objects.filter(pk=site.pk).exists()


def test_the_api_deletes_a_site_with_its_history(alice, bob):
    from rest_framework.test import APIClient

    site = Site.objects.create(owner=alice, hostname="api.example")
    done_scan(site, "B")
    api = APIClient()
    api.force_authenticate(bob)
    assert api.delete(f"/api/v1/sites/{site.pk}").status_code == 404
    api.force_authenticate(alice)
    assert api.delete(f"/api/v1/sites/{site.pk}").status_code == 204
    assert not Site.objects.exists() and not Scan.objects.exists()


def test_the_api_lists_tags_and_filters_by_them(alice, portfolio):
    from rest_framework.test import APIClient

    import_sites(alice, portfolio, "shop.example,,clientA\nblog.example\n")
    api = APIClient()
    api.force_authenticate(alice)
    body = api.get("/api/v1/sites?tag=clientA").json()
    assert [(item["hostname"], item["tags"]) for item in body["results"]] == [("shop.example", ["clientA"])]


def test_services_can_set_portfolio_channels_only_from_the_owner(alice, bob, portfolio):
    from scanner.models import Channel

    theirs = Channel.objects.create(owner=bob, kind="slack", target="https://hooks.example/x")
    with pytest.raises(services.ScanRequestError):
        services.portfolio_set_channels(portfolio, notify_all=False, channels=[theirs])


def test_a_portfolio_page_with_scans_running_polls_that_portfolios_progress(client, alice, portfolio):
    site = Site.objects.create(owner=alice, hostname="example.com")
    portfolio.sites.add(site)
    attempted(Scan.objects.create(site=site, status=Scan.Status.QUEUED))
    client.force_login(alice)
    status_url = reverse("dashboard:scan_status")
    portfolio_page = page(client, reverse("dashboard:portfolio", args=[portfolio.pk]))
    assert f'data-status-url="{status_url}?portfolio={portfolio.pk}"' in portfolio_page
    assert f'data-status-url="{status_url}"' in page(client, reverse("dashboard:overview"))
