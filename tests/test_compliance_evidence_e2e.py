"""End to end: a large portfolio's compliance PDF asked for through the API, built by a real Celery worker
(Redis, PostgreSQL), followed through its status URL and downloaded, read back with pdftotext."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from scanner.models import Portfolio
from tests.grading_factories import scan
from tests.test_api import client_for
from tests.test_compliance_api import OLD_TLS, stored
from tests.test_tasks_e2e import _forget_queue
from webui.celery import app as celery_app

DEADLINE_S = 90


@pytest.fixture
def evidence_queue(settings) -> str:
    """Portfolio-wide work (where the report goes) on a queue of this test's own."""
    if connection.vendor == "sqlite":
        pytest.skip("the worker tests need PostgreSQL: set DATABASE_URL=postgres://... (as .ci/run does)")
    settings.SCANNER_RESCAN_QUEUE = f"scanner-evidence-{uuid.uuid4().hex[:12]}"
    settings.SCANNER_EVIDENCE_INLINE_LIMIT = 1
    yield settings.SCANNER_RESCAN_QUEUE
    _forget_queue(settings.SCANNER_RESCAN_QUEUE)


def run_worker(queue: str):
    return start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=60)


def payments(owner, sites: int = 3) -> Portfolio:
    """A PCI DSS portfolio whose first site offers TLS 1.0 (fails) and the others do not."""
    portfolio = Portfolio.objects.create(owner=owner, name="Payments", compliance_profiles=["pci-dss-4.0.1"])
    portfolio.sites.add(stored(owner, "old.example", scan(OLD_TLS)).site)
    for index in range(sites - 1):
        portfolio.sites.add(stored(owner, f"shop{index}.example").site)
    return portfolio


def pdf_text(path) -> str:
    run = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(run.stdout.split())


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) is not installed")
def test_a_worker_builds_the_pdf_a_large_portfolio_asks_for_through_the_api(alice, evidence_queue, tmp_path):
    portfolio = payments(alice)
    api = client_for(alice)
    with run_worker(evidence_queue):
        accepted = api.get(f"/api/v1/portfolios/{portfolio.pk}/compliance.pdf")
        assert accepted.status_code == 202
        deadline = time.monotonic() + DEADLINE_S
        while (status := api.get(accepted["Location"]).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, f"the report is still {status['status']} after {DEADLINE_S} s"
            time.sleep(0.3)
    assert status["status"] == "done", status["error"]
    assert status["progress"] == 100 and status["sites_done"] == status["sites_total"] == 3
    download = api.get(status["file_url"])
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    path = tmp_path / "evidence.pdf"
    path.write_bytes(download.content)
    text = pdf_text(path)
    assert "Compliance report: Payments" in text and "1 of 3 sites fail" in text
    assert "old.example:443 PCI DSS: fail" in text and "shop0.example:443 PCI DSS: pass" in text
