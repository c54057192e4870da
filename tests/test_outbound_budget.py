"""Amplification caps: one scan makes at most SCANNER_OUTBOUND_BUDGET fetches to hosts the scanned site names
(AIA downloads, OCSP/CRL requests, redirect hops, counted together); the rest are skipped and reported in one
information finding. Against real HTTP servers on loopback."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from scanner.engine.certificates import chain
from scanner.engine.certificates.aia import CACHE, make_fetcher
from scanner.engine.http.redirects import probe_http
from scanner.engine.results import ScanResult, ScanSettings
from scanner.engine.runtime.outbound_budget import OutboundBudget
from scanner.grading import grade
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins


class CountingServer:
    """Counts GETs; / and /r/N redirect to /r/N+1 forever, anything else is a 404."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                counter.paths.append(self.path)
                if self.path == "/" or self.path.startswith("/r/"):
                    self.send_response(302)
                    self.send_header("Location", f"/r/{int(self.path[3:] or 0) + 1}")
                else:
                    self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    counting = CountingServer()
    yield counting
    counting.close()


def policy() -> NetworkPolicy:
    return NetworkPolicy(allowed_networks=parse_networks(["127.0.0.0/8"]), pins=parse_pins(["ca.test:127.0.0.1"]))


def leaf_with_ca_issuer_urls(urls: list[str]) -> x509.Certificate:
    """A leaf issued by a CA nobody has, naming `urls` as where to download that CA."""
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "site.test")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hidden CA")]))
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(u))
                    for u in urls
                ]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def test_a_leaf_with_300_ca_issuer_urls_costs_at_most_the_budget(server):
    CACHE.clear()
    urls = [f"http://ca.test:{server.port}/ca-{number}.der" for number in range(300)]
    budget = OutboundBudget(5)
    fetch = make_fetcher(policy(), deadline=5, connect_timeout=2, budget=budget)
    outcome = chain.analyse([leaf_with_ca_issuer_urls(urls)], [], fetch)
    assert len(server.paths) == 5  # before the budget, one scan sent all 300
    assert budget.skipped == (("aia", 295),)
    assert "skipped" in outcome.aia_error


def test_redirect_hops_take_from_the_same_budget(server):
    budget = OutboundBudget(3)
    settings = ScanSettings(http_timeout=5, http_deadline=10)
    result = probe_http(
        "site.test", 443, server.port, lambda host: "127.0.0.1", settings, with_hsts=False, outbound_budget=budget
    )
    # The first request is the target itself; the three hops after it are the budget.
    assert len(server.paths) == 4
    assert budget.skipped == (("redirect", 1),)
    assert "outbound budget of 3 fetches is spent" in result.error


def test_aia_and_redirects_share_one_budget(server):
    CACHE.clear()
    budget = OutboundBudget(4)
    fetch = make_fetcher(policy(), deadline=5, connect_timeout=2, budget=budget)
    chain.analyse([leaf_with_ca_issuer_urls([f"http://ca.test:{server.port}/a{n}.der" for n in range(3)])], [], fetch)
    probe_http(
        "site.test",
        443,
        server.port,
        lambda host: "127.0.0.1",
        ScanSettings(http_timeout=5),
        with_hsts=False,
        outbound_budget=budget,
    )
    assert len(server.paths) == 3 + 2  # three AIA downloads, the target, one hop
    assert budget.skipped == (("redirect", 1),)


def test_skipped_fetches_are_reported_as_one_information_finding():
    result = ScanResult(
        host="site.test",
        https_port=443,
        http_port=80,
        ip=None,
        started_at=datetime.now(UTC),
        duration_s=1.0,
        error="no TLS answer",
        outbound_skipped=(("aia", 295), ("redirect", 2)),
        outbound_budget=20,
    )
    [skipped] = [item for item in grade(result).findings if item.id == "scan.outbound_budget_exhausted"]
    assert skipped.severity == "info"
    assert "295 issuer certificate downloads (AIA), 2 redirect hops" in skipped.detail


def test_an_unlimited_budget_never_refuses():
    budget = OutboundBudget(0)
    assert all(budget.take(OutboundBudget.OCSP) for _ in range(1000)) and budget.skipped == ()
