"""Reads for compliance profiles over a user's sites: how many of a portfolio's sites fail each profile.

Counts read the failing profiles stored per scan (Scan.compliance_failing, by scanner.services.compliance), never
the report documents, so a 10,000-site portfolio costs one aggregate query; the dashboard sums them from its
triage pass instead, which reads each site's copy (Site.compliance_failing) and no scans.
"""

from __future__ import annotations

from scanner.grading.compliance import PROFILE_IDS, PROFILES
from scanner.history_selectors import portfolio_standing_now
from scanner.models import ComplianceEvidence, Portfolio


def portfolio_profiles(portfolio: Portfolio) -> list[str]:
    """The profiles a portfolio shows: its choice, in profiles.toml order."""
    return [profile for profile in PROFILE_IDS if profile in (portfolio.compliance_profiles or [])]


def compliance_counts(*, portfolio: Portfolio, profiles: list[str], standing: list[dict] | None = None) -> list[dict]:
    """Per profile: {profile, title, short, version, failing, evaluated} where evaluated counts the sites with a
    finished scan ("12 of 40 sites fail PCI DSS"). Summed from where the portfolio's sites stand now per grade
    (history_selectors.portfolio_standing_now, read here unless the caller has it: the page's history needs the
    same pass)."""
    if not profiles:
        return []
    if standing is None:
        standing = portfolio_standing_now(portfolio, profiles)
    evaluated = sum(row["sites"] for row in standing)
    return [
        {
            "profile": profile,
            "title": PROFILES[profile].title,
            "short": PROFILES[profile].short,
            "version": PROFILES[profile].version,
            "failing": sum(row[profile] for row in standing),
            "evaluated": evaluated,
        }
        for profile in profiles
    ]


def evidence_get(portfolio: Portfolio, evidence_id: int, *, with_content: bool = False) -> ComplianceEvidence | None:
    """One of the portfolio's reports (the portfolio was already looked up for its user), else None."""
    reports = ComplianceEvidence.objects.filter(portfolio=portfolio, pk=evidence_id)
    return (reports if with_content else reports.defer("content")).first()
