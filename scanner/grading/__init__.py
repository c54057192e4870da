"""Turn a ScanResult into grades: an SSL Labs-style security letter and a 100-point SEO readiness score.

Plain Python on purpose (no Django), so it can be tested and reused without a database. Where each grade
comes from: the numeric score is scoring.ssl_labs_score(); every cap, warning and SEO penalty is a finding
whose cost is its row in policy.toml, detected by one rule in rules.py, hsts.py or seo.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from scanner.engine.results import ScanResult
from scanner.grading import hsts, outbound, seo, seo_extras, trust_rules, websecurity  # noqa: F401 - registers their rules
from scanner.grading.findings import Finding
from scanner.grading.policy import POLICY, finding
from scanner.grading.rules import evaluate
from scanner.grading.scale import TRUST_GRADES, grade_rank, letter_for_score, seo_letter, severity_rank, worse_grade
from scanner.grading.scoring import ssl_labs_score

__all__ = ["POLICY", "Finding", "Grades", "grade"]


@dataclass(frozen=True)
class Grades:
    security: str | None  # A+ .. F, T (untrusted) or M (name mismatch); None when the scan cannot be graded
    security_ignoring_trust: str | None  # the letter the configuration would earn with a valid certificate
    score: int | None  # SSL Labs-style 0-100 before caps
    seo_score: int | None
    seo_grade: str | None  # None for a failed scan: a letter would grade our failure, not the site
    findings: tuple[Finding, ...]
    # The third score: Mozilla HTTP Observatory's method; None when the https page was not read.
    web_security: websecurity.WebSecurity | None = None

    @property
    def caps(self) -> list[dict]:
        """Every cap that applied, in finding order: the "why" of a capped grade."""
        return list(
            {
                (f.id, f.cap): {"finding_id": f.id, "cap": f.cap, "title": f.title} for f in self.findings if f.cap
            }.values()
        )

    @property
    def warnings(self) -> list[dict]:
        """Every warning (an A- trigger) that applied."""
        return list({f.id: {"finding_id": f.id, "title": f.title} for f in self.findings if f.warning}.values())

    def summary(self) -> dict:
        """The report's `grade` object (scanner/report.py)."""
        return {
            "security": self.security,
            "security_ignoring_trust": self.security_ignoring_trust,
            "score": self.score,
            "seo_score": self.seo_score,
            "seo_grade": self.seo_grade,
            "web_security_score": self.web_security.score if self.web_security else None,
            "web_security_grade": self.web_security.grade if self.web_security else None,
            "caps": self.caps,
            "warnings": self.warnings,
        }

    def to_dict(self) -> dict:
        return {**self.summary(), "findings": [item.to_dict() for item in self.findings]}


def grade(result: ScanResult) -> Grades:
    """The site's grades: every scanned address is graded and the worst one is the site's (internet.nl)."""
    first = _grade_endpoint(result)
    others = [
        (endpoint.ip, endpoint.error, _grade_endpoint(replace(result, ip=endpoint.ip, tls=endpoint.tls)))
        for endpoint in result.endpoints
        if endpoint.ip != result.ip
    ]
    worst = first
    findings = list(first.findings)
    for ip, error, other in others:
        if error or other.security is None:
            findings.append(finding("endpoint.unreachable", f"{ip}: {error or 'not graded (incomplete scan)'}."))
            continue
        if other.security != first.security:
            findings.append(
                finding(
                    "endpoint.grade_differs",
                    f"{ip} grades {other.security} while {result.ip} "
                    f"grades {first.security or 'nothing'}; the site gets the worse of the two.",
                )
            )
        findings.extend(_on_address(ip, item) for item in other.findings if item.id not in {f.id for f in findings})
        if worst.security is None or grade_rank(other.security) > grade_rank(worst.security):
            worst = other
    web = websecurity.web_security(result)
    if web is not None:
        findings.extend(web.findings)
    findings = _by_severity(findings)
    seo_score = seo.seo_score(findings)
    return replace(
        worst,
        findings=findings,
        seo_score=seo_score,
        seo_grade=None if result.error else seo_letter(seo_score),
        web_security=web,
    )


def _on_address(ip: str, item: Finding) -> Finding:
    return replace(item, detail=f"On {ip}: {item.detail}")


def _grade_endpoint(result: ScanResult) -> Grades:
    findings = evaluate(result)
    score = ssl_labs_score(result.tls) if _gradable(result) else None
    security = ignoring_trust = None
    if score is not None:
        ignoring_trust = _letter(score, findings, hsts.serves_long_hsts(result))
        security = _trust_grade(findings, ignoring_trust)
    return Grades(security, ignoring_trust, score, None, None, tuple(findings))


def _gradable(result: ScanResult) -> bool:
    """Never grade when a core probe failed: a timed-out probe would look like a cleaner server than the real one."""
    return not result.error and result.tls is not None and not result.tls.incomplete_reason


def _by_severity(findings: list[Finding]) -> tuple[Finding, ...]:
    # Stable sort: within one severity, rule order is kept.
    return tuple(sorted(findings, key=lambda item: severity_rank(item.severity)))


def _letter(score: int, findings: list[Finding], long_hsts: bool) -> str:
    """Score letter, lowered by every A..F cap; then A becomes A- (warnings) or A+ (no warnings, HSTS)."""
    letter = letter_for_score(score)
    for item in findings:
        if item.cap and item.cap not in TRUST_GRADES:
            letter = worse_grade(letter, item.cap)
    if letter != "A":
        return letter
    if any(item.warning for item in findings):
        return "A-"
    return "A+" if long_hsts else "A"


def _trust_grade(findings: list[Finding], letter: str) -> str:
    """T or M replace the letter (M wins), except that a certificate the attacker can forge or break (an F
    from the certificate itself: MD5/MD2 signature, insecure key) stays F: distrust is not its worst problem."""
    if any(item.area == "certificate" and item.cap == "F" for item in findings):
        return "F"
    caps = {item.cap for item in findings}
    return next((special for special in reversed(TRUST_GRADES) if special in caps), letter)
