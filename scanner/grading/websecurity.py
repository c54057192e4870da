"""The web security score, the way Mozilla's HTTP Observatory scores a site.

Each test below reads the engine's WebFacts (and, for HSTS, redirection and cookies, the HTTP walk and the
certificate the security grade already uses) and names Observatory's result for it; web_security.toml says
what each result is worth. Start at 100, add the modifiers, count bonuses only from 90 up, letter from
Observatory's chart. A failing result also becomes a finding (headers.*, cookies.*, web.*) whose row in
policy.toml carries the remediation; none of them caps or warns, so the TLS grade never moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scanner.engine.results import ScanResult
from scanner.engine.web_results import WebFacts
from scanner.grading import web_extras
from scanner.grading import websecurity_tests as tests
from scanner.grading.findings import Finding
from scanner.grading.policy import POLICY, finding
from scanner.grading.toml_tables import load_toml

TABLE_FILE = Path(__file__).with_name("web_security.toml")


@dataclass(frozen=True)
class ModifierRow:
    result: str
    test: str
    points: int
    description: str
    anchor: str


def _load(path: Path = TABLE_FILE) -> tuple[dict[str, ModifierRow], int, tuple[tuple[int, str], ...]]:
    data = load_toml(path)
    rows = {}
    for result, raw in data["modifier"].items():
        if set(raw) != {"test", "points", "description", "anchor"}:
            raise ValueError(f"{result}: columns must be test, points, description, anchor")
        rows[result] = ModifierRow(result, raw["test"], int(raw["points"]), raw["description"], raw["anchor"])
    chart = tuple((int(low), letter) for low, letter in data["grade_chart"])
    return rows, int(data["extra_credit_minimum"]), chart


MODIFIERS, EXTRA_CREDIT_MINIMUM, GRADE_CHART = _load()
BASELINE = 100

# A failing Observatory result -> the finding that explains it (its remediation lives in policy.toml).
FINDING_FOR_RESULT = {
    "csp-not-implemented": "headers.csp.missing",
    "csp-not-implemented-but-reporting-enabled": "headers.csp.report_only",
    "csp-header-invalid": "headers.csp.invalid",
    "csp-implemented-with-unsafe-inline": "headers.csp.unsafe_inline",
    "csp-implemented-with-insecure-scheme": "headers.csp.insecure_scheme",
    "csp-implemented-with-unsafe-eval": "headers.csp.unsafe_eval",
    "csp-implemented-with-insecure-scheme-in-passive-content-only": "headers.csp.insecure_scheme",
    "x-frame-options-not-implemented": "headers.x_frame_options.missing",
    "x-frame-options-header-invalid": "headers.x_frame_options.invalid",
    "x-content-type-options-not-implemented": "headers.x_content_type_options.missing",
    "x-content-type-options-header-invalid": "headers.x_content_type_options.missing",
    "referrer-policy-unsafe": "headers.referrer_policy.unsafe",
    "referrer-policy-header-invalid": "headers.referrer_policy.unsafe",
    "cross-origin-resource-policy-header-invalid": "headers.corp.invalid",
    "cross-origin-resource-sharing-implemented-with-universal-access": "web.cors.any_origin_with_credentials",
    "cookies-session-without-secure-flag": "cookies.session_not_secure",
    "cookies-session-without-secure-flag-but-protected-by-hsts": "cookies.session_not_secure",
    "cookies-session-without-httponly-flag": "cookies.session_not_httponly",
    "cookies-without-secure-flag": "cookies.not_secure",
    "cookies-without-secure-flag-but-protected-by-hsts": "cookies.not_secure",
    "cookies-samesite-flag-invalid": "cookies.samesite_invalid",
    "cookies-anticsrf-without-samesite-flag": "cookies.samesite_invalid",
    "sri-not-implemented-but-external-scripts-loaded-securely": "web.sri.missing",
    "sri-implemented-but-external-scripts-not-loaded-securely": "web.sri.insecure_script",
    "sri-not-implemented-and-external-scripts-not-loaded-securely": "web.sri.insecure_script",
}


@dataclass(frozen=True)
class Modifier:
    test: str
    result: str
    points: int
    detail: str

    def to_dict(self) -> dict:
        return {"test": self.test, "result": self.result, "points": self.points, "detail": self.detail}


@dataclass(frozen=True)
class WebSecurity:
    score: int
    grade: str
    modifiers: tuple[Modifier, ...]
    headers: dict[str, dict]  # the report's `headers`: per header {present, value, verdict, notes}
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict:
        return {"score": self.score, "grade": self.grade, "modifiers": [item.to_dict() for item in self.modifiers]}


def grade_for(score: int) -> str:
    """Observatory's chart: the score rounded down to a multiple of 5, anything above 100 counted as 100."""
    rounded = min(100, score - score % 5)
    return next(letter for low, letter in GRADE_CHART if rounded >= low)


