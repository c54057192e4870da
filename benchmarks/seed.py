"""Synthetic portfolios for the scale tests and benchmarks: many sites with done scans, findings and varied
grades, expiry dates and scan times, written with bulk inserts (minutes of real scanning in a few seconds).

The denormalised site columns are filled by scanner.services.site_took_result's rules, in bulk.
"""

from __future__ import annotations

import base64
import random
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from scanner.grading.scale import GRADE_ORDER, triage_rank
from scanner.list_facts import list_facts
from scanner.models import Finding, Portfolio, Scan, Site

FINDING_IDS = ("tls.no_tls13", "hsts.missing", "cert.expiring", "cipher.cbc", "seo.no_canonical")
# Failing compliance profiles as stored (" id1 id2 "): most sites fail the strictest profile alone, some fail
# more, a few none; drawn apart from the other draws so those stay what they were before this was added.
FAILING_SETS = (
    " mozilla-modern ",
    " mozilla-modern ",
    " mozilla-modern ",
    " mozilla-modern ncsc-nl-tls ",
    " mozilla-modern bsi-tr-02102-2 ncsc-nl-tls ",
    " mozilla-modern mozilla-intermediate nist-sp800-52r2 bsi-tr-02102-2 anssi-tls ncsc-nl-tls pci-dss-4.0.1 ",
    "",
)


# Bumped when what seed_sites writes changes, so the benchmarks seed again instead of reusing older rows.
SEED_FORMAT = 3
WARNINGS = (
    {"finding_id": "hsts.short", "title": "HSTS max-age is shorter than a year"},
    {"finding_id": "tls.no_tls13", "title": "TLS 1.3 is not offered"},
)


def report_document(host: str, not_after: str, grade: str, *, chain: list[str] | None = None) -> dict:
    """A stored report with the sections the list pages show (grade caps and warnings, web security, whether the
    page was read). `chain`, PEM-like text, brings it to a real report's stored size: 10-15 KB after PostgreSQL's
    compression, out of line (docs/capacity.md measured 13.3 KiB), where without it a few hundred bytes stay
    in the row and reading values out of them costs next to nothing."""
    return {
        "host": host,
        "grade": {"security": grade, "caps": [], "warnings": list(WARNINGS[: len(host) % 3])},
        "certificate": {"not_after": not_after, "subject": f"CN={host}", "san_dns_names": [host, f"www.{host}"]},
        "certificate_deployments": [{"chain_pem": chain or []}],
        "tls": {"protocols": ["TLSv1.2", "TLSv1.3"], "cipher_suites": [{"name": f"SUITE_{n}"} for n in range(40)]},
        "content": {"page_fetched": len(host) % 4 != 0},
        "web_security": {"score": 70, "grade": "B"} if len(host) % 5 else None,
        "findings": [{"id": fid, "title": "x" * 60} for fid in FINDING_IDS],
    }


def certificate_chain(rng: random.Random) -> list[str]:
    """Six certificates' worth of base64 (incompressible, as real DER is; two deployments' chains), about 12 KB:
    with the rest, 13 KB stored."""
    return [base64.b64encode(rng.randbytes(1500)).decode() for _ in range(6)]


@transaction.atomic
def seed_sites(
    owner, count: int, *, portfolio: Portfolio | None = None, seed: int = 13, real_size_reports: bool = False
) -> list[int]:
    """`count` sites of `owner` with a done scan each (in `portfolio` when given); `real_size_reports` stores
    reports of a real one's size (report_document), slower to seed."""
    rng = random.Random(seed)
    chains = random.Random(seed + 2)
    now = timezone.now()
    drawn = []  # per site: grade, certificate expiry, scan time, score, SEO score (the draws in their old order)
    for _ in range(count):
        grade = rng.choice(GRADE_ORDER)
        expiry = now + timedelta(days=rng.randint(-30, 400), hours=1)
        finished = now - timedelta(minutes=rng.randint(1, 60 * 24 * 30))
        drawn.append((grade, expiry, finished, rng.randint(0, 100), rng.randint(0, 100)))
    failing_rng = random.Random(seed + 1)
    failing = [failing_rng.choice(FAILING_SETS) for _ in range(count)]
    # The site columns site_took_result would fill are written with the rows themselves (requested_at is
    # auto_now_add; last_scan_at's spread matters for sorting); a bulk_update of 10,000 rows cost a minute.
    sites = Site.objects.bulk_create(
        Site(
            owner=owner,
            hostname=f"site{n:05d}.example",
            https_port=443,
            last_scan_at=finished,
            grade=grade,
            grade_rank=GRADE_ORDER.index(grade),
            triage_rank=triage_rank(grade, unreachable=False),
            cert_not_after=expiry,
            compliance_failing=failing[n],
        )
        for n, (grade, expiry, finished, _, _) in enumerate(drawn)
    )
    documents = [
        report_document(
            site.hostname, expiry.isoformat(), grade, chain=certificate_chain(chains) if real_size_reports else None
        )
        for site, (grade, expiry, _, _, _) in zip(sites, drawn, strict=True)
    ]
    scans = Scan.objects.bulk_create(
        (
            Scan(
                site=site,
                status=Scan.Status.DONE,
                security_grade=grade,
                score=score,
                seo_score=seo_score,
                started_at=finished,
                finished_at=finished,
                attempts=1,
                result=document,
                list_facts=list_facts(document),  # as Scan.save would derive them
                compliance_failing=site.compliance_failing,
            )
            for site, document, (grade, _, finished, score, seo_score) in zip(sites, documents, drawn, strict=True)
        ),
        batch_size=1000,
    )
    Finding.objects.bulk_create(
        (
            Finding(scan=scan, site_id=scan.site_id, finding_id=fid, severity="medium", title=fid)
            for scan in scans
            for fid in rng.sample(FINDING_IDS, 3)
        ),
        batch_size=5000,
    )
    # Each site has the one scan just made: both links in one UPDATE the database resolves itself.
    its_scan = Subquery(Scan.objects.filter(site=OuterRef("pk")).values("pk")[:1])
    Site.objects.filter(pk__in=[site.pk for site in sites]).update(latest_scan=its_scan, last_scan=its_scan)
    for site, scan in zip(sites, scans, strict=True):
        site.latest_scan = site.last_scan = scan
    if portfolio is not None:
        portfolio.sites.add(*sites)
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum would gather soon after a real bulk import: without them the planner
        # guesses a handful of rows and joins all 10,000 before sorting instead of walking the sort's index.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE scanner_site, scanner_scan, scanner_finding, scanner_portfolio_sites")
    return [site.pk for site in sites]
