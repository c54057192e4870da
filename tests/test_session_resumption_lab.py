"""Session resumption (session IDs and RFC 5077 tickets) measured with sslyze's plugin against the lab's real
TLS servers (Python's ssl module on OpenSSL, which issues session tickets by default), shown with ALPN in the
report's protocol details."""

from __future__ import annotations

import pytest

from scanner.grading import grade
from scanner.report import build_report
from tests.test_site_report import as_alice, report_html, site_with  # noqa: F401  (fixture)


def test_a_server_issuing_session_tickets_resumes_with_them(scan_case):
    resumption = scan_case("good").tls.session_resumption
    assert (resumption.tickets, resumption.tickets_attempted) == ("yes", resumption.tickets_resumed)
    assert resumption.tickets_attempted >= 2


def test_session_id_resumption_is_measured_with_its_attempt_counts(scan_case):
    resumption = scan_case("legacy").tls.session_resumption
    assert resumption.session_ids in {"yes", "partly", "no"}  # the lab's cache decides; measured, not assumed
    assert resumption.session_ids_attempted >= 2
    assert resumption.session_ids_resumed <= resumption.session_ids_attempted


def test_a_tls_1_3_only_server_is_not_counted_as_refusing_resumption(scan_case):
    resumption = scan_case("tls13only").tls.session_resumption
    assert (resumption.session_ids, resumption.tickets) == ("tls1.3_only", "tls1.3_only")


def test_the_resumption_test_is_a_probe_with_an_outcome(scan_case):
    assert scan_case("good").probes["session_resumption"].status == "ok"


def test_the_json_report_carries_session_resumption(scan_case):
    result = scan_case("good")
    section = build_report(result, grade(result))["session_resumption"]
    assert section["tickets"] == "yes" and section["tickets_attempted"] == section["tickets_resumed"] >= 2


@pytest.mark.django_db
def test_the_site_report_shows_resumption_and_alpn_in_protocol_details(scan_case, as_alice, alice):  # noqa: F811
    result = scan_case("good")
    document = build_report(result, grade(result))
    html = report_html(as_alice, site_with(alice, document))
    details = html[html.index("<h3>Protocol details</h3>") : html.index('id="suites-heading"')]
    tickets = document["session_resumption"]["tickets_attempted"]
    assert f'<dt>Session resumption (tickets, RFC 5077)</dt><dd class="good">Yes ({tickets} of {tickets}' in details
    assert "<dt>Session resumption (caching, session IDs)</dt>" in details
    # The lab's Python servers accept no ALPN protocol (the nginx tests see ["h2", "http/1.1"]).
    assert document["alpn"] == []
    assert '<dt>ALPN</dt><dd class="muted">No (no protocol accepted)</dd>' in details


@pytest.mark.django_db
def test_the_alpn_protocols_accepted_are_listed_in_protocol_details(as_alice, alice):  # noqa: F811
    from tests.test_site_report import document

    html = report_html(as_alice, site_with(alice, document(alpn=["h2", "http/1.1"])))
    assert "<dt>ALPN</dt><dd>h2, http/1.1</dd>" in html[html.index("<h3>Protocol details</h3>") :]


@pytest.mark.django_db
def test_a_report_stored_before_resumption_was_measured_says_not_tested(as_alice, alice):  # noqa: F811
    from tests.test_site_report import document

    html = report_html(as_alice, site_with(alice, document()))
    details = html[html.index("<h3>Protocol details</h3>") :]
    assert '<dt>Session resumption (tickets, RFC 5077)</dt><dd class="muted">Not tested</dd>' in details
    assert '<dt>ALPN</dt><dd class="muted">Not tested</dd>' in details