def total(points: list[int]) -> int:
    """100 plus every penalty; bonuses only when that is already at least 90 (MINIMUM_SCORE_FOR_EXTRA_CREDIT)."""
    uncurved = BASELINE + sum(value for value in points if value < 0)
    score = uncurved + sum(value for value in points if value > 0) if uncurved >= EXTRA_CREDIT_MINIMUM else uncurved
    return max(0, score)


TESTS: tuple[Callable[[ScanResult, WebFacts], tests.Outcome | None], ...] = (
    tests.content_security_policy,
    tests.cookies,
    tests.cross_origin_resource_sharing,
    tests.redirection,
    tests.referrer_policy,
    tests.strict_transport_security,
    tests.subresource_integrity,
    tests.x_content_type_options,
    tests.x_frame_options,
    tests.cross_origin_resource_policy,
)


def web_security(scan: ScanResult) -> WebSecurity | None:
    """None when the final https page was never read (no HTTPS, or the walk failed): nothing to score."""
    facts = scan.http.web if scan.http else None
    if facts is None or scan.error:
        return None
    modifiers: list[Modifier] = []
    findings: list[Finding] = []
    for test in TESTS:
        outcome = test(scan, facts)
        if outcome is None:  # not measurable here (e.g. the http:// walk failed): no modifier either way
            continue
        row = MODIFIERS[outcome.result]
        modifiers.append(Modifier(row.test, row.result, row.points, outcome.detail))
        finding_id = FINDING_FOR_RESULT.get(outcome.result)
        if finding_id is not None and row.points < 0:
            findings.append(finding(finding_id, f"{outcome.detail} (Observatory: {row.result}, {row.points})."))
    findings.extend(web_extras.extra_findings(scan, facts))
    score = total([item.points for item in modifiers])
    return WebSecurity(
        score=score,
        grade=grade_for(score),
        modifiers=tuple(modifiers),
        headers=web_extras.header_verdicts(scan, facts, modifiers),
        findings=tuple(findings),
    )


def _check_policy_rows() -> None:
    missing = [fid for fid in set(FINDING_FOR_RESULT.values()) if fid not in POLICY]
    unknown = [result for result in FINDING_FOR_RESULT if result not in MODIFIERS]
    if missing or unknown:
        raise ValueError(f"web security: findings missing from policy.toml {missing}, unknown results {unknown}")


_check_policy_rows()


def modifiers_markdown_table() -> str:
    """The README's web security modifiers table, one line per row of web_security.toml, in file order."""
    lines = ["| test | Observatory result | points | what it means | anchor |", "|---|---|---|---|---|"]
    for row in MODIFIERS.values():
        cells = (row.test, f"`{row.result}`", f"{row.points:+d}" if row.points else "0", row.description, row.anchor)
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |")
    chart = ", ".join(f"{letter} ≥ {low}" for low, letter in GRADE_CHART)
    lines.append("")
    lines.append(
        f"Letter (score rounded down to a multiple of 5, at most 100): {chart}. "
        f"Bonuses count only when the score without them is at least {EXTRA_CREDIT_MINIMUM}."
    )
    return "\n".join(lines) + "\n"
