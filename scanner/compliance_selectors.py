"""Reads for compliance profiles over a user's sites: how many of a portfolio's sites fail each profile.

Counts read Scan.compliance_failing (stored per scan by scanner.services.compliance), never the report
documents, so a 10,000-site portfolio costs one aggregate query.
"""

from __future__ import annotations

from django.db.models import Count, Q

from scanner.grading.compliance import PROFILE_IDS, PROFILES
from scanner.models import ComplianceEvidence, Portfolio, Site
from scanner.selectors import fails_profile


def portfolio_profiles(portfolio: Portfolio) -> list[str]:
    """The profiles a portfolio shows: its choice, in profiles.toml order."""
    return [profile for profile in PROFILE_IDS if profile in (portfolio.compliance_profiles or [])]


def compliance_counts(*, portfolio: Portfolio, profiles: list[str]) -> list[dict]:
    """Per profile: {profile, title, short, version, failing, evaluated} where evaluated counts the sites with a
    finished scan ("12 of 40 sites fail PCI DSS")."""
    if not profiles:
        return []
    sites = Site.objects.filter(owner=portfolio.owner, portfolios=portfolio)
    aggregates = {"evaluated": Count("pk", filter=Q(latest_scan__isnull=False))}
    for index, profile in enumerate(profiles):
        aggregates[f"fails_{index}"] = Count("pk", filter=fails_profile(profile))
    counts = sites.order_by().aggregate(**aggregates)
    return [
        {
            "profile": profile,
            "title": PROFILES[profile].title,
            "short": PROFILES[profile].short,
            "version": PROFILES[profile].version,
            "failing": counts[f"fails_{index}"],
            "evaluated": counts["evaluated"],
        }
        for index, profile in enumerate(profiles)
    ]


def evidence_get(portfolio: Portfolio, evidence_id: int, *, with_content: bool = False) -> ComplianceEvidence | None:
    """One of the portfolio's reports (the portfolio was already looked up for its user), else None."""
    reports = ComplianceEvidence.objects.filter(portfolio=portfolio, pk=evidence_id)
    return (reports if with_content else reports.defer("content")).first()
