"""Turn a ScanResult into grades: an SSL Labs-style security letter and a 100-point SEO readiness score.

Plain Python on purpose (no Django), so it can be tested and reused without a database.
Where each grade comes from: the numeric score is scoring.ssl_labs_score(); every cap, warning and SEO penalty
is a Finding produced by one rule in rules.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.engine.results import ScanResult
from scanner.grading.findings import SEVERITIES, Finding
from scanner.grading.rules import HSTS_MIN_MAX_AGE, evaluate
from scanner.grading.scoring import letter_for_score, ssl_labs_score, worse_grade

__all__ = ["Finding", "Grades", "grade"]

TRUST_GRADES = ("M", "T")  # M wins over T: a name mismatch is the more basic error


@dataclass(frozen=True)
class Grades:
    security: str | None  # A+ .. F, T (untrusted) or M (name mismatch); None when the scan cannot be graded
    security_ignoring_trust: str | None  # the letter the configuration would earn with a valid certificate
    score: int | None  # SSL Labs-style 0-100 before caps
    seo_score: int | None
    seo_grade: str | None
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict:
        return {
            "security": self.security,
            "security_ignoring_trust": self.security_ignoring_trust,
            "score": self.score,
            "seo_score": self.seo_score,
            "seo_grade": self.seo_grade,
            "findings": [finding.to_dict() for finding in self.findings],
        }


def grade(result: ScanResult) -> Grades:
    findings = _by_severity(evaluate(result))
    score = ssl_labs_score(result.tls) if _gradable(result) else None
    if score is None:
        security = ignoring_trust = None
    else:
        ignoring_trust = _letter(score, findings, _serves_long_hsts(result))
        security = _trust_grade(findings) or ignoring_trust
    seo_score = _seo_score(result, findings)
    return Grades(
        security=security,
        security_ignoring_trust=ignoring_trust,
        score=score,
        seo_score=seo_score,
        seo_grade=None if seo_score is None else _seo_letter(seo_score),
        findings=findings,
    )


def _gradable(result: ScanResult) -> bool:
    """Never grade partial data: a timed-out probe would look like a cleaner server than the real one."""
    return not result.error and result.tls is not None and not result.tls.incomplete_reason


def _by_severity(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    # Stable sort: within one severity, rules.py order is kept.
    return tuple(sorted(findings, key=lambda finding: SEVERITIES.index(finding.severity)))


def _serves_long_hsts(result: ScanResult) -> bool:
    hsts = result.http.hsts if result.http else None
    return hsts is not None and hsts.valid and hsts.max_age >= HSTS_MIN_MAX_AGE


def _letter(score: int, findings: tuple[Finding, ...], long_hsts: bool) -> str:
    """Score letter, lowered by every A..F cap; then A becomes A- (warnings) or A+ (no warnings, HSTS)."""
    letter = letter_for_score(score)
    for finding in findings:
        if finding.cap and finding.cap not in TRUST_GRADES:
            letter = worse_grade(letter, finding.cap)
    if letter != "A":
        return letter
    if any(finding.warning for finding in findings):
        return "A-"
    return "A+" if long_hsts else "A"


def _trust_grade(findings: tuple[Finding, ...]) -> str | None:
    caps = {finding.cap for finding in findings}
    return next((special for special in TRUST_GRADES if special in caps), None)


def _seo_score(result: ScanResult, findings: tuple[Finding, ...]) -> int | None:
    if result.tls is None and result.http is None:
        return None  # nothing was observed: a score would only measure the failure of our own scan
    return max(0, 100 - sum(finding.seo_penalty for finding in findings))


def _seo_letter(seo_score: int) -> str:
    for threshold, letter in ((90, "A"), (80, "B"), (70, "C"), (60, "D")):
        if seo_score >= threshold:
            return letter
    return "F"
